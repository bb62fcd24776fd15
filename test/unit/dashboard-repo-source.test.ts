import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoSourceLines } from '../../media/dashboard/repo-source.ts';
import { defaultRepoSettings } from '../../coordinator/state/records.ts';

test('the repo card says which commit is in force, what the config sets, and each refused problem with file:line:column', () => {
  const settings = {
    ...defaultRepoSettings('acme/site'),
    required_checks: ['build'],
    source: {
      from: 'github' as const, ref: 'main', sha: 'a'.repeat(40), read_at: 1,
      files: [{ path: '.owp.yml', present: true }, { path: '.owp/policy.yml', present: false }],
      origins: { required_checks: 'contract' as const, max_open_prs: 'config' as const },
      rejected: { sha: 'b'.repeat(40), at: 2, problems: [{ file: '.owp.yml', line: 3, column: 11, message: '"ci.checks" must be a list' }] },
    },
  };
  assert.deepEqual(repoSourceLines(settings), [
    { kind: 'checks', text: 'CI checks a PR needs: build' },
    { kind: 'source', text: 'Settings from acme/site@main aaaaaaa (.owp.yml)' },
    { kind: 'config', text: 'Set by the coordinator\'s config (wins over the files): max_open_prs' },
    { kind: 'error', text: 'Refused bbbbbbb: the last valid files stay in force until this is fixed' },
    { kind: 'problem', text: '.owp.yml:3:11: "ci.checks" must be a list' },
  ]);
  assert.deepEqual(repoSourceLines(defaultRepoSettings('acme/api')), [{ kind: 'checks', text: 'No CI checks required: gate results are self-reported' }]);
});

test('the repo card says when the GitHub App was uninstalled or suspended', () => {
  const at = Date.UTC(2026, 11, 6, 10, 30);
  const base = { from: 'github' as const, ref: 'main', sha: 'a'.repeat(40), read_at: 1, files: [{ path: '.owp.yml', present: true }], origins: {} };
  const lines = repoSourceLines({ ...defaultRepoSettings('acme/site'), source: { ...base, disconnected: { reason: 'app_uninstalled' as const, at, installation_id: 77 } } });
  assert.deepEqual(lines[1], { kind: 'error', text: 'Not connected to GitHub: the GitHub App was uninstalled (installation 77, 2026-12-06 10:30 UTC). No sync; PR reports are refused until it is installed again' });
  const suspended = repoSourceLines({ ...defaultRepoSettings('acme/site'), source: { ...base, disconnected: { reason: 'app_suspended' as const, at, installation_id: 77 } } });
  assert.match(suspended[1]?.text ?? '', /the GitHub App is suspended/);
});
