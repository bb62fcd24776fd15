/**
 * `owp contract validate`, `owp policy validate|apply|explain` as a maintainer runs them: the real
 * CLI in a child process (the bundle or the source, see helpers/owp-cli.ts), against files on disk and a real coordinator.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient } from '../../client/worker-client.ts';
import { cliWorld, runOwp, type CliRun } from '../helpers/cli-world.ts';
import { folderWith } from '../helpers/files.ts';

/** `owp args…` in `cwd` (a folder of files, as a maintainer's checkout). */
function owp(args: string[], cwd: string): Promise<CliRun> {
  return runOwp(args, { cwd });
}

describe('owp contract / owp policy', () => {
  test('validate reports every error as FILE:LINE:COLUMN with the line, a caret and a hint, and exits 1', async () => {
    const dir = folderWith({ '.owp.yml': 'test: npm test\nlnt: npm run lint\ngates: [tests, lintt]\n', '.owp/policy.yml': 'safe_lanes:\n  below_trust: 9\n' });
    try {
      const contract = await owp(['contract', 'validate'], dir);
      assert.equal(contract.code, 1);
      assert.match(contract.stderr, /^\.owp\.yml:2:1: error: Unknown key "lnt" in the file\.\n {2}2 \| lnt: npm run lint\n {4}\| \^\^\^\n {4}hint: Did you mean "lint"\?/m);
      assert.match(contract.stderr, /^\.owp\.yml:3:16: error: "gates\.1" must be one of/m);
      assert.match(contract.stderr, /\.owp\.yml: 2 errors, 0 warnings/);

      const policy = await owp(['policy', 'validate', '.owp/policy.yml'], dir);
      assert.equal(policy.code, 1);
      assert.match(policy.stderr, /^\.owp\/policy\.yml:2:16: error: "safe_lanes\.below_trust" must be at most 3, not 9\./m);

      const json = await owp(['contract', 'validate', '--json'], dir);
      assert.equal(json.code, 1);
      const parsed = JSON.parse(json.stdout) as { diagnostics: Array<{ start: { line: number; column: number } }> };
      assert.deepEqual(parsed.diagnostics.map((d) => [d.start.line, d.start.column]), [[2, 1], [3, 16]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('validate passes valid files with exit 0, showing warnings', async () => {
    const dir = folderWith({ '.owp.yml': 'test: npm test\n', '.owp/policy.yml': 'areas:\n  release: { risky: true }\n' });
    try {
      const contract = await owp(['contract', 'validate'], dir);
      assert.equal(contract.code, 0, contract.stderr);
      assert.match(contract.stdout, /\.owp\.yml: valid/);
      const policy = await owp(['policy', 'validate'], dir);
      assert.equal(policy.code, 0, policy.stderr);
      assert.match(policy.stdout, /warning: The risky area "release"/);
      const missing = await owp(['contract', 'validate', 'nope.yml'], dir);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /No file nope\.yml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('policy apply stores the policy; policy explain gives each rule\'s verdict and exits by the outcome', async () => {
    const world = await cliWorld();
    const { pool, dir } = world;
    mkdirSync(join(dir, '.owp'));
    writeFileSync(join(dir, '.owp.yml'), 'test: npm test\nlint: npm run lint\ngates: [tests, lint]\nsafe_lanes: [docs]\n');
    writeFileSync(join(dir, '.owp', 'policy.yml'), 'safe_lanes:\n  below_trust: 1\nmax_active_per_worker: 1\nbudget:\n  max_open_prs: 4\n');
    try {
      await pool.repo('acme/site');
      const applied = await world.owp(['policy', 'apply', '--repo', 'acme/site']);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /max_open_prs 4, .*required_gates \[tests, lint\]/);
      const { settings } = await pool.admin.call('repo.get', { repo: 'acme/site' });
      assert.deepEqual(settings.policy, { safe_lanes: { below_trust: 1, lanes: ['docs'] }, max_active_per_worker: 1, budget: { max_open_prs: 4 } });

      const core = await pool.task('acme/site', { area: 'core' });
      const docs = await pool.task('acme/site', { area: 'docs' });
      const { worker } = await WorkerClient.register(pool.url, { github_login: 'newcomer', skills: ['docs'], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });

      const refused = await world.owp(['policy', 'explain', '--task', core, '--worker', worker.id]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stdout, /FAIL {2}safe_lanes +workers below trust 1 take only docs tasks/);
      assert.match(refused.stdout, /pass {2}max_active_per_worker/);
      assert.match(refused.stdout, /pass {2}max_open_prs/);
      assert.match(refused.stdout, new RegExp(`${worker.id} cannot take ${core} now \\(policy rules failing: safe_lanes\\)`));

      // The same from flags alone, without the environment.
      const allowed = await world.owp(['policy', 'explain', '--task', docs, '--worker', worker.id, '--coordinator', pool.url, '--token', pool.adminToken], { env: { OWP_COORDINATOR_URL: undefined, OWP_TOKEN: undefined } });
      assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
      assert.match(allowed.stdout, /pass {2}safe_lanes/);
      assert.match(allowed.stdout, new RegExp(`${worker.id} could take ${docs} now\\.`));

      const bad = folderWith({ '.owp/policy.yml': 'tiers: 2\n' });
      try {
        const rejected = await world.owp(['policy', 'apply', '--repo', 'acme/site'], { cwd: bad });
        assert.equal(rejected.code, 1);
        assert.match(rejected.stderr, /\.owp\/policy\.yml:1:8: error: "tiers" must be a list/);
      } finally {
        rmSync(bad, { recursive: true, force: true });
      }
    } finally {
      await world.close();
    }
  });
});
