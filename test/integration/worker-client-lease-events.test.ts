import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { nextOffer, startPool, tempDir, until } from '../helpers/coordinator.ts';

test('a heartbeat refused while the client is releasing the lease does not report the lease as lost', async () => {
  const dir = tempDir();
  let slowMs = 0;
  const store = new LowdbStore(dir, { beforeWrite: async () => { if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs)); } });
  const pool = await startPool('memory', { store });
  try {
    await pool.repo('o/r');
    await pool.task('o/r');
    const w = await pool.join({}, { autoHeartbeat: false });
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    const lost: string[] = [];
    w.on('lease.lost', (e) => lost.push(e.lease.lease_id));

    slowMs = 300; // the release waits for its fsync; the heartbeat behind it is answered at once
    const released = w.release(lease.lease_id, 'done for today');
    const heartbeat = await w.heartbeat(lease.lease_id);
    assert.equal(heartbeat, undefined, 'the coordinator refused the heartbeat: the lease is being released');
    await released;
    slowMs = 0;
    assert.deepEqual(lost, [], 'a lease the client gave back itself was not lost');
    assert.equal(w.leases.has(lease.lease_id), false);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('heartbeats refused together report the lost lease once', async () => {
  const dir = tempDir();
  let slowMs = 0;
  const store = new LowdbStore(dir, { beforeWrite: async () => { if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs)); } });
  const pool = await startPool('memory', { store });
  try {
    await pool.repo('o/r');
    await pool.task('o/r');
    const w = await pool.join({}, { autoHeartbeat: false });
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    const lost: string[] = [];
    w.on('lease.lost', (e) => lost.push(e.lease.lease_id));

    slowMs = 300; // the cancellation is decided at once but its notice waits for the fsync
    const cancelling = pool.admin.call('lease.cancel', { lease_id: lease.lease_id, reason: 'maintainer took it back' });
    await until(() => !pool.coordinator.runtime.engine.state.leases.has(lease.lease_id), 'the cancellation was decided');
    const beats = await Promise.all([w.heartbeat(lease.lease_id), w.heartbeat(lease.lease_id)]);
    await cancelling;
    slowMs = 0;
    await until(() => !w.leases.has(lease.lease_id), 'the client dropped the lease');
    assert.deepEqual(beats, [undefined, undefined]);
    assert.deepEqual(lost, [lease.lease_id], 'one loss, reported once');
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
