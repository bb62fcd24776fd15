/**
 * The runtime writes its snapshot a slice at a time while commands go on (state/snapshot-capture.ts).
 * Through the runtime's calls, on each store: tasks changed, created, finished and archived and
 * workers changed while the snapshot is being written leave it exactly the state at its seq, and a
 * restart from it plus the journal after it is the live state. A crash in the middle of one
 * leaves the previous snapshot the one a restart reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { State } from '../../coordinator/state/state.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { LowdbStore, NODE_STORE_IO, type StoreIo } from '../../coordinator/store/lowdb.ts';
import type { Store } from '../../coordinator/store/store.ts';
import type { Principal } from '../../coordinator/auth.ts';
import { GATES, tempDir } from '../helpers/coordinator.ts';

const TOKEN = 'owpm_snapshot-while-writing-0000000000000';
const REPO = 'snap/busy';
const PROFILE = { skills: [], capacity: 50, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };

/** A runtime whose snapshots go one record per slice, so commands land between nearly every record. */
function open(store: Store, clock: ManualClock): Promise<Runtime> {
  return Runtime.open({ store, clock, adminTokens: [TOKEN], timers: false, snapshotEveryEvents: 1_000_000, snapshotSliceRecords: 1, archiveAfterMs: 1000 });
}

/** How far the commands run during a snapshot have got: a gated disk lets one snapshot piece through per command. */
interface Progress {
  steps: number;
  finished: boolean;
}

/**
 * A disk whose snapshot pieces wait, each, until one more command has been answered (they are
 * fsynced, slower than a piece): commands land between pieces whatever the machine's load.
 */
function gatedSnapshotIo(progress: Progress): StoreIo {
  let pieces = 0;
  return {
    ...NODE_STORE_IO,
    write: async (file, handle, data) => {
      if (file === 'snapshot') {
        pieces += 1;
        while (!progress.finished && progress.steps < pieces) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return NODE_STORE_IO.write(file, handle, data);
    },
  };
}

class Driver {
  private n = 0;
  readonly admin: Principal;
  constructor(readonly runtime: Runtime, readonly clock: ManualClock) {
    this.admin = runtime.authenticate(TOKEN) as Principal;
  }

  async call(p: Principal, name: Parameters<Runtime['call']>[1], params: Record<string, unknown>): Promise<any> {
    const ack = await this.runtime.call(p, name, { idempotency_key: `k${(this.n += 1)}`, ...params });
    if (!ack.ok) throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
    return ack.data;
  }

  async worker(login: string): Promise<Principal> {
    const { worker } = await this.call({ kind: 'anonymous' }, 'worker.register', { github_login: login, ...PROFILE });
    return { kind: 'worker', id: worker.id };
  }

  async task(title: string): Promise<string> {
    return (await this.call(this.admin, 'task.create', { repo: REPO, title })).task.id;
  }

  /** A task's whole life by claim: lease, PR, merged. */
  async life(w: Principal, taskId: string): Promise<void> {
    const { lease } = await this.call(w, 'task.claim', { task_id: taskId });
    await this.call(w, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/${REPO}/pull/${taskId.slice(2)}`, gates: GATES } });
    await this.call(this.admin, 'task.complete', { task_id: taskId, outcome: 'merged' });
  }
}

/** Builds a state with tasks in every stage, then snapshots it while changing, creating, finishing and archiving records. */
async function snapshotWhileBusy(d: Driver, progress: Progress): Promise<{ seq: number; during: StoredEvent[] }> {
  await d.call(d.admin, 'repo.configure', { repo: REPO, max_open_prs: 1000, max_new_prs_per_hour: 1000 });
  const ada = await d.worker('ada');
  const bob = await d.worker('bob');
  // Written first (records go out in creation order): the records changed below are still to come.
  await d.call(d.admin, 'task.create_many', { tasks: Array.from({ length: 300 }, (_, i) => ({ repo: REPO, title: `filler ${i}` })) });
  const tasks: string[] = [];
  for (let i = 0; i < 24; i += 1) tasks.push(await d.task(`t${i}`));
  for (const id of tasks.slice(0, 4)) await d.life(ada, id); // finished: archived during the snapshot
  const held: Array<{ lease_id: string; epoch: number }> = [];
  for (const id of tasks.slice(4, 8)) held.push((await d.call(bob, 'task.claim', { task_id: id })).lease);
  d.clock.advance(2000);

  const seq = d.runtime.engine.state.seq;
  let done = false;
  const snapshotting = d.runtime.snapshot().then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve)); // the capture has begun at `seq`
  const steps: Array<() => Promise<unknown>> = [
    () => d.runtime.sweep(), // archives the four merged tasks: records deleted mid-snapshot
    ...tasks.slice(8, 20).map((id, i) => () => d.call(d.admin, 'task.update', { task_id: id, priority: i + 1 })),
    ...held.map((lease) => () => d.call(bob, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'in_progress' })),
    () => d.call(ada, 'worker.update', { capacity: 7 }),
    () => d.call(d.admin, 'worker.set_trust', { worker_id: bob.kind === 'worker' ? bob.id : '', trust: 2 }),
    ...tasks.slice(20, 24).map((id) => () => d.life(ada, id)),
    () => d.task('created during the snapshot'),
    () => d.call(d.admin, 'task.cancel', { task_id: tasks[12] as string, reason: 'dropped' }),
  ];
  for (const step of steps) {
    if (done) break;
    await step();
    progress.steps += 1;
  }
  progress.finished = true;
  await snapshotting;
  const during = await d.runtime.store.readJournal(seq, 1_000_000);
  return { seq, during };
}

async function foldUpTo(store: Store, seq: number): Promise<State> {
  const state = new State();
  for (const e of await store.readJournal(0, 1_000_000)) if (e.seq <= seq) state.apply(e);
  return state;
}

const STORES: Array<[string, (progress: Progress) => { store: () => Store; cleanup: () => void }]> = [
  ['memory', () => {
    // Its pieces are kept at once, one per turn of the loop: commands land between them without a gate.
    const store = new MemoryStore();
    return { store: () => store, cleanup: () => undefined };
  }],
  ['lowdb', (progress) => {
    const dir = tempDir();
    return { store: () => new LowdbStore(dir, { io: gatedSnapshotIo(progress) }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }],
];

for (const [kind, make] of STORES) {
  test(`${kind}: a snapshot written while records are changed, created and deleted is the state at its seq, and a restart from it is the live state`, async () => {
    const progress: Progress = { steps: 0, finished: false };
    const { store, cleanup } = make(progress);
    try {
      const clock = new ManualClock();
      const runtime = await open(store(), clock);
      const { seq, during } = await snapshotWhileBusy(new Driver(runtime, clock), progress);
      assert.ok(during.some((e) => e.type === 'task.created' && e.data.task.title === 'created during the snapshot'), 'every step ran before the snapshot was written');
      const types = new Set(during.map((e) => e.type));
      for (const t of ['task.archived', 'task.updated', 'task.started', 'worker.updated', 'worker.trust_changed']) {
        assert.ok(types.has(t as StoredEvent['type']), `${t} was written while the snapshot was (${[...types].join(', ')})`);
      }
      const live = runtime.engine.state.durableView();
      await runtime.close({ snapshot: false });

      const reopened = store();
      const loaded = await reopened.load();
      assert.equal(loaded.snapshot?.seq, seq, 'the snapshot is at the seq it began at');
      assert.deepEqual(loaded.warnings, []);
      const { journal_offset: _o, journal_base: _b, ...written } = loaded.snapshot as unknown as Record<string, unknown>;
      const folded = JSON.parse(JSON.stringify((await foldUpTo(reopened, seq)).toSnapshot())) as { idempotency: Array<{ scope: string; key: string; seq: number }> };
      const covered = reopened.coveredKeys;
      if (covered) {
        // lowdb keeps the keys a snapshot covers beside it, in its key file: each folded key is there, none in the document.
        assert.deepEqual(written.idempotency, [], 'the document holds no idempotency records');
        for (const rec of folded.idempotency) assert.equal((await covered.find(rec.scope, rec.key, 0))?.seq, rec.seq, `key ${rec.key} is in the key file`);
        folded.idempotency = [];
      }
      assert.deepEqual(written, folded, 'the snapshot is exactly the journal folded up to its seq');
      await reopened.close();

      const again = await open(store(), new ManualClock());
      assert.deepEqual(again.engine.state.durableView(), live, 'snapshot plus the journal after it is the live state');
      await again.close({ snapshot: false });
    } finally {
      cleanup();
    }
  });
}

test('lowdb: a crash in the middle of writing a snapshot leaves the previous one, which a restart reads with the journal after it', async () => {
  const dir = tempDir();
  try {
    let stall = false;
    let pieces = 0;
    const io: StoreIo = {
      ...NODE_STORE_IO,
      // From the second piece of a stalled snapshot on, the process "dies": the write never finishes.
      write: (file, handle, data) => (file === 'snapshot' && stall && (pieces += 1) > 1 ? new Promise<void>(() => undefined) : NODE_STORE_IO.write(file, handle, data)),
    };
    const clock = new ManualClock();
    const runtime = await open(new LowdbStore(dir, { io }), clock);
    const d = new Driver(runtime, clock);
    await d.call(d.admin, 'repo.configure', { repo: REPO });
    const ada = await d.worker('ada');
    for (let i = 0; i < 10; i += 1) await d.task(`before ${i}`);
    await runtime.snapshot();
    const previous = runtime.engine.state.seq;
    for (let i = 0; i < 10; i += 1) await d.task(`after ${i}`);
    const id = await d.task('claimed after');
    await d.call(ada, 'task.claim', { task_id: id });
    stall = true;
    void runtime.snapshot();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(pieces > 1, 'the second snapshot was cut off mid-write');
    await d.task('after the crash began');
    const live = runtime.engine.state.durableView();
    // The process is gone: nothing is closed, the next one takes over the data directory.

    const store = new LowdbStore(dir);
    const loaded = await store.load();
    assert.equal(loaded.snapshot?.seq, previous, 'the previous snapshot is the one read');
    assert.deepEqual(loaded.warnings, [], 'and it is whole');
    await store.close();
    const again = await open(new LowdbStore(dir), new ManualClock());
    assert.deepEqual(again.engine.state.durableView(), live, 'the previous snapshot plus the journal after it is the state before the crash');
    await again.close({ snapshot: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
