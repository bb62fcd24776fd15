/**
 * The contract and policy come from the repo's default branch on GitHub (contents API): read at
 * attach and on polls (conditionally), re-read on a push touching them; an invalid file never
 * replaces the last valid one, and the refusal names file, line and column; the coordinator
 * config's own settings win over the files.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool, type GitHubPool } from '../helpers/github-pool.ts';
import type { RepoSettings } from '../../protocol/model.ts';

const CONTRACT = 'test: npm test\nbranch: "volunteer/{task_id}"\nci:\n  checks: [build, "test (ubuntu-latest)"]\n  timeout_minutes: 30\n';
const POLICY = 'version: 1\nbudget:\n  max_open_prs: 4\n';

async function settings(g: GitHubPool): Promise<RepoSettings> {
  return (await g.pool.admin.call('repo.get', { repo: REPO })).settings;
}

function head(g: GitHubPool): string {
  return g.gh.state.repo(REPO).branches.get('main')?.at(-1)?.sha as string;
}

describe('contract and policy from the default branch', () => {
  test('read at start; an invalid push keeps the last valid files and shows where it is wrong; a fix applies', async () => {
    const g = await startGitHubPool({ webhooks: true, fake: { repos: [{ full_name: REPO, files: { '.owp.yml': CONTRACT, '.owp/policy.yml': POLICY } }] } });
    try {
      await g.poll();
      let s = await settings(g);
      const valid = head(g);
      assert.deepEqual(s.required_checks, ['build', 'test (ubuntu-latest)']);
      assert.equal(s.checks_timeout_ms, 30 * 60_000);
      assert.equal(s.max_open_prs, 4, 'the policy\'s budget');
      assert.equal(s.source?.from, 'github');
      assert.equal(s.source?.ref, 'main');
      assert.equal(s.source?.sha, valid);
      assert.deepEqual(s.source?.origins, { required_gates: 'contract', required_checks: 'contract', checks_timeout_ms: 'contract', areas: 'contract', policy: 'policy', max_open_prs: 'policy' });
      assert.equal(g.integration.context.repo(REPO)?.config.branch, 'volunteer/{task_id}', 'the contract\'s branch naming is the one checked on pr_opened');

      // An invalid contract pushed over the valid one: nothing changes but the recorded refusal.
      g.gh.state.pushFiles(REPO, 'main', { '.owp.yml': 'test: npm test\nci:\n  checks: build\n' });
      const bad = head(g);
      s = await until(async () => ((await settings(g)).source?.rejected ? settings(g) : undefined), 'the refusal is recorded');
      assert.deepEqual(s.required_checks, ['build', 'test (ubuntu-latest)'], 'the last valid contract stays in force');
      assert.equal(s.source?.sha, valid);
      assert.equal(s.source?.rejected?.sha, bad);
      const problem = s.source?.rejected?.problems[0];
      assert.equal(problem?.file, '.owp.yml');
      assert.deepEqual([problem?.line, problem?.column], [3, 11], JSON.stringify(problem));
      assert.ok(g.logs.some((l) => /last valid files stay in force/.test(l)));

      // A push elsewhere (not the default branch, or not touching the files) reads nothing.
      const before = g.gh.state.requests.length;
      g.gh.state.pushFiles(REPO, 'feature', { '.owp.yml': 'nonsense: [' });
      g.gh.state.pushFiles(REPO, 'main', { 'README.md': 'hello\n' });
      await g.settled();
      assert.equal(g.gh.state.requests.slice(before).filter((r) => r.path.includes('/contents/')).length, 0);

      // The fix: applied, the refusal gone.
      g.gh.state.pushFiles(REPO, 'main', { '.owp.yml': 'test: npm test\nci:\n  checks: [build]\n' });
      const fixed = head(g);
      s = await until(async () => ((await settings(g)).source?.sha === fixed ? settings(g) : undefined), 'the fixed contract is in force');
      assert.deepEqual(s.required_checks, ['build']);
      assert.equal(s.source?.rejected, undefined);
      assert.equal(g.integration.context.repo(REPO)?.config.branch, 'owp/{task_id}-{slug}', 'no branch in the contract: the default naming');

      // An unmoved default branch costs one conditional request per poll, and reads no file.
      const mark = g.gh.state.requests.length;
      await g.poll();
      const again = g.gh.state.requests.slice(mark);
      assert.equal(again.filter((r) => r.path.includes('/contents/')).length, 0);
      assert.ok(again.filter((r) => r.path.endsWith('/branches/main')).every((r) => r.status === 304));
    } finally {
      await g.close();
    }
  });

  test('the coordinator config\'s settings win over the files, and repo.get says so', async () => {
    const g = await startGitHubPool({ repoSettings: { max_open_prs: 2, required_checks: ['lint'] }, fake: { repos: [{ full_name: REPO, files: { '.owp.yml': CONTRACT, '.owp/policy.yml': POLICY } }] } });
    try {
      await g.poll();
      const s = await settings(g);
      assert.equal(s.max_open_prs, 2);
      assert.deepEqual(s.required_checks, ['lint']);
      assert.equal(s.checks_timeout_ms, 30 * 60_000, 'what the config leaves alone comes from the contract');
      assert.deepEqual(s.source?.origins, { max_open_prs: 'config', required_checks: 'config', required_gates: 'contract', checks_timeout_ms: 'contract', areas: 'contract', policy: 'policy' });
      assert.deepEqual(s.source?.files, [{ path: '.owp.yml', present: true }, { path: '.owp/policy.yml', present: true }]);
    } finally {
      await g.close();
    }
  });
});
