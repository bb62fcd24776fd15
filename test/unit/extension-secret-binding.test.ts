/**
 * A repository's settings cannot move the volunteer's secrets (extension/logic/secret-binding.ts):
 * a workspace `.vscode/settings.json` naming another coordinator or GitHub API is ignored for the
 * settings that decide where tokens go, and each saved token is handed out only for its own origin.
 * Broken variants: reading `config.get()` (merged, workspace wins) makes the first test fail; a
 * bare token in SecretStorage (the old promptForToken) is handed to any host and fails the second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { encodeBound, githubScopes, originOf, secretFor, userLevelSetting } from '../../extension/logic/secret-binding.ts';
import { GITHUB_SCOPES } from '../../extension/constants.ts';

test('a workspace value for owp.coordinatorUrl / githubApiUrl / aiTool is ignored and reported', () => {
  // What VS Code's inspect() answers for a cloned repo whose .vscode/settings.json tries to move them.
  const workspaceSettings = JSON.parse('{"owp.coordinatorUrl": "https://evil.example", "owp.githubApiUrl": "https://evil.example/api/v3", "owp.aiTool": "aider"}') as Record<string, string>;
  const coordinator = userLevelSetting({ defaultValue: 'http://127.0.0.1:8787', globalValue: 'https://owp.example.org', workspaceValue: workspaceSettings['owp.coordinatorUrl'] }, '');
  assert.deepEqual(coordinator, { value: 'https://owp.example.org', ignored: 'https://evil.example' });
  const api = userLevelSetting({ defaultValue: 'https://api.github.com', workspaceFolderValue: workspaceSettings['owp.githubApiUrl'] }, '');
  assert.deepEqual(api, { value: 'https://api.github.com', ignored: 'https://evil.example/api/v3' });
  assert.deepEqual(userLevelSetting({ defaultValue: 'auto', workspaceValue: workspaceSettings['owp.aiTool'] }, 'auto').value, 'auto');
  assert.deepEqual(userLevelSetting({ defaultValue: 'auto', globalValue: 'aider' }, 'auto'), { value: 'aider' });
  assert.deepEqual(userLevelSetting(undefined, 'x'), { value: 'x' });
});

test('the manifest makes those settings application-scoped (VS Code then ignores workspace values too)', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { contributes: { configuration: { properties: Record<string, { scope?: string }> } } };
  const props = manifest.contributes.configuration.properties;
  for (const key of ['owp.coordinatorUrl', 'owp.githubApiUrl', 'owp.aiTool']) assert.equal(props[key]?.scope, 'application', key);
});

test('a saved token is handed out only for the origin it was saved for', () => {
  const github = encodeBound('ghp_volunteer', 'https://api.github.com/');
  assert.deepEqual(secretFor(github, 'https://api.github.com', 'GitHub token'), { token: 'ghp_volunteer' });
  const moved = secretFor(github, 'https://evil.example/api/v3', 'GitHub token');
  assert.ok(moved && 'refused' in moved && /belongs to https:\/\/api\.github\.com.*does not send it to https:\/\/evil\.example/.test(moved.refused), JSON.stringify(moved));
  assert.ok(secretFor(github, 'http://api.github.com', 'GitHub token') && 'refused' in (secretFor(github, 'http://api.github.com', 'GitHub token') as object), 'the scheme is part of the origin');
  const maintainer = encodeBound('owp_m_x', 'http://127.0.0.1:8787');
  assert.deepEqual(secretFor(maintainer, 'http://127.0.0.1:8787/', 'maintainer token'), { token: 'owp_m_x' });
  assert.ok('refused' in (secretFor(maintainer, 'http://127.0.0.1:9999', 'maintainer token') as object));
  // Saved before binding: the GitHub token counts as github.com's; a bare maintainer token is asked for again.
  assert.deepEqual(secretFor('ghp_old', 'https://api.github.com', 'GitHub token', 'https://api.github.com'), { token: 'ghp_old' });
  assert.ok('refused' in (secretFor('ghp_old', 'https://ghe.example/api/v3', 'GitHub token', 'https://api.github.com') as object));
  assert.ok('refused' in (secretFor('owp_m_old', 'http://127.0.0.1:8787', 'maintainer token') as object));
  assert.equal(secretFor(undefined, 'https://api.github.com', 'GitHub token'), undefined);
  assert.throws(() => encodeBound('t', 'javascript:alert(1)'));
  assert.equal(originOf('file:///etc/passwd'), undefined);
});

test('the extension asks GitHub for public_repo, and repo only for a private repository', () => {
  assert.deepEqual(GITHUB_SCOPES, ['public_repo']);
  assert.deepEqual(githubScopes(true), ['repo']);
});
