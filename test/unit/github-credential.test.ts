/**
 * `owp submit`'s GitHub token (cli/github-credential.ts): a github.com token from the environment
 * is not sent to the host an origin remote names; a token file or stdin replaces argv; a literal
 * --github-token warns. Broken variant: the old `values['github-token'] ?? $GITHUB_TOKEN` sent the
 * token to whatever API host the remote implied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { githubCredential } from '../../cli/github-credential.ts';
import { Output } from '../../cli/output.ts';
import { tempDir } from '../helpers/coordinator.ts';

test('a github.com token from the environment goes only to api.github.com unless the API host was given on purpose', async () => {
  const saved = { GITHUB_TOKEN: process.env.GITHUB_TOKEN, OWP_GITHUB_TOKEN: process.env.OWP_GITHUB_TOKEN, GH_TOKEN: process.env.GH_TOKEN };
  const dir = tempDir('owp-cred-');
  const warnings: string[] = [];
  const out = new Output({ json: true });
  out.warn = (m: string) => void warnings.push(m);
  try {
    delete process.env.OWP_GITHUB_TOKEN;
    delete process.env.GH_TOKEN;
    process.env.GITHUB_TOKEN = 'ghp_dotcom';
    assert.equal(await githubCredential('https://api.github.com', { apiGiven: false }, out), 'ghp_dotcom');
    await assert.rejects(githubCredential('https://evil.example/api/v3', { apiGiven: false }, out), /points at evil\.example.*does not send it/);
    assert.equal(await githubCredential('https://ghe.example/api/v3', { apiGiven: true }, out), 'ghp_dotcom', '--github-api is the volunteer saying so');
    process.env.OWP_GITHUB_TOKEN = 'ghp_owp';
    assert.equal(await githubCredential('https://api.github.com', { apiGiven: false }, out), 'ghp_owp', 'OWP_GITHUB_TOKEN comes first');
    const file = join(dir, 'token');
    writeFileSync(file, 'ghp_from_file\n', { mode: 0o600 });
    assert.equal(await githubCredential('https://ghe.example/api/v3', { tokenFile: file, apiGiven: false }, out), 'ghp_from_file');
    assert.deepEqual(warnings, []);
    assert.equal(await githubCredential('https://api.github.com', { token: 'ghp_argv', apiGiven: false }, out), 'ghp_argv');
    assert.match(warnings[0] ?? '', /process list and your shell history/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
