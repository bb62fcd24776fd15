import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../cli/commands/github.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';

test('owp github check reports what each token can and cannot do, writing nothing', async (t) => {
  const gh = await startFakeGitHub({
    tokens: [
      { token: 'ghp_good', login: 'owp-bot', permissions: { issues: 'write', pull_requests: 'read' } },
      { token: 'ghp_no_prs', login: 'owp-bot', permissions: { issues: 'read', pull_requests: 'none' } },
      { token: 'ghp_no_issues', login: 'owp-bot', permissions: { issues: 'none', pull_requests: 'read' } },
    ],
    repos: ['acme/site', 'acme/api', { full_name: 'acme/web', files: { '.owp.yml': 'test: npm test\nci:\n  checks: build\n' } }],
  });
  gh.state.addIssue('acme/web', { title: 'One issue', labels: ['owp'] });
  const dir = tempDir('owp-github-check-');
  const lines: string[] = [];
  t.mock.method(console, 'log', (line: string) => lines.push(line));
  try {
    const config = join(dir, 'owp.yml');
    writeFileSync(config, `github:\n  api_url: ${gh.url}\n  repos:\n    - repo: acme/site\n      token_env: OWP_CHECK_GOOD\n      comments: true\n    - repo: acme/api\n      token_env: OWP_CHECK_NO_PRS\n    - repo: acme/web\n      token_env: OWP_CHECK_NO_ISSUES\n`);
    process.env.OWP_CHECK_GOOD = 'ghp_good';
    process.env.OWP_CHECK_NO_PRS = 'ghp_no_prs';
    process.env.OWP_CHECK_NO_ISSUES = 'ghp_no_issues';
    assert.equal(await run(['check', '--config', config]), 1);
    const text = lines.join('\n');
    assert.match(text, /acme\/site\n {2}ok {3}read the repo\n {2}ok {3}list issues labelled owp\n {2}ok {3}read pull requests\n {2}ok {3}read the head of main\n {2}ok {3}read \.owp\.yml and \.owp\/policy\.yml on main\n {2}ok {3}read check runs\n {2}ok {3}read commit statuses/);
    // A token without Issues access fails on reading an issue, whatever the list says.
    assert.match(text, /acme\/web[\s\S]*FAIL (list issues labelled owp|read issue #1) — "Issues: Read-only" is missing \(403\)/);
    assert.match(text, /acme\/site[\s\S]*acme\/web/);
    // An invalid contract on the default branch: the problem with its file, line and column.
    assert.match(text, /acme\/web[\s\S]*FAIL validate the files on main[\s\S]*\.owp\.yml:3:11: error: /);
    assert.match(text, /acme\/api[\s\S]*FAIL read pull requests — "Pull requests: Read-only" is missing \(403\)/);
    assert.match(text, /Issues: Read and write/);
    assert.ok(gh.state.requests.every((r) => r.method === 'GET'), 'the check writes nothing');
  } finally {
    delete process.env.OWP_CHECK_GOOD;
    delete process.env.OWP_CHECK_NO_PRS;
    delete process.env.OWP_CHECK_NO_ISSUES;
    rmSync(dir, { recursive: true, force: true });
    await gh.close();
  }
});

test('owp github check as a GitHub App: its login, its installation\'s repos, each checked with an installation token', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const gh = await startFakeGitHub({
    repos: ['acme/site', 'acme/api'],
    apps: [{ id: 4242, slug: 'owp-app', publicKey: keys.publicKey, installations: [{ id: 77, account: 'acme', repositories: ['acme/site'] }] }],
  });
  const dir = tempDir('owp-github-check-');
  const lines: string[] = [];
  t.mock.method(console, 'log', (line: string) => lines.push(line));
  try {
    const key = join(dir, 'app.pem');
    writeFileSync(key, keys.privateKey);
    const config = join(dir, 'owp.yml');
    writeFileSync(config, `github:\n  api_url: ${gh.url}\n  app:\n    id: 4242\n    private_key_file: ${key}\n  webhook_secret_env: OWP_CHECK_HOOK\n`);
    process.env.OWP_CHECK_HOOK = 'hook-secret';
    assert.equal(await run(['check', '--config', config]), 0, lines.join('\n'));
    const text = lines.join('\n');
    assert.match(text, /GitHub App 4242: ok, writes as owp-app\[bot\]/);
    assert.match(text, /installation 77 \(acme\): 1 repo\(s\)\nacme\/site\n {2}ok {3}read the repo/);
    assert.doesNotMatch(text, /acme\/api/, 'only what the installation reaches');
    assert.match(text, /Installation repositories/);
    assert.ok(gh.state.requests.every((r) => r.method === 'GET' || r.path === '/app/installations/77/access_tokens'), 'nothing written but the token');
  } finally {
    delete process.env.OWP_CHECK_HOOK;
    rmSync(dir, { recursive: true, force: true });
    await gh.close();
  }
});
