import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool } from '../helpers/github-pool.ts';

describe('GitHub sync across restarts and retries', () => {
  test('a restarted coordinator neither duplicates issue tasks nor forgets them', async () => {
    const g = await startGitHubPool({ store: 'lowdb' });
    try {
      const n = g.gh.state.addIssue(REPO, { title: 'Survive a restart', labels: ['owp'] });
      await g.poll();
      const before = (await g.pool.admin.call('task.list', { repo: REPO })).tasks;
      assert.equal(before.length, 1);

      g.integration.close();
      await g.pool.restart();
      const admin = g.pool.coordinator.runtime.authenticate(g.pool.adminToken);
      assert.ok(admin);
      await g.integration.attach(g.pool.coordinator.runtime, admin);
      await g.poll();
      const after = (await g.pool.admin.call('task.list', { repo: REPO })).tasks;
      assert.deepEqual(after.map((t) => t.id), before.map((t) => t.id), 'the same task, no duplicate');

      g.gh.state.updateIssue(REPO, n, { state: 'closed' });
      await g.poll();
      assert.equal((await g.pool.admin.call('task.get', { task_id: before[0]?.id as string })).task.state, 'closed', 'the restarted coordinator still knows the issue');
    } finally {
      await g.close();
    }
  });

  test('a retried pr_opened report with the same idempotency key replays the verified answer', async () => {
    const g = await startGitHubPool();
    try {
      g.gh.state.addIssue(REPO, { title: 'Retry me', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');
      const offer = await nextOffer(alice.worker);
      const { lease } = await alice.worker.accept(offer.offer_id);
      const pr = await alice.openPr(offer.task);
      const params = { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened' as const, pr: { url: pr.url, gates: GATES }, idempotency_key: 'report-once' };
      const first = await alice.worker.request('lease.report', structuredClone(params));
      const second = await alice.worker.request('lease.report', structuredClone(params));
      assert.deepEqual(second, first);
      assert.equal((second.task.pr as { x_github?: { author?: string } }).x_github?.author, 'alice');
    } finally {
      await g.close();
    }
  });
});
