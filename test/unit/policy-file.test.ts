/** The repo policy file (.owp/policy.yml): validation with positions, and its copies of model constants. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BUDGET_BOUNDS, GITHUB_LOGIN_PATTERN, POLICY_RULES, checkPolicyText } from '../../protocol/policy-schema.ts';
import { X_KEY_PATTERN } from '../../protocol/contract-schema.ts';
import { EXTENSION_KEY_PATTERN, GithubLogin, REPO_SETTING_BOUNDS } from '../../protocol/model.ts';
import { settingsFromRepoFiles } from '../../coordinator/repo-files.ts';
import { FileProblemsError, formatDiagnostic } from '../../protocol/yaml-diagnostics.ts';
import { readmeExample } from '../helpers/readme.ts';

describe('policy file', () => {
  test('the README example is a valid policy', () => {
    const { value, diagnostics } = checkPolicyText(readmeExample('### `.owp/policy.yml`'));
    assert.deepEqual(diagnostics, []);
    assert.equal(value?.safe_lanes?.below_trust, 1);
    assert.equal(value?.areas?.release?.risky, true);
    assert.deepEqual(value?.budget, { max_open_prs: 5, max_new_prs_per_hour: 2, adaptive: { floor: 2, ceiling: 12, target_review_hours: 48, increase: 1, decrease_factor: 0.5 } });
  });

  test('the README names every rule id', () => {
    const example = readmeExample('### `.owp/policy.yml`');
    for (const rule of Object.keys(POLICY_RULES)) assert.match(example, new RegExp(`rule[^\\n]*${rule}`), `README policy example does not name ${rule}`);
  });

  const cases: Array<{ name: string; text: string; at: [number, number]; message: RegExp; hint?: RegExp; severity?: 'error' | 'warning' }> = [
    { name: 'trust out of range', text: 'safe_lanes:\n  below_trust: 4\n', at: [2, 16], message: /must be at most 3, not 4/, hint: /0 \(new\) to 3/ },
    { name: 'missing required key', text: 'safe_lanes:\n  lanes: [docs]\n', at: [1, 1], message: /"safe_lanes" is missing "below_trust"/ },
    { name: 'tier rule missing min_trust', text: 'tiers:\n  - from_tier: 2\n', at: [2, 5], message: /"tiers\.0" is missing "min_trust"/, hint: /from_tier: 2, min_trust: 2/ },
    { name: 'duplicate from_tier', text: 'tiers:\n  - { from_tier: 2, min_trust: 2 }\n  - { from_tier: 2, min_trust: 3 }\n', at: [3, 18], message: /from_tier 2 appears twice/ },
    { name: 'bad login', text: 'logins:\n  deny: ["not a login"]\n', at: [2, 10], message: /"logins\.deny\.0" is not valid/, hint: /GitHub login/ },
    { name: 'unknown area key', text: 'areas:\n  core:\n    riksy: true\n', at: [3, 5], message: /Unknown key "riksy"/, hint: /Did you mean "risky"\?/ },
    { name: 'budget out of bounds', text: 'budget:\n  max_open_prs: -1\n', at: [2, 17], message: /must be at least 0, not -1/ },
    { name: 'risky area open to no one', text: 'areas:\n  release: { risky: true }\n', at: [2, 3], message: /risky area "release" has neither min_trust nor allow/, severity: 'warning' },
    { name: 'login both allowed and denied', text: 'logins:\n  allow: [amy]\n  deny: [amy]\n', at: [2, 11], message: /both logins\.allow and logins\.deny/, severity: 'warning' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { diagnostics, value } = checkPolicyText(c.text);
      const matching = diagnostics.filter((d) => d.severity === (c.severity ?? 'error'));
      assert.equal(matching.length, 1, diagnostics.map((d) => formatDiagnostic('policy.yml', d)).join('\n'));
      const d = matching[0];
      assert.ok(d);
      assert.deepEqual([d.start.line, d.start.column], c.at, formatDiagnostic('policy.yml', d));
      assert.match(d.message, c.message);
      if (c.hint) assert.match(d.hint ?? '', c.hint);
      assert.equal(value === undefined, (c.severity ?? 'error') === 'error');
    });
  }

  test('its copies of model constants match model.ts (they cannot import it: model.ts embeds this schema)', () => {
    assert.equal(GITHUB_LOGIN_PATTERN, GithubLogin.pattern);
    assert.equal(X_KEY_PATTERN, EXTENSION_KEY_PATTERN);
    assert.deepEqual(BUDGET_BOUNDS.max_open_prs, REPO_SETTING_BOUNDS.max_open_prs);
    assert.deepEqual(BUDGET_BOUNDS.max_new_prs_per_hour, REPO_SETTING_BOUNDS.max_new_prs_per_hour);
  });

  test('repo settings from the two files: gates, policy, and the contract\'s lanes filling the policy\'s', () => {
    const settings = settingsFromRepoFiles({ contract: 'test: t\nlint: l\ngates: [tests, lint]\nsafe_lanes: [docs]\n', policy: 'safe_lanes: { below_trust: 1 }\n' });
    assert.deepEqual(settings, { required_gates: ['tests', 'lint'], required_checks: [], areas: {}, policy: { safe_lanes: { below_trust: 1, lanes: ['docs'] } } });
    assert.deepEqual(settingsFromRepoFiles({}), {});
    // The ci section: required checks and their deadline; the file is the whole truth, so no section is no checks.
    const ci = settingsFromRepoFiles({ contract: 'test: t\nci:\n  checks: [build, "test (ubuntu-latest)"]\n  timeout_minutes: 30\n' });
    assert.deepEqual(ci, { required_gates: ['tests'], required_checks: ['build', 'test (ubuntu-latest)'], areas: {}, checks_timeout_ms: 30 * 60_000 });
    // The contract's areas reach the coordinator, which infers a reported PR's area with them (rule pr_lane).
    assert.deepEqual(settingsFromRepoFiles({ contract: 'areas:\n  docs: ["docs/**"]\n  core: ["src/**"]\n' }).areas, { docs: ['docs/**'], core: ['src/**'] });
    assert.equal(settingsFromRepoFiles({ contract: 'ci: { checks: [build] }\ngates: []\n' }).checks_timeout_ms, 120 * 60_000);
    assert.throws(() => settingsFromRepoFiles({ contract: 'ci: { checks: [] }\n' }), FileProblemsError);
    assert.throws(() => settingsFromRepoFiles({ contract: 'ci: { checks: [build], timeout: 5 }\n' }), FileProblemsError);
    assert.throws(() => settingsFromRepoFiles({ contract: 'gates: [x]\n', policy: 'tiers: 3\n' }), (error: unknown) => {
      assert.ok(error instanceof FileProblemsError);
      assert.deepEqual(error.problems.map((p) => p.file), ['.owp.yml', '.owp/policy.yml']);
      return true;
    });
  });
});
