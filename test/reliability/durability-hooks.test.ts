/**
 * "Answered only once fsynced", watched directly: the store's sync is held or failed through its
 * injectable I/O layer while real clients wait on both bindings. The crash loops (on lossyfs)
 * prove the sync itself makes the data durable; these prove nothing is answered before it does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient } from '../../client/worker-client.ts';
import { nextOffer, startOnDisk, tempDir, until } from '../helpers/coordinator.ts';
import { FaultyIo, ioError } from '../helpers/faulty-io.ts';
import { recordFigures } from '../helpers/figures.ts';

const figures = { syncs_withheld: 0, syncs_failed: 0 };

/** A promise with its outcome visible, and a mark in the I/O log when it is answered. */
function watch<T>(io: FaultyIo, label: string, promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const p = promise.finally(() => {
    settled = true;
    io.mark(label);
  });
  return { settled: () => settled, promise: p };
}

function journalText(dir: string): string {
  return readFileSync(join(dir, 'journal.jsonl'), 'utf8');
}

test('an answer waits for the journal sync, over HTTP and socket.io: a held sync holds the answer, releasing it sends the answer', async () => {
  const dir = tempDir();
  const io = new FaultyIo();
  const { coordinator, url, admin } = await startOnDisk(dir, { io });
  const { token } = await WorkerClient.register(url, { github_login: 'hooked', skills: [], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  const worker = new WorkerClient({ url, token, requestTimeoutMs: 60_000, retryForMs: 60_000 });
  try {
    await worker.connect();
    await admin.call('repo.configure', { repo: 'hooks/repo', offer_timeout_ms: 60_000 });

    // HTTP: task.create while the journal's sync is held.
    io.hold.add('journal');
    const created = watch(io, 'answer:create', admin.call('task.create', { repo: 'hooks/repo', title: 'held by the sync' }));
    await io.syncHeld();
    assert.ok(journalText(dir).includes('held by the sync'), 'the event was written to the file…');
    await admin.call('coordinator.info'); // the coordinator answers what needs no disk
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(created.settled(), false, '…but not answered while its sync is held');
    io.release();
    const { task } = await created.promise;
    const written = io.find((e) => e.op === 'write' && e.file === 'journal' && (e.text ?? '').includes('held by the sync'));
    const synced = io.find((e) => e.op === 'sync-done' && e.file === 'journal', written);
    const answered = io.find((e) => e.op === 'mark' && e.text === 'answer:create');
    assert.ok(written >= 0 && synced > written && answered > synced, `write ${written} < sync done ${synced} < answer ${answered}`);

    // socket.io: offer.accept while the sync is held.
    const offer = await nextOffer(worker, 10_000);
    assert.equal(offer.task_id, task.id);
    io.hold.add('journal');
    const accepted = watch(io, 'answer:accept', worker.accept(offer.offer_id));
    await io.syncHeld();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(accepted.settled(), false, 'the accept is not answered while its lease.granted is unsynced');
    io.release();
    const { lease } = await accepted.promise;
    const grant = io.find((e) => e.op === 'write' && (e.text ?? '').includes(`"lease_id":"${lease.lease_id}"`));
    assert.ok(grant >= 0 && io.find((e) => e.op === 'sync-done', grant) < io.find((e) => e.op === 'mark' && e.text === 'answer:accept'), 'the grant was synced before the answer');
    figures.syncs_withheld += io.syncsWithheld;
  } finally {
    io.release();
    worker.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed journal sync is never acknowledged, and what it wrote never comes back, not even after a restart', async () => {
  const dir = tempDir();
  const io = new FaultyIo();
  let { coordinator, url, admin } = await startOnDisk(dir, { io });
  try {
    await admin.call('repo.configure', { repo: 'hooks/repo' });
    const { task: kept } = await admin.call('task.create', { repo: 'hooks/repo', title: 'acknowledged' });

    io.failSync.set('journal', ioError('EIO', 'fdatasync'));
    const refused = await admin.callRaw('task.create', { repo: 'hooks/repo', title: 'written but never synced', idempotency_key: 'eio' });
    assert.equal(refused.ok, false, 'a change whose sync failed is not acknowledged');
    assert.equal(!refused.ok && refused.error.code, 'UNAVAILABLE');
    assert.equal(refused.status, 503);
    const write = io.find((e) => e.op === 'write' && e.file === 'journal' && (e.text ?? '').includes('written but never synced'));
    assert.ok(write >= 0 && io.find((e) => e.op === 'sync' && e.file === 'journal', write) > write, 'the write itself went through; only its sync failed');
    const during = await admin.callRaw('task.create', { repo: 'hooks/repo', title: 'also refused' });
    assert.equal(!during.ok && during.error.code, 'UNAVAILABLE', 'nothing is acknowledged until the disk syncs again');

    io.failSync.delete('journal');
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'recovered after the sync works again', 10_000);
    const titles = async (): Promise<string[]> => (await admin.call('task.list', { repo: 'hooks/repo' })).tasks.map((t) => t.title).sort();
    assert.deepEqual(await titles(), [kept.title], 'the refused change is not in the state rebuilt from disk');
    assert.ok(!journalText(dir).includes('written but never synced'), 'its bytes were cut from the journal');
    const { events } = await admin.call('journal.read', { after_seq: 0 });
    assert.ok(!events.some((e) => JSON.stringify(e).includes('never synced')));

    const retried = await admin.call('task.create', { repo: 'hooks/repo', title: 'written but never synced', idempotency_key: 'eio' });
    assert.notEqual(retried.task.id, undefined, 'the same key runs again');
    await coordinator.close();
    ({ coordinator, url, admin } = await startOnDisk(dir));
    assert.deepEqual(await titles(), [kept.title, 'written but never synced'].sort(), 'after a restart: the acknowledged changes, once each');
    figures.syncs_failed += io.syncsFailed;
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
    recordFigures('durability-hooks', figures);
  }
});
