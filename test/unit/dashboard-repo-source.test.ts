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
