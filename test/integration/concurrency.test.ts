import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, startPool, until } from '../helpers/coordinator.ts';
import type { WorkerClient } from '../../client/worker-client.ts';

/**
 * Many real workers over socket.io race for the same tasks; the coordinator must never exceed the
 * review budget nor hold two tasks of one area at once. Checked from the journal afterwards.
 */
test('under many concurrent workers the budget is never exceeded and an area is never held twice', async () => {
  const pool = await startPool('lowdb');
  try {
    const repo = 'race/repo';
    await pool.repo(repo, { max_open_prs: 3, max_new_prs_per_hour: 1000, offer_timeout_ms: 2000 });
    const areas = ['docs', 'cli', 'parser', 'tests'];
    for (let i = 0; i < 24; i += 1) await pool.task(repo, { area: areas[i % areas.length], title: `task ${i}` });
    const workers: WorkerClient[] = [];
    for (let i = 0; i < 12; i += 1) workers.push(await pool.join({ capacity: 2 }));

    // Every worker accepts every offer and, once it holds a lease, also tries to claim other tasks directly.
    let merged = 0;
    const work = async (w: WorkerClient): Promise<void> => {
      w.on('offer', (offer) => {
        void (async () => {
          try {
            const { lease } = await w.accept(offer.offer_id);
            const { tasks } = await w.request('task.list', { repo, state: 'ready', limit: 5 });
            await Promise.all(tasks.map((t) => w.claim(t.id).then((r) => w.release(r.lease.lease_id)).catch(() => undefined)));
            await w.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/${repo}/pull/${lease.task_id.slice(2)}`, gates: GATES } });
            await pool.admin.call('task.complete', { task_id: lease.task_id, outcome: 'merged' });
            merged += 1;
          } catch {
            // Losing a race (expired offer, budget full) is expected; the journal check below is what matters.
          }
        })();
      });
    };
    await Promise.all(workers.map(work));
    await until(() => merged >= 10, 'ten tasks merged', 30_000);
    await pool.coordinator.runtime.whenIdle();

    const { events } = await pool.admin.call('journal.read', { after_seq: 0, limit: 1000, repo });
    const active = new Map<string, string | undefined>(); // task → area while it holds budget and lock
    const taskArea = new Map<string, string | undefined>();
    let maxActive = 0;
    for (const e of events) {
      if (e.type === 'task.created') taskArea.set(e.task_id!, (e.data.task as { area?: string }).area);
      const enters = e.type === 'offer.created' || (e.type === 'lease.granted' && e.data.via === 'claim');
      const leaves = ['offer.declined', 'offer.expired', 'offer.withdrawn', 'lease.released', 'lease.expired', 'lease.cancelled', 'task.merged', 'task.closed', 'task.blocked'].includes(e.type);
      if (enters) {
        const area = taskArea.get(e.task_id!);
        for (const [other, otherArea] of active) {
          if (other !== e.task_id && area !== undefined) assert.notEqual(otherArea, area, `${e.task_id} entered area ${area} held by ${other} at seq ${e.seq}`);
        }
        active.set(e.task_id!, area);
      } else if (leaves) {
        active.delete(e.task_id!);
      }
      maxActive = Math.max(maxActive, active.size);
      assert.ok(active.size <= 3, `budget exceeded at seq ${e.seq}: ${active.size} active`);
    }
    assert.equal(maxActive, 3, 'the budget was actually filled');
  } finally {
    await pool.close();
  }
});
