import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createCoordinator } from '../../coordinator/app.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { HttpClient } from '../../client/http-client.ts';
import { tempDir, until } from '../helpers/coordinator.ts';

test('a full disk: the coordinator refuses changes (UNAVAILABLE) instead of acknowledging them, then recovers without losing or inventing anything', async () => {
  const dir = tempDir();
  let full = false;
  let slowMs = 0;
  const store = new LowdbStore(dir, {
    beforeWrite: async () => {
      if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  });
  const coordinator = await createCoordinator({ store, clock: new SystemClock(), adminTokens: ['owpm_disk'], sweepIntervalMs: 50 });
  const url = await coordinator.listen(0);
  const admin = new HttpClient({ baseUrl: url, token: 'owpm_disk' });
  try {
    await admin.call('repo.configure', { repo: 'disk/repo' });
    const { task: kept } = await admin.call('task.create', { repo: 'disk/repo', title: 'acknowledged before the disk filled' });

    slowMs = 150; // a slow fsync only delays the answer
    const started = Date.now();
    const { task: slow } = await admin.call('task.create', { repo: 'disk/repo', title: 'written on a slow disk' });
    assert.ok(Date.now() - started >= 150, 'the answer waited for the write');
    slowMs = 0;

    full = true;
    const refused = await admin.callRaw('task.create', { repo: 'disk/repo', title: 'never acknowledged', idempotency_key: 'during-full' });
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.error.code, 'UNAVAILABLE');
    assert.equal(refused.status, 503);
    const again = await admin.callRaw('task.create', { repo: 'disk/repo', title: 'also refused' });
    assert.equal(!again.ok && again.error.code, 'UNAVAILABLE', 'later changes are refused too');
    // Not ready (a load balancer stops sending changes here), yet alive: nothing to restart.
    assert.equal((await fetch(`${url}/readyz`)).status, 503);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    // Reads still answer, from what is durable.

    full = false;
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'recovered', 10_000);
    const { tasks } = await admin.call('task.list', { repo: 'disk/repo' });
    assert.deepEqual(tasks.map((t) => t.title).sort(), [kept.title, slow.title].sort(), 'the refused change did not appear, the acknowledged ones stayed');
    const retried = await admin.call('task.create', { repo: 'disk/repo', title: 'never acknowledged', idempotency_key: 'during-full' });
    assert.equal(retried.task.title, 'never acknowledged', 'the same key runs again after a refusal');
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal.read serves and counts only what is on disk, never a batch still being written', async () => {
  const dir = tempDir();
  let hold: (() => void) | undefined;
  const store = new LowdbStore(dir, { beforeWrite: () => (hold ? new Promise<void>((resolve) => { const release = hold; hold = undefined; release?.(); setTimeout(resolve, 300); }) : undefined) });
  const coordinator = await createCoordinator({ store, clock: new SystemClock(), adminTokens: ['owpm_j'], sweepIntervalMs: 50 });
  const url = await coordinator.listen(0);
  const admin = new HttpClient({ baseUrl: url, token: 'owpm_j' });
  try {
    await admin.call('repo.configure', { repo: 'j/repo' });
    const before = await admin.call('journal.read', { after_seq: 0 });
    const writing = new Promise<void>((resolve) => (hold = resolve));
    const slow = admin.call('task.create', { repo: 'j/repo', title: 'in flight' });
    await writing; // the write of task.created has started but is not on disk
    const during = await admin.call('journal.read', { after_seq: 0 });
    assert.equal(during.last_seq, before.last_seq, 'last_seq does not count the event being written');
    assert.ok(!during.events.some((e) => e.type === 'task.created'), 'the event being written is not served');
    await slow;
    const after = await admin.call('journal.read', { after_seq: 0 });
    assert.ok(after.events.some((e) => e.type === 'task.created'));
    assert.ok(after.last_seq > before.last_seq);
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
