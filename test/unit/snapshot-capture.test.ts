/**
 * A snapshot written a slice at a time while events keep being folded is exactly the state at its
 * seq: for every point of a history that writes every event type, and with the events landing
 * before, between and after the records they change, the text equals the state copied whole at
 * that seq, and restoring it and folding the rest gives the state that folded everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { State } from '../../coordinator/state/state.ts';
import { touchedBy } from '../../coordinator/state/snapshot-capture.ts';
import { compactRecord } from '../../coordinator/state/snapshot.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { writeEveryEvent } from '../helpers/every-event.ts';

async function everyEventJournal(): Promise<StoredEvent[]> {
  const store = new MemoryStore();
  const runtime = await writeEveryEvent(store);
  await runtime.close({ snapshot: false });
  return store.readJournal(0, 1_000_000);
}

function foldUpTo(journal: readonly StoredEvent[], seq: number): State {
  const state = new State();
  for (const e of journal) if (e.seq <= seq) state.apply(e);
  return state;
}

/** The capture's text at seq `at`, with `perSlice` events folded after each slice (Infinity: all of them before the first record). */
function captureWhileFolding(journal: readonly StoredEvent[], at: number, perSlice: number): { text: string; live: State } {
  const live = foldUpTo(journal, at);
  const capture = live.beginCapture({ journal_offset: 7 });
  let next = at;
  const fold = (n: number): void => {
    for (let i = 0; i < n && next < journal.length; i += 1) live.apply(journal[next++] as StoredEvent);
  };
  if (perSlice === Number.POSITIVE_INFINITY) fold(journal.length);
  let text = '';
  for (let piece = capture.next({ ms: 1e9, records: 1 }); piece !== null; piece = capture.next({ ms: 1e9, records: 1 })) {
    text += piece;
    fold(perSlice);
  }
  live.endCapture(capture);
  fold(journal.length);
  return { text, live };
}

test('a snapshot taken while events are folded between its slices is the state at its seq, at every seq of a history with every event type', async () => {
  const journal = await everyEventJournal();
  const types = new Set(journal.map((e) => e.type));
  assert.ok(types.has('task.archived') && types.has('pr.attached') && types.has('worker.updated') && types.has('task.created'), 'the history deletes, changes and creates records');
  assert.ok(foldUpTo(journal, journal.length).punctuality.size > 0, 'the history ends leases on time and late (the capture copies those counts at its seq and writes them last, in slices)');
  const whole = foldUpTo(journal, journal.length).durableView();
  let compared = 0;
  for (let at = 1; at < journal.length; at += 1) {
    const expected = JSON.parse(JSON.stringify(foldUpTo(journal, at).toSnapshot()));
    for (const perSlice of [1, 3, Number.POSITIVE_INFINITY]) {
      const { text, live } = captureWhileFolding(journal, at, perSlice);
      const written = JSON.parse(text);
      assert.equal(written.journal_offset, 7, 'the store\'s head fields are in the document');
      delete written.journal_offset;
      assert.deepEqual(written, expected, `the snapshot at seq ${at} (${perSlice} events per slice) differs from the state at seq ${at}`);
      const recovered = State.fromSnapshot(written);
      for (const e of journal) if (e.seq > at) recovered.apply(e);
      assert.deepEqual(recovered.durableView(), whole, `recovery from the snapshot at ${at} plus the tail differs from the whole journal folded`);
      assert.deepEqual(live.durableView(), whole, 'the live state folded on as if no snapshot were being written');
      compared += 1;
    }
  }
  assert.ok(compared > 100, `compared ${compared} snapshots`);
});

test('every record an event changes in place is one the capture copies first (touchedBy)', async () => {
  const journal = await everyEventJournal();
  const state = new State();
  for (const e of journal) {
    // Each record as a snapshot writes it (a key without the answer it may drop from memory).
    const records: Array<[string, object, () => string]> = [
      ...[...state.tasks.values()].map((t): [string, object, () => string] => [`task ${t.id}`, t, () => JSON.stringify(t)]),
      ...[...state.workers.values()].map((w): [string, object, () => string] => [`worker ${w.record.id}`, w.record, () => JSON.stringify(w.record)]),
      ...[...state.leases.values()].map((l): [string, object, () => string] => [`lease ${l.lease_id}`, l, () => JSON.stringify(l)]),
      ...[...state.offers.values()].map((o): [string, object, () => string] => [`offer ${o.offer_id}`, o, () => JSON.stringify(o)]),
      ...[...state.idempotency.values()].map((k): [string, object, () => string] => [`key ${k.key}`, k, () => JSON.stringify(compactRecord(k))]),
    ];
    const before = records.map(([name, r, text]) => [name, r, text, text()] as const);
    const copied = new Set(touchedBy(state, e).map(([, r]) => r));
    state.apply(e);
    for (const [name, r, text, was] of before) {
      if (text() !== was) assert.ok(copied.has(r), `${e.type} (seq ${e.seq}) changed ${name} in place, which touchedBy does not name`);
    }
  }
});
