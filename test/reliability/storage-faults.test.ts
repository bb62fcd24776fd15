import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createCoordinator } from '../../coordinator/app.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { HttpClient } from '../../client/http-client.ts';
import { startOnDisk, tempDir, until } from '../helpers/coordinator.ts';
import { FaultyIo, ioError } from '../helpers/faulty-io.ts';

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
    // Reads still answer while changes are refused, from what is on disk.
    const listed = await admin.callRaw('task.list', { repo: 'disk/repo' });
    assert.equal(listed.ok, true, 'task.list answers while the disk is full');
    assert.deepEqual(listed.ok && (listed.data as { tasks: Array<{ title: string }> }).tasks.map((t) => t.title).sort(), [kept.title, slow.title].sort());
    const got = await admin.callRaw('task.get', { task_id: kept.id });
    assert.equal(got.ok, true, 'task.get answers while the disk is full');
    const read = await admin.callRaw('journal.read', { after_seq: 0 });
    assert.equal(read.ok, true, 'journal.read answers while the disk is full');
    assert.ok(read.ok && (read.data as { events: Array<{ type: string }> }).events.filter((e) => e.type === 'task.created').length === 2, 'the journal serves the two acknowledged creates');

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

test('a partial write (the disk fills mid-batch): refused, and the torn bytes are cut before anything else is written', async () => {
  const dir = tempDir();
  const io = new FaultyIo();
  let { coordinator, url, admin } = await startOnDisk(dir, { io });
  try {
    await admin.call('repo.configure', { repo: 'torn/repo' });
    const { task: kept } = await admin.call('task.create', { repo: 'torn/repo', title: 'before the disk filled' });
    io.failWrite.set('journal', { error: ioError('ENOSPC', 'write'), keepBytes: 40 });
    const refused = await admin.callRaw('task.create', { repo: 'torn/repo', title: 'half written', idempotency_key: 'half' });
    assert.equal(!refused.ok && refused.error.code, 'UNAVAILABLE');
    assert.equal(io.writesTorn, 1, 'part of the batch reached the file');
    io.failWrite.delete('journal');
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'recovered', 10_000);
    const { task: after } = await admin.call('task.create', { repo: 'torn/repo', title: 'after the disk was freed' });
    const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `every journal line is whole: ${line.slice(0, 80)}`);
    await coordinator.close();
    ({ coordinator, url, admin } = await startOnDisk(dir));
    assert.deepEqual(coordinator.runtime.warnings, [], 'the restart found no damage to repair');
    const { tasks } = await admin.call('task.list', { repo: 'torn/repo' });
    assert.deepEqual(tasks.map((t) => t.title).sort(), [kept.title, after.title].sort());
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing snapshot (its write, then its sync): the previous snapshot stays whole, changes are still acknowledged, a restart recovers them all', async () => {
  const dir = tempDir();
  const io = new FaultyIo();
  let { coordinator, url, admin } = await startOnDisk(dir, { io, overrides: { snapshotEveryEvents: 1_000_000 } });
  const stateFile = join(dir, 'state.json');
  try {
    await admin.call('repo.configure', { repo: 'snap/repo' });
    await admin.call('task.create', { repo: 'snap/repo', title: 'in the good snapshot' });
    await coordinator.runtime.snapshot();
    const good = readFileSync(stateFile, 'utf8');

    io.failWrite.set('snapshot', { error: ioError('ENOSPC', 'write'), keepBytes: 100 });
    await admin.call('task.create', { repo: 'snap/repo', title: 'after the first failed snapshot' });
    await coordinator.runtime.snapshot();
    io.failWrite.delete('snapshot');
    io.failSync.set('snapshot', ioError('EIO', 'fsync'));
    await admin.call('task.create', { repo: 'snap/repo', title: 'after the second failed snapshot' });
    await coordinator.runtime.snapshot();
    io.failSync.delete('snapshot');

    assert.equal(readFileSync(stateFile, 'utf8'), good, 'state.json is still the last good snapshot');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temp file is left behind');
    assert.equal((await fetch(`${url}/readyz`)).status, 200, 'a failed snapshot does not stop the coordinator: the journal has every change');
    await admin.call('task.create', { repo: 'snap/repo', title: 'still acknowledged' });
    await coordinator.close();
    ({ coordinator, url, admin } = await startOnDisk(dir));
    const { tasks } = await admin.call('task.list', { repo: 'snap/repo' });
    assert.deepEqual(tasks.map((t) => t.title).sort(), ['after the first failed snapshot', 'after the second failed snapshot', 'in the good snapshot', 'still acknowledged']);
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
