import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Octokit } from '@octokit/rest';
import { readFileSync } from 'node:fs';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { TEMPLATES_FILE, templatesModule } from '../helpers/fake-github/fixtures.ts';

const TOKEN = 'ghp_maintainer';
const WORKER = 'ghp_worker';

async function fake() {
  return startFakeGitHub({
    tokens: [
      { token: TOKEN, login: 'acme-bot', permissions: { issues: 'write', pull_requests: 'read' } },
      { token: WORKER, login: 'alice' },
    ],
    repos: ['acme/site'],
    branches: 'listed',
  });
}

describe('fake GitHub answers like GitHub', () => {
  test('its response templates are the recorded GitHub responses of @octokit/fixtures (run `npm run gen` when this fails)', () => {
    assert.equal(readFileSync(TEMPLATES_FILE, 'utf8'), templatesModule(), `${TEMPLATES_FILE} is stale`);
  });

  test('repo, user and issues have GitHub\'s shapes and headers', async () => {
    const gh = await fake();
    try {
      const octokit = new Octokit({ auth: TOKEN, baseUrl: gh.url });
      const repo = await octokit.rest.repos.get({ owner: 'acme', repo: 'site' });
      assert.equal(repo.status, 200);
      assert.equal(repo.data.full_name, 'acme/site');
      assert.equal(repo.data.url, `${gh.url}/repos/acme/site`);
      assert.equal(repo.data.html_url, 'https://github.com/acme/site');
      assert.match(String(repo.headers.etag), /^W\/"/);
      assert.equal(repo.headers['x-ratelimit-limit'], '5000');
      assert.equal(repo.headers['x-ratelimit-remaining'], '4999');
      const me = await octokit.rest.users.getAuthenticated();
      assert.equal(me.data.login, 'acme-bot');
      gh.state.addIssue('acme/site', { title: 'Fix typo', labels: ['owp', 'owp:area=docs'], body: 'text' });
      const { data: issue } = await octokit.rest.issues.get({ owner: 'acme', repo: 'site', issue_number: 1 });
      assert.equal(issue.title, 'Fix typo');
      assert.deepEqual(issue.labels.map((l) => (typeof l === 'string' ? l : l.name)), ['owp', 'owp:area=docs']);
      assert.equal(issue.html_url, 'https://github.com/acme/site/issues/1');
      assert.equal(gh.state.requests.at(-1)?.login, 'acme-bot');
    } finally {
      await gh.close();
    }
  });

  test('lists paginate with Link headers and filter by label and state', async () => {
    const gh = await fake();
    try {
      for (let i = 1; i <= 7; i += 1) gh.state.addIssue('acme/site', { title: `Issue ${i}`, labels: i % 2 ? ['owp'] : [] });
      gh.state.updateIssue('acme/site', 7, { state: 'closed' });
      const octokit = new Octokit({ auth: TOKEN, baseUrl: gh.url });
      const page1 = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'site', labels: 'owp', per_page: 2 });
      assert.deepEqual(page1.data.map((i) => i.number), [5, 3]);
      assert.match(String(page1.headers.link), /rel="next"/);
      const all = await octokit.paginate(octokit.rest.issues.listForRepo, { owner: 'acme', repo: 'site', labels: 'owp', per_page: 2 });
      assert.deepEqual(all.map((i) => i.number), [5, 3, 1]);
      const closed = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'site', state: 'closed' });
      assert.deepEqual(closed.data.map((i) => i.number), [7]);
      const bad = await octokit.request('GET /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'site', state: 'nope' as 'open' }).catch((e: { status: number; response: { data: unknown } }) => e);
      assert.equal((bad as { status: number }).status, 422);
      assert.deepEqual(((bad as { response: { data: { errors: unknown[] } } }).response.data.errors), [{ resource: 'Issue', code: 'invalid', field: 'state' }]);
    } finally {
      await gh.close();
    }
  });

  test('ETag conditional requests answer 304 and do not count against the rate limit', async () => {
    const gh = await fake();
    try {
      gh.state.addIssue('acme/site', { title: 'A', labels: ['owp'] });
      const headers = { authorization: `token ${TOKEN}` };
      const first = await fetch(`${gh.url}/repos/acme/site/issues?labels=owp`, { headers });
      const etag = first.headers.get('etag') as string;
      const remaining = Number(first.headers.get('x-ratelimit-remaining'));
      const second = await fetch(`${gh.url}/repos/acme/site/issues?labels=owp`, { headers: { ...headers, 'if-none-match': etag } });
      assert.equal(second.status, 304);
      assert.equal(await second.text(), '');
      assert.equal(Number(second.headers.get('x-ratelimit-remaining')), remaining);
      gh.state.addIssue('acme/site', { title: 'B', labels: ['owp'] });
      const third = await fetch(`${gh.url}/repos/acme/site/issues?labels=owp`, { headers: { ...headers, 'if-none-match': etag } });
      assert.equal(third.status, 200);
      assert.equal(((await third.json()) as unknown[]).length, 2);
    } finally {
      await gh.close();
    }
  });

  test('auth, permissions, unknown routes and bad bodies fail the way GitHub fails', async () => {
    const gh = await fake();
    try {
      gh.state.addIssue('acme/site', { title: 'A' });
      const noToken = await fetch(`${gh.url}/user`);
      assert.equal(noToken.status, 401);
      assert.equal(((await noToken.json()) as { message: string }).message, 'Requires authentication');
      const badToken = await fetch(`${gh.url}/repos/acme/site`, { headers: { authorization: 'token nope' } });
      assert.equal(badToken.status, 401);
      assert.equal(((await badToken.json()) as { message: string }).message, 'Bad credentials');
      const anonWrite = await fetch(`${gh.url}/repos/acme/site/issues/1/comments`, { method: 'POST', body: '{"body":"x"}' });
      assert.equal(anonWrite.status, 401);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const unknown = await fetch(`${gh.url}/repos/acme/site/frobnicate`, { headers: auth });
      assert.equal(unknown.status, 404);
      assert.deepEqual(Object.keys((await unknown.json()) as object).sort(), ['documentation_url', 'message', 'status']);
      const wrongMethod = await fetch(`${gh.url}/repos/acme/site/issues/1`, { method: 'DELETE', headers: auth });
      assert.equal(wrongMethod.status, 404);
      const badJson = await fetch(`${gh.url}/repos/acme/site/issues/1/comments`, { method: 'POST', headers: auth, body: '{nope' });
      assert.equal(badJson.status, 400);
      const missing = await fetch(`${gh.url}/repos/acme/site/issues/1/comments`, { method: 'POST', headers: auth, body: '{}' });
      assert.equal(missing.status, 422);
      assert.deepEqual(((await missing.json()) as { errors: unknown }).errors, [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
      const wrongType = await fetch(`${gh.url}/repos/acme/site/issues/1/comments`, { method: 'POST', headers: auth, body: '{"body":5}' });
      assert.equal(wrongType.status, 422);
      const noPrWrite = await fetch(`${gh.url}/repos/acme/site/pulls`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 't', head: 'x', base: 'main' }) });
      assert.equal(noPrWrite.status, 403);
      assert.equal(((await noPrWrite.json()) as { message: string }).message, 'Resource not accessible by personal access token');
      const otherRepo = await fetch(`${gh.url}/repos/acme/nope`, { headers: auth });
      assert.equal(otherRepo.status, 404);
      assert.ok(gh.state.requestsTo('DELETE', '/repos/acme/site/issues/1').length === 1, 'every request is recorded');
    } finally {
      await gh.close();
    }
  });

  test('comments are created, listed, fetched and edited in place', async () => {
    const gh = await fake();
    try {
      gh.state.addIssue('acme/site', { title: 'A' });
      const octokit = new Octokit({ auth: TOKEN, baseUrl: gh.url });
      const created = await octokit.rest.issues.createComment({ owner: 'acme', repo: 'site', issue_number: 1, body: 'one' });
      assert.equal(created.status, 201);
      assert.equal(created.data.user?.login, 'acme-bot');
      await octokit.rest.issues.updateComment({ owner: 'acme', repo: 'site', comment_id: created.data.id, body: 'two' });
      const got = await octokit.rest.issues.getComment({ owner: 'acme', repo: 'site', comment_id: created.data.id });
      assert.equal(got.data.body, 'two');
      const list = await octokit.rest.issues.listComments({ owner: 'acme', repo: 'site', issue_number: 1 });
      assert.equal(list.data.length, 1);
      assert.equal(gh.state.commentsOn('acme/site', 1)[0]?.body, 'two');
    } finally {
      await gh.close();
    }
  });

  test('pull requests are opened as the token\'s user, with head branches checked and commit verification', async () => {
    const gh = await fake();
    try {
      gh.state.addIssue('acme/site', { title: 'A' });
      const alice = new Octokit({ auth: WORKER, baseUrl: gh.url });
      const missingBranch = await alice.rest.pulls.create({ owner: 'acme', repo: 'site', title: 'T', head: 'owp/T-1-a', base: 'main' }).catch((e: { status: number }) => e);
      assert.equal((missingBranch as { status: number }).status, 422);
      gh.state.addBranch('acme/site', 'owp/T-1-a', { commits: [{ verified: true }] });
      const pr = await alice.rest.pulls.create({ owner: 'acme', repo: 'site', title: 'T', head: 'owp/T-1-a', base: 'main', body: 'Closes #1' });
      assert.equal(pr.status, 201);
      assert.equal(pr.data.user?.login, 'alice');
      assert.equal(pr.data.head.ref, 'owp/T-1-a');
      assert.equal(pr.data.html_url, `https://github.com/acme/site/pull/${pr.data.number}`);
      const again = await alice.rest.pulls.create({ owner: 'acme', repo: 'site', title: 'T', head: 'owp/T-1-a', base: 'main' }).catch((e: { status: number }) => e);
      assert.equal((again as { status: number }).status, 422);
      const commits = await alice.rest.pulls.listCommits({ owner: 'acme', repo: 'site', pull_number: pr.data.number });
      assert.equal(commits.data[0]?.commit.verification?.verified, true);
      const issues = await alice.rest.issues.listForRepo({ owner: 'acme', repo: 'site' });
      assert.ok(issues.data.some((i) => i.number === pr.data.number && i.pull_request), 'PRs show in the issues list, as on GitHub');
      gh.state.mergePull('acme/site', pr.data.number);
      const merged = await alice.rest.pulls.get({ owner: 'acme', repo: 'site', pull_number: pr.data.number });
      assert.equal(merged.data.merged, true);
      assert.equal(merged.data.state, 'closed');
      assert.equal(gh.state.issue('acme/site', 1).state, 'closed', 'merging closes the issue the PR says it closes');
      const open = await alice.rest.pulls.list({ owner: 'acme', repo: 'site', state: 'open' });
      assert.equal(open.data.length, 0);
    } finally {
      await gh.close();
    }
  });

  test('rate limits answer 403 with X-RateLimit-Reset or Retry-After', async () => {
    const gh = await fake();
    try {
      const headers = { authorization: `token ${TOKEN}` };
      gh.state.exhaustRateLimit(60_000);
      const primary = await fetch(`${gh.url}/repos/acme/site`, { headers });
      assert.equal(primary.status, 403);
      assert.equal(primary.headers.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(primary.headers.get('x-ratelimit-reset')) * 1000 > Date.now());
      gh.state.exhaustRateLimit(0);
      gh.state.secondaryRateLimit(1, 2);
      const secondary = await fetch(`${gh.url}/repos/acme/site`, { headers });
      assert.equal(secondary.status, 403);
      assert.equal(secondary.headers.get('retry-after'), '2');
      assert.equal((await fetch(`${gh.url}/repos/acme/site`, { headers })).status, 200);
    } finally {
      await gh.close();
    }
  });

  test('runs as its own process and prints its URL; /_fake/ routes seed it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/fake-github/cli.ts', '--port', '0', '--token', `${TOKEN}=acme-bot`, '--repo', 'acme/site'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`fake GitHub exited with ${code}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      const seeded = await fetch(`${url}/_fake/repos/acme/site/issues`, { method: 'POST', body: JSON.stringify({ title: 'Seeded', labels: ['owp'] }) });
      assert.equal(((await seeded.json()) as { number: number }).number, 1);
      const octokit = new Octokit({ auth: TOKEN, baseUrl: url });
      const { data } = await octokit.rest.issues.get({ owner: 'acme', repo: 'site', issue_number: 1 });
      assert.equal(data.title, 'Seeded');
      const requests = (await (await fetch(`${url}/_fake/requests`)).json()) as Array<{ path: string; login: string }>;
      assert.deepEqual(requests.map((r) => [r.path, r.login]), [['/repos/acme/site/issues/1', 'acme-bot']]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
