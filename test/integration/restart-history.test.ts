/**
 * Restart reads a snapshot and a bounded tail, whatever the history (issue 20, item 6): the state
 * it rebuilds is the state the whole journal folds to, closed segments present and unread; a
 * snapshot taken while writes keep coming is exactly a prefix of the journal; and an idempotency
 * key whose record came back from a snapshot (which keeps no answers) still replays its answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { State } from '../../coordinator/state/state.ts';
import type { Snapshot } from '../../coordinator/state/snapshot.ts';
import { LowdbStore, NODE_STORE_IO, type StoreIo } from '../../coordinator/store/lowdb.ts';
import { principalScope, type Principal } from '../../coordinator/auth.ts';
import { makeHistory } from '../../bench/lib/history.ts';
import { tempDir, until } from '../helpers/coordinator.ts';

const TOKEN = 'owpm_restart-history-test-token-0000000000';

/** The state every journaled event folds to, read through the store (closed segments included). */
async function foldAll(store: LowdbStore, upTo = Number.POSITIVE_INFINITY): Promise<State> {
  const state = new State();
  for (let after = 0; ;) {
    const page = await store.readJournal(after, 5000);
    for (const e of page) if (e.seq <= upTo) state.apply(e);
    if (page.length < 5000 || (page.at(-1)?.seq ?? 0) >= upTo) return state;
    after = page.at(-1)?.seq ?? after;
  }
}

test('a restart over closed segments reads only the snapshot and the tail, and rebuilds the state the whole journal folds to', async () => {
  const dir = tempDir();
  try {
    await makeHistory({ dir, tasks: 600, ready: 40, adminToken: TOKEN, snapshotEveryEvents: 700, segmentBytes: 150_000, spanMs: 3_600_000 });
    const store = new LowdbStore(dir);
    const loaded = await store.load();
    assert.ok(store.closedSegments().length >= 2, `segments were closed (${store.closedSegments().length})`);
    const snapshot = loaded.snapshot as Snapshot;
    assert.ok(snapshot.seq >= (store.closedSegments().at(-1)?.last ?? 0), 'the snapshot covers every closed segment');
    assert.equal(loaded.events[0]?.seq, snapshot.seq + 1, 'the tail starts right after the snapshot');
    const restored = State.fromSnapshot(snapshot);
    for (const e of loaded.events) restored.apply(e);
    const whole = await foldAll(store);
    assert.equal(restored.seq, whole.seq);
    assert.deepEqual(restored.durableView(), whole.durableView());
    // What a restart parsed: the snapshot and the tail, not the segments' history.
    const segmentsBytes = store.closedSegments().length * 100_000;
    assert.ok((loaded.read?.journal_bytes ?? Infinity) < segmentsBytes, `the restart read ${loaded.read?.journal_bytes} journal bytes`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a snapshot written while writes keep coming is exactly the journal up to its seq, and the writes after it are kept', async () => {
  const dir = tempDir();
  try {
    // The snapshot's file write is held open while commands keep being journaled.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let snapshotWrites = 0;
    const io: StoreIo = {
      ...NODE_STORE_IO,
      async write(file, handle, data) {
        if (file === 'snapshot') {
          snapshotWrites += 1;
          await held;
        }
        return NODE_STORE_IO.write(file, handle, data);
      },
    };
    const open = (storeIo: StoreIo): Promise<Runtime> => Runtime.open({ store: new LowdbStore(dir, { io: storeIo }), clock: new ManualClock(), adminTokens: [TOKEN], timers: false });
    const runtime = await open(io);
    const admin = runtime.authenticate(TOKEN) as Principal;
    const create = (i: number): Promise<unknown> => runtime.call(admin, 'task.create', { repo: 'snap/one', title: `t${i}`, idempotency_key: `t${i}` });
    await runtime.call(admin, 'repo.configure', { repo: 'snap/one', idempotency_key: 'r' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => create(i)));
    const snapshotting = runtime.snapshot();
    // Commands that arrive in the same turn as the request: the snapshot waits for them to be durable.
    const sameTurn = Array.from({ length: 20 }, (_, i) => create(50 + i));
    await until(() => snapshotWrites === 1, 'the snapshot write began');
    // Commands while the snapshot's file is being written: journaled and acknowledged meanwhile.
    const during = await Promise.all(Array.from({ length: 100 }, (_, i) => create(70 + i)));
    for (const ack of [...(await Promise.all(sameTurn)), ...during]) assert.equal((ack as { ok: boolean }).ok, true);
    release();
    await snapshotting;
    const last = runtime.engine.state.durableView();
    await runtime.close({ snapshot: false });

    const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Snapshot;
    assert.equal(file.seq, 1 + 1 + 50 + 20, 'the snapshot holds everything asked before it began, nothing written during it');
    const store = new LowdbStore(dir);
    await store.load();
    assert.deepEqual(State.fromSnapshot(file).durableView(), (await foldAll(store, file.seq)).durableView());
    await store.close();
    const again = await open(NODE_STORE_IO);
    assert.deepEqual(again.engine.state.durableView(), last, 'a restart from it plus the tail has every acknowledged change');
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Creates a task under an idempotency key, stops the runtime the way `stop` does, starts it again
 * and replays the key: `inspect` looks at what the restart kept before the replay.
 */
async function replayAfterRestart(
  key: string,
  stop: (runtime: Runtime, dir: string) => Promise<void>,
  inspect: (runtime: Runtime, admin: Principal, dir: string) => void,
): Promise<{ runtime: Runtime; admin: Principal; dir: string }> {
  const dir = tempDir();
  const open = (): Promise<Runtime> => Runtime.open({ store: new LowdbStore(dir), clock: new ManualClock(), adminTokens: [TOKEN], timers: false });
  let runtime = await open();
  let admin = runtime.authenticate(TOKEN) as Principal;
  await runtime.call(admin, 'repo.configure', { repo: 'idem/one', idempotency_key: 'r' });
  const first = await runtime.call(admin, 'task.create', { repo: 'idem/one', title: 'once', idempotency_key: key });
  assert.equal(first.ok, true);
  await stop(runtime, dir);
  runtime = await open();
  admin = runtime.authenticate(TOKEN) as Principal;
  inspect(runtime, admin, dir);
  const seq = runtime.engine.state.seq;
  const again = await runtime.call(admin, 'task.create', { repo: 'idem/one', title: 'once', idempotency_key: key });
  assert.equal(JSON.stringify(again), JSON.stringify(first), 'the replay answers what the first request answered, byte for byte');
  assert.equal(runtime.engine.state.seq, seq, 'and changes nothing');
  return { runtime, admin, dir };
}

test('a snapshot keeps no idempotency answers, and a key replayed after a restart from it answers as the first time', async () => {
  const { runtime, admin, dir } = await replayAfterRestart('create-once', (r) => r.close(), (r, a, at) => {
    const file = JSON.parse(readFileSync(join(at, 'state.json'), 'utf8')) as Snapshot;
    assert.deepEqual(file.idempotency, [], 'the snapshot keeps its keys in the key file beside it');
    assert.equal(r.engine.state.idempotency.get(principalScope(a), 'create-once'), undefined, 'and the start did not read them');
    assert.ok(r.store.coveredKeys?.mayHold(principalScope(a), 'create-once', 0), 'the key file has the key');
  });
  try {
    const reused = await runtime.call(admin, 'task.create', { repo: 'idem/one', title: 'another', idempotency_key: 'create-once' });
    assert.equal(reused.ok ? 'ok' : reused.error.code, 'IDEMPOTENCY_KEY_REUSED');
    await runtime.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key folded from the journal tail is kept without its answer, and replayed after a crash it answers as the first time', async () => {
  // A crash: the store lets go of the files, no snapshot is taken, so the key is in the tail only.
  const { runtime, dir } = await replayAfterRestart('create-in-tail', (r) => r.store.close(), (r, admin) => {
    const rec = r.engine.state.idempotency.get(principalScope(admin), 'create-in-tail');
    assert.ok(rec, 'the replayed tail remembers the key');
    assert.equal(rec.answer, undefined, 'without re-serialising its answer: the journal keeps it');
  });
  try {
    await runtime.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
