import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseContract, DEFAULT_CONTRACT } from '../../client/contract.ts';
import { openPullRequest, pullRequestBody, pullRequestTitle, PullRequestError } from '../../client/pull-request.ts';

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/** A local server shaped like GitHub's REST API for POST /repos/{owner}/{repo}/pulls. */
async function githubLike(pushedBranches: string[]): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  let next = 7;
  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    received.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
    const send = (status: number, data: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(data));
    };
    if (req.headers.authorization !== 'token good-token') return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    const match = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(req.url!);
    if (!match || req.method !== 'POST') return send(404, { message: 'Not Found', status: '404' });
    if (match[2] !== 'hello-owp') return send(404, { message: 'Not Found', status: '404' });
    const head = String(body.head);
    if (!pushedBranches.includes(head)) {
      return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }], status: '422' });
    }
    const number = next++;
    send(201, { number, html_url: `http://github.local/${match[1]}/${match[2]}/pull/${number}`, draft: body.draft, head: { ref: head }, base: { ref: body.base } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`, received };
}

const task = { id: 'T-4', title: 'Fix typos in the guide', body: 'typos', issue: { number: 104, url: 'https://github.com/octo-org/hello-owp/issues/104' } };

test('opens a draft PR with the contract title, body, attribution and Closes #N', async () => {
  const gh = await githubLike(['owp/T-4-fix-typos']);
  try {
    const opened = await openPullRequest({
      token: 'good-token', owner: 'octo-org', repo: 'hello-owp', head: 'owp/T-4-fix-typos', base: 'main',
      task, contract: DEFAULT_CONTRACT, apiBaseUrl: gh.url, attribution: 'Opened by @alice with Claude Code via OWP.', summary: 'Fixed three typos.',
    });
    assert.deepEqual(opened, { url: 'http://github.local/octo-org/hello-owp/pull/7', number: 7, draft: true });
    const sent = gh.received[0]!;
    assert.equal(sent.body.title, 'Fix typos in the guide (OWP T-4)');
    assert.equal(sent.body.draft, true);
    assert.equal(sent.body.base, 'main');
    const body = String(sent.body.body);
    assert.match(body, /^Fixed three typos\./);
    assert.match(body, /Closes #104/);
    assert.match(body, /- \[x\] Tests pass locally/);
    assert.match(body, /Opened by @alice with Claude Code via OWP\./);
  } finally {
    gh.server.close();
  }
});

test('errors say what to do', async () => {
  const gh = await githubLike([]);
  const base = { owner: 'octo-org', repo: 'hello-owp', head: 'owp/T-4-x', base: 'main', task, contract: DEFAULT_CONTRACT, apiBaseUrl: gh.url };
  try {
    await assert.rejects(openPullRequest({ ...base, token: 'bad' }), (e: PullRequestError) => e.status === 401 && /rejected your token/.test(e.message));
    await assert.rejects(openPullRequest({ ...base, token: 'good-token' }), (e: PullRequestError) => e.status === 422 && /not pushed/.test(e.message));
    await assert.rejects(openPullRequest({ ...base, token: 'good-token', repo: 'nope' }), (e: PullRequestError) => e.status === 404 && /cannot see octo-org\/nope/.test(e.message));
  } finally {
    gh.server.close();
  }
  await assert.rejects(openPullRequest({ ...base, token: 'good-token' }), (e: PullRequestError) => e.status === undefined && /Cannot reach GitHub/.test(e.message));
});

test('templates: custom title, no issue, untrusted title flattened, closing keyword added', () => {
  const contract = parseContract('pr:\n  title: "[{task_id}] {title}"\n  body: "{body}\\n\\nFixes #{issue_number}\\n{attribution}"\n  draft: false');
  assert.equal(pullRequestTitle(contract, { ...task, title: 'Evil\ntitle\u0000here' }), '[T-4] Evil title here');
  const noIssue = pullRequestBody({ contract, task: { id: 'T-5', title: 't', body: '' } });
  assert.doesNotMatch(noIssue, /#/);
  const custom = parseContract('pr:\n  body: "{body}"');
  assert.match(pullRequestBody({ contract: custom, task }), /Closes #104$/);
});
