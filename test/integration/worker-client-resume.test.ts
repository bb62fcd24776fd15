import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerClient } from '../../client/worker-client.ts';
import type { Offer } from '../../protocol/model.ts';
import { nextOffer, startPool, until } from '../helpers/coordinator.ts';

describe('worker client resume', () => {
  test('a restarted worker renews its resumed lease at once, so time offline short of the timeout does not lose it', async () => {
    // heartbeat_interval_ms is a third of the timeout: 1333 ms. The worker is gone for 3 s after
    // its last heartbeat; waiting one interval after reconnecting would be past the 4 s timeout.
    const pool = await startPool('memory');
    let restarted: WorkerClient | undefined;
    try {
      await pool.repo('acme/site', { heartbeat_timeout_ms: 4000 });
      await pool.task('acme/site', { skills: ['docs'] });
      const first = await pool.join({ skills: ['docs'] });
      const { lease } = await first.accept((await nextOffer(first)).offer_id);
      await new Promise((resolve) => first.once('lease.renewed', resolve));
      first.close();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      restarted = new WorkerClient({ url: pool.url, token: first.token, reconnectionDelayMs: 100 });
      const hello = await restarted.connect();
      assert.deepEqual(hello.leases.map((l) => l.lease_id), [lease.lease_id]);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const { task } = await pool.admin.call('task.get', { task_id: lease.task_id });
      assert.equal(task.state, 'leased', 'the lease survived the restart');
      assert.equal(task.lease?.lease_id, lease.lease_id);
    } finally {
      restarted?.close();
      await pool.close();
    }
  });

  test('an offer made while hello is in flight is announced once', async () => {
    const pool = await startPool('lowdb');
    try {
      await pool.repo('acme/site');
      for (let i = 0; i < 3; i += 1) await pool.task('acme/site', { skills: ['docs'], area: `a${i}` });
      const { token } = await WorkerClient.register(pool.url, { github_login: 'hanna', skills: ['docs'], capacity: 3, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
      const client = new WorkerClient({ url: pool.url, token });
      const announced: Offer[] = [];
      client.on('offer', (offer) => announced.push(offer));
      try {
        await client.connect();
        await until(() => announced.length > 0, 'an offer is announced');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const ids = announced.map((o) => o.offer_id);
        assert.deepEqual(ids, [...new Set(ids)], `each offer once: ${ids.join(', ')}`);
      } finally {
        client.close();
      }
    } finally {
      await pool.close();
    }
  });
});
