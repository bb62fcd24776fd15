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
import { GATES, nextOffer, startOnDisk, tempDir, until } from '../helpers/coordinator.ts';
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

/** The stored events of the journal writes after log entry `from` up to the next sync, and how many writes that was. */
function nextBatch(io: FaultyIo, from: number): { events: Array<{ type: string; task_id?: string; worker_id?: string }>; writes: number; synced: number } {
  const sync = io.find((e) => e.op === 'sync' && e.file === 'journal', from);
  const writes = io.log.slice(from, sync).filter((e) => e.op === 'write' && e.file === 'journal');
  const events = writes.flatMap((w) => (w.text ?? '').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; task_id?: string; worker_id?: string }));
  return { events, writes: writes.length, synced: io.find((e) => e.op === 'sync-done' && e.file === 'journal', sync) };
}

test('group commit: changes from several connections that arrive during a write share the next write and its sync; none is answered before it, and the offer a report frees rides in the report\'s write', async () => {
  const dir = tempDir();
  const io = new FaultyIo();
  const { coordinator, url, admin } = await startOnDisk(dir, { io });
  const workers: WorkerClient[] = [];
  try {
    for (const login of ['grouped-a', 'grouped-b']) {
      const { token } = await WorkerClient.register(url, { github_login: login, skills: [], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
      const w = new WorkerClient({ url, token, requestTimeoutMs: 60_000, retryForMs: 60_000 });
      workers.push(w);
      await w.connect();
    }
    const [a, b] = workers as [WorkerClient, WorkerClient];
    await admin.call('repo.configure', { repo: 'hooks/repo', offer_timeout_ms: 60_000, max_open_prs: 10, max_new_prs_per_hour: 10 });
    await admin.call('task.create', { repo: 'hooks/repo', title: 'first' });
    await admin.call('task.create', { repo: 'hooks/repo', title: 'second' });
    const [offerA, offerB] = await Promise.all([nextOffer(a, 10_000), nextOffer(b, 10_000)]);
    const { task: waiting } = await admin.call('task.create', { repo: 'hooks/repo', title: 'waits for a free worker' });

    // A write is in flight (its sync held) while both workers accept, each over its own socket.
    io.hold.add('journal');
    const inFlight = watch(io, 'answer:in-flight', admin.call('task.create', { repo: 'hooks/repo', title: 'in flight' }));
    await io.syncHeld();
    const acceptA = watch(io, 'answer:accept-a', a.accept(offerA.offer_id));
    const acceptB = watch(io, 'answer:accept-b', b.accept(offerB.offer_id));
    // Both accepts ran in the engine (their leases exist in memory), and wait for the disk.
    await until(() => coordinator.runtime.engine.state.leases.size === 2, 'both accepts reached the engine', 10_000);
    const afterFirst = io.log.length;
    io.releaseHeld();
    await inFlight.promise;
    await io.syncHeld();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(acceptA.settled() || acceptB.settled(), false, 'no accept is answered while the write holding its grant is unsynced');
    const batch = nextBatch(io, afterFirst);
    assert.equal(batch.writes, 1, 'the two accepts went to disk in one write');
    assert.deepEqual(batch.events.filter((e) => e.type === 'lease.granted').map((e) => e.task_id).sort(), [offerA.task_id, offerB.task_id].sort(), 'one write and one sync hold both connections\' grants');
    io.releaseHeld();
    const [{ lease: leaseA }] = await Promise.all([acceptA.promise, acceptB.promise]);
    for (const label of ['answer:accept-a', 'answer:accept-b']) {
      assert.ok(io.find((e) => e.op === 'mark' && e.text === label) > batch.synced, `${label} came after the sync of its write`);
    }

    // A's report frees its place: the offer of the waiting task is made durable in the report's write.
    const beforeReport = io.log.length;
    const reported = watch(io, 'answer:report', a.report(leaseA.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/hooks/repo/pull/1', gates: GATES } }));
    await io.syncHeld();
    const reportBatch = nextBatch(io, beforeReport);
    assert.deepEqual(reportBatch.events.map((e) => e.type), ['pr.opened', 'offer.created'], 'the freed place is offered in the same write as the report that freed it');
    assert.equal(reportBatch.events[1]?.task_id, waiting.id);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reported.settled(), false, 'the report is not answered while its write is unsynced');
    assert.equal(a.offers.size, 0, 'nor is the offer pushed');
    io.release();
    await reported.promise;
    assert.equal((await nextOffer(a, 10_000)).task_id, waiting.id);
    figures.syncs_withheld += io.syncsWithheld;
  } finally {
    io.release();
    for (const w of workers) w.close();
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
