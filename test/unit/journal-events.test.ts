import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { JOURNAL_EVENTS, JOURNAL_EVENT_TYPES, JournalEvent, journalEventSchema, type JournalEventType } from '../../protocol/journal-events.ts';
import { FOLD } from '../../coordinator/state/fold.ts';
import { State } from '../../coordinator/state/state.ts';
import { toJournalEvent, type StoredEvent } from '../../coordinator/state/stored-event.ts';
import type { Snapshot } from '../../coordinator/state/snapshot.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { ManualClock } from '../../coordinator/clock.ts';
import { writeEveryEvent } from '../helpers/every-event.ts';
import { checkJournal } from '../helpers/invariants.ts';
import { tempDir } from '../helpers/coordinator.ts';

/** Types no coordinator writes today; readers and the fold accept them. */
const INFORMATIONAL: readonly JournalEventType[] = ['coordinator.started', 'worker.heartbeat_lost'];
const FIXTURE = 'test/fixtures/journal-0.1';

const ajv = new Ajv({ allErrors: true, strict: false });
const byType = new Map<string, ValidateFunction>(Object.values(JOURNAL_EVENTS).map((d) => [d.type, ajv.compile(journalEventSchema(d))]));
const anyEvent = ajv.compile(JournalEvent);

/** Each event as served: it fits the schema of its type and of any event, and carries no secret. */
function assertServedAsSpecified(events: readonly StoredEvent[]): void {
  for (const e of events) {
    const wire = toJournalEvent(e);
    const validate = byType.get(e.type);
    assert.ok(validate, `no schema for ${e.type}`);
    assert.ok(validate(wire), `seq ${e.seq} ${e.type} does not fit its schema: ${ajv.errorsText(validate.errors)}`);
    assert.ok(anyEvent(wire), `seq ${e.seq} ${e.type} does not fit JournalEvent`);
    assert.doesNotMatch(JSON.stringify(wire), /token_hash|"idem"/, `seq ${e.seq} ${e.type} serves a secret`);
  }
}

function readFixture(): StoredEvent[] {
  return readFileSync(join(FIXTURE, 'journal.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as StoredEvent);
}

test('every event type the coordinator writes is served as its wire schema says, without secrets', async () => {
  const store = new MemoryStore();
  const runtime = await writeEveryEvent(store);
  try {
    const events = await store.readJournal(0, 10_000);
    const written = new Set(events.map((e) => e.type));
    const expected = JOURNAL_EVENT_TYPES.filter((t) => !INFORMATIONAL.includes(t));
    // A new event type must be added to the history in test/helpers/every-event.ts.
    assert.deepEqual([...written].sort(), [...expected].sort());
    assertServedAsSpecified(events);
    assert.deepEqual(checkJournal(events, runtime.engine.state), []);
  } finally {
    await runtime.close();
  }
});

test('a journal written before the typed journal replays to the state its snapshot holds, and each event fits its schema', () => {
  const events = readFixture();
  assert.deepEqual(checkJournal(events), []);
  const replayed = new State();
  for (const e of events) replayed.apply(e);
  const snapshot = JSON.parse(readFileSync(join(FIXTURE, 'state.json'), 'utf8')) as Snapshot;
  assert.equal(snapshot.seq, events.length);
  // The per-contributor indexes came later: that snapshot has no merge counts and no PR authors,
  // which the replay rebuilds. A coordinator restored from it starts those counts at zero (caps
  // start low, never high); everything else must match.
  const view = replayed.durableView() as { merged_by?: unknown; punctuality?: unknown; tasks: Array<{ pr_worker_id?: string }> };
  view.merged_by = {};
  // So did the on-time record that routes an expired task's retry: restored, everyone starts even.
  delete view.punctuality;
  for (const task of view.tasks) delete task.pr_worker_id;
  // And the seq of the event carrying each idempotency record: that snapshot's keys keep their
  // answers instead, the replayed ones say where the journal has them. Keys must match.
  const restored = State.fromSnapshot(snapshot);
  const keysOnly = (records: ReadonlyArray<object>): unknown[] => records.map((r) => {
    const { seq: _s, answer: _a, ...rest } = r as Record<string, unknown>;
    return rest;
  });
  assert.deepEqual(keysOnly(replayed.toSnapshot().idempotency), keysOnly(restored.toSnapshot().idempotency));
  assert.deepEqual(view, restored.durableView());
  assertServedAsSpecified(events);
});

test('a coordinator opens that data dir, serves its archived tasks and replays its idempotency keys', async () => {
  const dir = tempDir();
  try {
    cpSync(FIXTURE, dir, { recursive: true });
    // An hour after the history, with its admin token: its keys are still live.
    const token = 'owpm_every_event_admin';
    const runtime = await Runtime.open({ store: new LowdbStore(dir), clock: new ManualClock(Date.UTC(2026, 0, 1, 1)), timers: false, adminTokens: [token] });
    try {
      const admin = runtime.authenticate(token);
      assert.ok(admin);
      const ack = await runtime.call(admin, 'task.get', { task_id: 'T-1' });
      assert.ok(ack.ok, JSON.stringify(ack));
      assert.equal((ack.data as { task: { state: string } }).task.state, 'merged');
      // The payload hash the old coordinator stored matches this one's: the same request replays, another is refused.
      const seq = runtime.engine.state.seq;
      const first = { repo: 'octo/every', max_open_prs: 10, max_new_prs_per_hour: 10, max_attempts: 5, idempotency_key: 'k1' };
      const replay = await runtime.call(admin, 'repo.configure', first);
      assert.ok(replay.ok, JSON.stringify(replay));
      assert.equal(runtime.engine.state.seq, seq, 'a replay writes nothing');
      const reused = await runtime.call(admin, 'repo.configure', { ...first, max_open_prs: 11 });
      assert.equal(reused.ok ? 'ok' : reused.error.code, 'IDEMPOTENCY_KEY_REUSED');
    } finally {
      await runtime.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fold has a handler for exactly the event types of the protocol; another type stops a replay', () => {
  assert.deepEqual(Object.keys(FOLD).sort(), [...JOURNAL_EVENT_TYPES].sort());
  const state = new State();
  const alien = { seq: 1, at: 0, type: 'task.teleported', data: {} } as unknown as StoredEvent;
  assert.throws(() => state.apply(alien), /unknown journal event type task\.teleported at seq 1/);
  assert.equal(state.seq, 0);
});
