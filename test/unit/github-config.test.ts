import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGitHubConfig, resolveGitHubSecrets, webUrlFor } from '../../coordinator/github/config.ts';
import { nextStanding } from '../../coordinator/github/reputation.ts';
import { loadConfigFile } from '../../coordinator/config.ts';

describe('github config', () => {
  test('defaults, GitHub Enterprise URLs and per-repo settings', () => {
    const c = parseGitHubConfig({ repos: ['acme/site', { repo: 'acme/api', label: 'help-owp', comments: true, branch: 'owp-{task_id}' }] });
    assert.equal(c.api_url, 'https://api.github.com');
    assert.equal(c.web_url, 'https://github.com');
    assert.equal(c.webhook_path, '/webhooks/github');
    assert.equal(c.poll_interval_ms, 60_000);
    assert.deepEqual(c.repos.map((r) => [r.repo, r.label, r.comments, r.branch, r.body_block, r.verify_prs]), [
      ['acme/site', 'owp', false, 'owp/{task_id}-{slug}', 'maintainers', true],
      ['acme/api', 'help-owp', true, 'owp-{task_id}', 'maintainers', true],
    ]);
    assert.equal(webUrlFor('https://ghe.example.com/api/v3'), 'https://ghe.example.com');
    assert.equal(parseGitHubConfig({ api_url: 'https://ghe.example.com/api/v3/', repos: ['a/b'] }).web_url, 'https://ghe.example.com');
  });

  test('mistakes are refused with a message that names them', () => {
    assert.throws(() => parseGitHubConfig({ repos: [] }), /repos must list at least one repo/);
    assert.throws(() => parseGitHubConfig({ repos: ['not-a-repo'] }), /repo must be owner\/name/);
    assert.throws(() => parseGitHubConfig({ repos: ['a/b', 'A/B'] }), /listed twice/);
    assert.throws(() => parseGitHubConfig({ repos: [{ repo: 'a/b', branch: 'feature/{slug}' }] }), /must contain \{task_id\}/);
    assert.throws(() => parseGitHubConfig({ repos: ['a/b'], token: 'ghp_inline' }), /unknown setting\(s\) token/);
    assert.throws(() => parseGitHubConfig({ repos: ['a/b'], reputation: { max_trust: 9 } }), /max_trust/);
  });

  test('tokens and the webhook secret come from the environment or files, never the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'owp-gh-config-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, 'ghp_from_file\n');
      const c = parseGitHubConfig({ token_env: 'GH_TOKEN_ALL', webhook_secret_file: file, repos: ['a/b', { repo: 'a/c', token_file: file }] });
      const secrets = resolveGitHubSecrets(c, { GH_TOKEN_ALL: 'ghp_from_env' });
      assert.equal(secrets.tokens.get('a/b'), 'ghp_from_env');
      assert.equal(secrets.tokens.get('a/c'), 'ghp_from_file');
      assert.equal(secrets.webhookSecret, 'ghp_from_file');
      assert.throws(() => resolveGitHubSecrets(c, {}), /GH_TOKEN_ALL is not set/);
      assert.throws(() => resolveGitHubSecrets(parseGitHubConfig({ repos: ['a/b'] }), {}), /no token for a\/b/);

      const configFile = join(dir, 'owp.yml');
      writeFileSync(configFile, 'port: 0\ngithub:\n  token_env: GH\n  repos:\n    - repo: acme/site\n      comments: true\n');
      assert.equal((loadConfigFile(configFile).github as { repos: unknown[] }).repos.length, 1);
      writeFileSync(configFile, 'github:\n  repos: []\n');
      assert.throws(() => loadConfigFile(configFile), /github config: repos must list/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reputation (BOINC-style)', () => {
  const config = { promote_after_merged: 3, demote_on_closed: 1, max_trust: 2, enabled: true, decay_half_life_days: 0 };
  test('N merged PRs in a row at the worker\'s level raise trust by one, up to max_trust', () => {
    let s = { trust: 0, streak: 0 };
    s = nextStanding(config, s, 'merged', 0);
    s = nextStanding(config, s, 'merged', 0);
    assert.deepEqual(s, { trust: 0, streak: 2 });
    s = nextStanding(config, s, 'merged', 0);
    assert.deepEqual(s, { trust: 1, streak: 0 });
    assert.deepEqual(nextStanding(config, s, 'merged', 0), s, 'work below the worker\'s level does not count');
    s = { trust: 2, streak: 2 };
    assert.deepEqual(nextStanding(config, s, 'merged', 3), { trust: 2, streak: 3 }, 'never above max_trust');
  });
  test('a PR closed without merging resets the streak and lowers trust', () => {
    assert.deepEqual(nextStanding(config, { trust: 2, streak: 2 }, 'closed', 2), { trust: 1, streak: 0 });
    assert.deepEqual(nextStanding(config, { trust: 0, streak: 1 }, 'closed', 0), { trust: 0, streak: 0 });
    assert.deepEqual(nextStanding({ ...config, demote_on_closed: 0 }, { trust: 2, streak: 2 }, 'closed', 2), { trust: 2, streak: 0 });
  });
});
