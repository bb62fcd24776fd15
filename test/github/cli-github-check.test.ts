import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../cli/commands/github.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { suspendInstallation, uninstallApp } from '../../cli/demo/github/installation-events.ts';

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

test('owp github check names a disconnected App installation (suspended, uninstalled) and a listed repo no installation reaches, with what to do', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const gh = await startFakeGitHub({
    repos: ['acme/site', 'beta/app'],
    apps: [{ id: 4242, slug: 'owp-app', publicKey: keys.publicKey, installations: [{ id: 77, account: 'acme', repositories: ['acme/site'] }, { id: 88, account: 'beta', repositories: ['beta/app'] }] }],
  });
  const dir = tempDir('owp-github-check-');
  let lines: string[] = [];
  t.mock.method(console, 'log', (line: string) => lines.push(line));
  const check = async (extra = ''): Promise<{ code: number; text: string }> => {
    lines = [];
    const config = join(dir, 'owp.yml');
    writeFileSync(config, `github:\n  api_url: ${gh.url}\n  app:\n    id: 4242\n    private_key_file: ${join(dir, 'app.pem')}\n${extra}`);
    const code = await run(['check', '--config', config]);
    return { code, text: lines.join('\n') };
  };
  try {
    writeFileSync(join(dir, 'app.pem'), keys.privateKey);
    assert.equal((await check()).code, 0, 'both installations work');

    // beta suspends its installation: its tokens are refused, and the check says so instead of failing on a 403.
    suspendInstallation(gh.state, 88, true, 'beta-owner');
    let r = await check('  repos:\n    - repo: beta/app\n');
    assert.equal(r.code, 1);
    assert.match(r.text, /installation 88 \(beta\): FAIL suspended since \S+ by beta-owner — GitHub refuses its tokens \(403\), so the coordinator is disconnected from its repos\. To reconnect, whoever suspended it unsuspends it: /);
    assert.match(r.text, /installation 77 \(acme\): 1 repo\(s\)\nacme\/site\n {2}ok {3}read the repo/, 'the other installation is still checked');
    assert.doesNotMatch(r.text, /beta\/app\n {2}FAIL listed/, 'the suspended installation\'s repo is named with it, not twice');
    suspendInstallation(gh.state, 88, false, 'beta-owner');

    // beta uninstalls the App; the config still pins its installation and lists its repo.
    uninstallApp(gh.state, 88, 'beta-owner');
    r = await check('    installation_id: 88\n  repos:\n    - repo: beta/app\n');
    assert.equal(r.code, 1);
    assert.match(r.text, /FAIL installation 88 is not an installation of this App \(it was uninstalled, or belongs to another App\): the coordinator is disconnected from it\. Install the App again and set app\.installation_id to the new id, or remove installation_id to use every installation\. Installed now: 77 \(acme\)/);
    assert.match(r.text, /beta\/app\n {2}FAIL listed in the config's repos, but no usable installation of the App reaches it: add it to the installation's repository access \(or install the App on beta\)/);

    // Without the pin, acme's installation is checked and the listed beta repo is still named.
    r = await check('  repos:\n    - repo: beta/app\n');
    assert.equal(r.code, 1);
    assert.match(r.text, /installation 77 \(acme\): 1 repo\(s\)/);
    assert.match(r.text, /beta\/app\n {2}FAIL listed in the config's repos/);

    uninstallApp(gh.state, 77, 'acme');
    r = await check();
    assert.equal(r.code, 1);
    assert.match(r.text, /FAIL the App is not installed anywhere \(uninstalled, or never installed\): install it on the repos to connect/);
    assert.ok(gh.state.requests.every((q) => q.method === 'GET' || /^\/app\/installations\/\d+\/access_tokens$/.test(q.path)), 'nothing written but tokens');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await gh.close();
  }
});
