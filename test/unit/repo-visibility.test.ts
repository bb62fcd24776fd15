/**
 * The extension asks for the narrowest GitHub scope: it asks the API, without a token, whether
 * the repository is public (`public_repo`), and asks for `repo` only when GitHub hides it from an
 * anonymous caller (a private repository: 404, or 401 from GitHub Enterprise in private mode).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { repoVisibility, scopesForVisibility } from '../../extension/logic/repo-visibility.ts';

test('a public repository gets public_repo, a private one repo, asked anonymously of the GitHub-shaped server', async () => {
  const gh = await startFakeGitHub({ tokens: [{ token: 'ghp_owner_token_000000000000000000000001', login: 'acme-admin' }], repos: [{ full_name: 'acme/site' }, { full_name: 'acme/secret', private: true }] });
  try {
    assert.equal(await repoVisibility(gh.url, 'acme/site'), 'public');
    assert.equal(await repoVisibility(gh.url, 'acme/secret'), 'private');
    assert.deepEqual(scopesForVisibility('public'), ['public_repo']);
    assert.deepEqual(scopesForVisibility('private'), ['repo']);
    // No token went with the question: GitHub recorded anonymous requests only.
    const asked = gh.state.requests.filter((r) => r.path === '/repos/acme/site' || r.path === '/repos/acme/secret');
    assert.deepEqual(asked.map((r) => [r.path, r.status, r.login ?? null]), [['/repos/acme/site', 200, null], ['/repos/acme/secret', 404, null]]);
  } finally {
    await gh.close();
  }
});

test('a host that cannot answer leaves the visibility unknown, and the narrow scope is asked', async () => {
  const answer = (status: number, body: unknown = {}): typeof fetch => async () => new Response(JSON.stringify(body), { status });
  assert.equal(await repoVisibility('https://ghe.example/api/v3', 'acme/site', answer(401)), 'private', 'GitHub Enterprise in private mode');
  assert.equal(await repoVisibility('https://api.github.com', 'acme/site', answer(403, { message: 'API rate limit exceeded' })), 'unknown');
  assert.equal(await repoVisibility('https://api.github.com', 'acme/site', async () => { throw new TypeError('fetch failed'); }), 'unknown');
  assert.deepEqual(scopesForVisibility('unknown'), ['public_repo']);
});
