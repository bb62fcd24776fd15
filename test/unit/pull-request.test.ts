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

test('a stranger\'s issue title cannot mention people or close other issues from the volunteer\'s PR', async () => {
  // Broken variant: the old body put oneLine(task.title) in as is, so "@everyone" notified and "fixes #99" closed #99.
  const { pullRequestBody: body, pullRequestTitle: title } = await import('../../client/pull-request.ts');
  const { DEFAULT_CONTRACT } = await import('../../client/contract.ts');
  const { inertForGitHub } = await import('../../protocol/untrusted-text.ts');
  const task = { id: 'T-7', title: 'Typo; fixes #99, Closes: acme/other#3, resolves https://github.com/acme/x/issues/4, cc @maintainer @acme/core', body: '', issue: { number: 12, url: 'https://github.com/acme/site/issues/12' } };
  const text = body({ contract: DEFAULT_CONTRACT, task });
  const shown = `${title(DEFAULT_CONTRACT, task)}\n${text}`;
  for (const pattern of [/\bfixes #99/i, /\bcloses: acme\/other#3/i, /\bresolves https:/i, /(^|\s)@maintainer/, /(^|\s)@acme\/core/]) assert.doesNotMatch(shown, pattern, String(pattern));
  assert.match(text, /^Closes #12$/m, 'the contract\'s own line still closes the task\'s issue');
  assert.equal((text.match(/\bCloses #\d+/g) ?? []).length, 1);
  assert.equal(shown.replace(/\u200d/g, '').includes('fixes #99'), true, 'the words are all still there to read');
  assert.equal(inertForGitHub('email me at a@b.org, run `npm i @types/node`'), 'email me at a@b.org, run `npm i @types/node`', 'e-mail addresses and code are left alone');
  assert.equal(inertForGitHub('prefix fixed-width'), 'prefix fixed-width');
});
