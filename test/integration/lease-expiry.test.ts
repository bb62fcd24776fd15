import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer, startPool, until } from '../helpers/coordinator.ts';

test('a worker that stops heartbeating loses its lease, the task is requeued to another worker, and its late report is refused', async () => {
  const pool = await startPool('lowdb');
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 1000, offer_timeout_ms: 5000 });
    const taskId = await pool.task('o/r', { area: 'docs' });
    const doomed = await pool.join();
    const offer = await nextOffer(doomed);
    const { lease } = await doomed.accept(offer.offer_id);
    const lost = new Promise<string>((resolve) => doomed.once('lease.cancelled', (p) => resolve(p.reason)));
    const rescuer = await pool.join();
    doomed.stopHeartbeats(); // a frozen or crashed worker
    const reason = await lost;
    assert.equal(reason, 'no heartbeat before the deadline');
    const second = await nextOffer(rescuer, 5000);
    assert.equal(second.task_id, taskId);
    const { events } = await pool.admin.call('journal.read', { after_seq: 0 });
    const expired = events.find((e) => e.type === 'lease.expired');
    assert.ok(expired, 'the expiry is in the journal');
    assert.ok((expired.data.late_ms as number) < 1000, `requeued ${String(expired.data.late_ms)} ms after the deadline`);
    const { lease: newLease } = await rescuer.accept(second.offer_id);
    assert.equal(newLease.epoch, lease.epoch + 1);
    // The frozen worker wakes up and reports its old work: fenced off.
    await assert.rejects(
      doomed.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/o/r/pull/1', gates: GATES } }),
      { code: 'LEASE_EXPIRED' },
    );
    await assert.rejects(doomed.request('lease.heartbeat', { lease_id: newLease.lease_id, epoch: lease.epoch }), (e: { code: string }) => ['NOT_HOLDER', 'STALE_EPOCH'].includes(e.code));
    const { task } = await pool.admin.call('task.get', { task_id: taskId });
    assert.equal(task.lease?.worker_id, rescuer.worker!.id);
  } finally {
    await pool.close();
  }
});

test('a disconnected worker keeps its lease while it reconnects in time', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 3000 });
    await pool.task('o/r');
    const w = await pool.join();
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    w.socket.io.engine.close(); // drop the transport; socket.io reconnects
    await until(() => w.connectionState() === 'reconnecting', 'noticed the drop');
    await until(() => w.connectionState() === 'connected', 'reconnected', 5000);
    assert.ok(w.leases.has(lease.lease_id), 'the lease came back in hello');
    const renewed = await w.heartbeat(lease.lease_id);
    assert.ok(renewed && renewed.expires_at > lease.expires_at);
  } finally {
    await pool.close();
  }
});
