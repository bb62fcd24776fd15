/**
 * Marking the volunteer's draft PR ready for review (client/ready-for-review.ts) through GitHub's
 * GraphQL API on the GitHub-shaped server: the PR's author may, with a token that writes pull
 * requests; a stranger or a read-only token may not; a PR already out of draft costs no write;
 * GitHub Enterprise's endpoint is /api/graphql; the webhook `pull_request.ready_for_review` goes out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { volunteerOctokit } from '../../client/github-api.ts';
import { markReadyForReview, ReadyForReviewError } from '../../client/ready-for-review.ts';

const REPO = 'acme/site';
const TOKENS = [
  { token: 'ghp_alice', login: 'alice' },
  { token: 'ghp_bob', login: 'bob' },
  { token: 'ghp_alice_read', login: 'alice', permissions: { pull_requests: 'read' as const } },
];

test('the author marks their draft ready for review with GraphQL; no second write; the webhook goes out', async () => {
  const received: Array<{ event: string; action: string; draft: boolean; signed: boolean }> = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const payload = JSON.parse(body) as { action: string; pull_request?: { draft: boolean } };
      const signed = req.headers['x-hub-signature-256'] === `sha256=${createHmac('sha256', 'hook-secret').update(body).digest('hex')}`;
      received.push({ event: String(req.headers['x-github-event']), action: payload.action, draft: payload.pull_request?.draft ?? true, signed });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', () => resolve()));
  const gh = await startFakeGitHub({ tokens: TOKENS, repos: [REPO, { full_name: 'alice/site', fork_of: REPO }] });
  gh.state.webhook = { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`, secret: 'hook-secret' };
  try {
    const number = gh.state.openPull(REPO, 'alice', { head: 'alice:owp/T-1-docs', title: 'Docs', draft: true });
    const alice = volunteerOctokit({ token: 'ghp_alice', apiBaseUrl: gh.url });

    // The REST answer's node_id is the GraphQL id.
    const { data: rest } = await alice.rest.pulls.get({ owner: 'acme', repo: 'site', pull_number: number });
    const viaGraphql = await alice.graphql<{ repository: { pullRequest: { id: string; isDraft: boolean } } }>('query($n: Int!) { repository(owner: "acme", name: "site") { pullRequest(number: $n) { id isDraft } } }', { n: number });
    assert.equal(viaGraphql.repository.pullRequest.id, rest.node_id);
    assert.equal(viaGraphql.repository.pullRequest.isDraft, true);

    const result = await markReadyForReview(alice, { owner: 'acme', repo: 'site', number });
    assert.deepEqual(result, { changed: true, url: `${gh.htmlUrl}/${REPO}/pull/${number}` });
    assert.equal(gh.state.issue(REPO, number).pull?.draft, false);
    await gh.state.settled();
    assert.deepEqual(received.filter((d) => d.action === 'ready_for_review'), [{ event: 'pull_request', action: 'ready_for_review', draft: false, signed: true }]);

    const writes = (): number => gh.state.requestsTo('POST', '/graphql').filter((r) => /mutation/.test(String((r.body as { query?: string }).query))).length;
    assert.equal(writes(), 1);
    assert.deepEqual(await markReadyForReview(alice, { owner: 'acme', repo: 'site', number }), { changed: false, url: result.url });
    assert.equal(writes(), 1, 'a PR out of draft is only read');
  } finally {
    await gh.close();
    await new Promise<void>((resolve) => hook.close(() => resolve()));
  }
});

test('a stranger, a read-only token and a missing PR are refused with what to do; the PR stays a draft', async () => {
  const gh = await startFakeGitHub({ tokens: TOKENS, repos: [REPO, { full_name: 'alice/site', fork_of: REPO }] });
  try {
    const number = gh.state.openPull(REPO, 'alice', { head: 'alice:owp/T-2-docs', title: 'Docs', draft: true });
    const ref = { owner: 'acme', repo: 'site', number };
    for (const token of ['ghp_bob', 'ghp_alice_read']) {
      await assert.rejects(markReadyForReview(volunteerOctokit({ token, apiBaseUrl: gh.url }), ref), (e: unknown) => {
        assert.ok(e instanceof ReadyForReviewError);
        assert.equal(e.reason, 'FORBIDDEN');
        assert.match(e.message, /did not let your token mark acme\/site#\d+ ready for review .*Pull requests read and write/);
        return true;
      });
    }
    assert.equal(gh.state.issue(REPO, number).pull?.draft, true);
    await assert.rejects(markReadyForReview(volunteerOctokit({ token: 'ghp_alice', apiBaseUrl: gh.url }), { ...ref, number: 999 }), (e: unknown) => e instanceof ReadyForReviewError && e.reason === 'NOT_FOUND' && /PullRequest with the number of 999/.test(e.message));
    await assert.rejects(markReadyForReview(volunteerOctokit({ token: 'ghp_nobody', apiBaseUrl: gh.url }), ref), (e: unknown) => e instanceof ReadyForReviewError && e.reason === '401');
  } finally {
    await gh.close();
  }
});

test('GraphQL as GitHub answers it: 401 without a token, 200 with errors for a bad query, Enterprise at /api/graphql', async () => {
  const gh = await startFakeGitHub({ tokens: TOKENS, repos: [REPO, { full_name: 'alice/site', fork_of: REPO }], layout: 'enterprise' });
  try {
    const origin = gh.url.replace(/\/api\/v3$/, '');
    const post = (body: unknown, token?: string): Promise<Response> =>
      fetch(`${origin}/api/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const anonymous = await post({ query: '{ viewer { login } }' });
    assert.equal(anonymous.status, 401);
    assert.match(((await anonymous.json()) as { message: string }).message, /requires you to be authenticated/);
    const viewer = await post({ query: '{ viewer { login } }' }, 'ghp_alice');
    assert.deepEqual(await viewer.json(), { data: { viewer: { login: 'alice' } } });
    const bad = await post({ query: '{ viewer { email } }' }, 'ghp_alice');
    assert.equal(bad.status, 200);
    const errors = ((await bad.json()) as { errors: Array<{ message: string }> }).errors;
    assert.match(errors[0]!.message, /Cannot query field "email" on type "Actor"/);
    const unknownRepo = (await (await post({ query: '{ repository(owner: "acme", name: "nope") { id } }' }, 'ghp_alice')).json()) as { data: unknown; errors: Array<{ type: string; path: string[] }> };
    assert.deepEqual(unknownRepo.data, { repository: null });
    assert.deepEqual([unknownRepo.errors[0]!.type, unknownRepo.errors[0]!.path], ['NOT_FOUND', ['repository']]);

    // Octokit's Enterprise base URL (…/api/v3) reaches it too.
    const number = gh.state.openPull(REPO, 'alice', { head: 'alice:owp/T-3-docs', title: 'Docs', draft: true });
    assert.equal((await markReadyForReview(volunteerOctokit({ token: 'ghp_alice', apiBaseUrl: gh.url }), { owner: 'acme', repo: 'site', number })).changed, true);
  } finally {
    await gh.close();
  }
});
