/**
 * Policy rule signed_commits against the GitHub-shaped server: from a tier up, a reported PR counts
 * only when GitHub verified every commit; the refusal names the unsigned ones, and the PR counts
 * once they are signed. Below the tier, or in report mode, unsigned commits are only recorded.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool, type GitHubPool, type Volunteer } from '../helpers/github-pool.ts';
import { branchName } from '../../protocol/branch-name.ts';
import { DEFAULT_CONTRACT } from '../../client/contract.ts';
import type { RepoPolicy } from '../../protocol/policy-schema.ts';

const SIGNED = 'a'.repeat(40);
const UNSIGNED = 'b'.repeat(40);

async function setup(policy: RepoPolicy, tier: number): Promise<{ g: GitHubPool; alice: Volunteer }> {
  const g = await startGitHubPool();
  await g.pool.repo(REPO, { max_open_prs: 10, policy });
  g.gh.state.addIssue(REPO, { title: 'Harden the release script', labels: ['owp'] });
  await g.poll();
  for (const t of (await g.pool.admin.call('task.list', { repo: REPO })).tasks) await g.pool.admin.call('task.update', { task_id: t.id, tier });
  return { g, alice: await g.volunteer('alice', {}, { trust: 3 }) };
}

type Refusal = { code: string; message: string; details: Record<string, unknown> };

describe('provenance by tier (policy rule signed_commits)', () => {
  test('a tier-2 PR with an unsigned commit is refused naming it; signed, it counts', async () => {
    const { g, alice } = await setup({ signed_commits: { from_tier: 2 } }, 2);
    try {
      const offer = await nextOffer(alice.worker);
      const { lease } = await alice.worker.accept(offer.offer_id);
      const pr = await alice.openPr(offer.task, { verified: true });
      const branch = branchName(DEFAULT_CONTRACT.branch, { task_id: offer.task.id, title: offer.task.title });
      g.gh.state.addBranch(REPO, branch, { commits: [{ author: 'alice', verified: true, sha: SIGNED }, { author: 'alice', verified: false, sha: UNSIGNED }] });
      const report = () => alice.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: pr.url, gates: GATES } });
      const refused = await report().then(() => undefined, (e: Refusal) => e);
      assert.equal(refused?.code, 'POLICY_DENIED');
      assert.equal(refused?.details.rule, 'signed_commits');
      assert.deepEqual(refused?.details.unsigned_commits, [{ sha: UNSIGNED, reason: 'unsigned' }]);
      assert.match(refused?.message ?? '', /tier 2 tasks need every commit signed and verified by GitHub; PR #\d+ has 1 that is not: bbbbbbb \(unsigned\)/);
      assert.equal((await g.pool.admin.call('task.get', { task_id: offer.task_id })).task.state, 'leased');

      g.gh.state.addBranch(REPO, branch, { commits: [{ author: 'alice', verified: true, sha: SIGNED }, { author: 'alice', verified: true }] });
      const counted = (await report()) as { task: { state: string; pr?: { x_github?: Record<string, unknown> } } };
      assert.equal(counted.task.state, 'pr_opened');
      assert.equal(counted.task.pr?.x_github?.all_commits_verified, true);
      assert.deepEqual(counted.task.pr?.x_github?.unsigned_commits, []);
      const explained = await g.pool.admin.call('task.explain', { task_id: offer.task_id, worker_id: alice.worker.worker?.id ?? '' });
      assert.match(explained.policy?.find((v) => v.rule === 'signed_commits')?.message ?? '', /checked when the PR is reported/);
    } finally {
      await g.close();
    }
  });

  test('below the tier, and in report mode, unsigned commits are recorded, not refused', async () => {
    for (const [policy, tier] of [[{ signed_commits: { from_tier: 2 } }, 1], [{ signed_commits: { from_tier: 0 }, modes: { signed_commits: 'report' } }, 1]] as const) {
      const { g, alice } = await setup(policy as RepoPolicy, tier);
      try {
        const offer = await nextOffer(alice.worker);
        const { lease } = await alice.worker.accept(offer.offer_id);
        const pr = await alice.openPr(offer.task, { verified: false });
        const { task } = await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: pr.url, gates: GATES } });
        const x = (task.pr as { x_github?: Record<string, unknown> }).x_github;
        assert.equal(task.state, 'pr_opened', JSON.stringify(policy));
        assert.equal(x?.all_commits_verified, false);
        assert.equal((x?.unsigned_commits as string[]).length, 1);
      } finally {
        await g.close();
      }
    }
  });
});
