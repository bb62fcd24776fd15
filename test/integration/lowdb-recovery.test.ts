import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { StoreCorruptError } from '../../coordinator/store/store.ts';
import { State } from '../../coordinator/state/state.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { tempDir } from '../helpers/coordinator.ts';

function events(from: number, count: number): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => ({ seq: from + i, at: 1000 + i, type: 'coordinator.started', data: { n: from + i } }));
}

/** A data dir with events 1..5 under a snapshot at seq 5, then events 6..8 after it. */
async function snapshotThenTail(): Promise<string> {
  const dir = tempDir();
  const store = new LowdbStore(dir);
  await store.load();
  await store.append(events(1, 5));
  const state = new State();
  for (const e of events(1, 5)) state.apply(e);
  await store.saveSnapshot(state.toSnapshot());
  await store.append(events(6, 3));
  await store.close();
  return dir;
}

test('a restart parses the journal from where the snapshot ends, not the whole history', async () => {
  const dir = await snapshotThenTail();
  try {
    // Damage a line the snapshot already covers: a full re-read would refuse to start over it.
    const journal = join(dir, 'journal.jsonl');
    const text = readFileSync(journal, 'utf8');
    writeFileSync(journal, text.replace('"n":2}', '"n":2!'));
    const store = new LowdbStore(dir);
    const loaded = await store.load();
    assert.equal(loaded.snapshot?.seq, 5);
    assert.deepEqual(loaded.events.map((e) => e.seq), [6, 7, 8]);
    await store.append(events(9, 1));
    assert.deepEqual((await store.readJournal(7, 10)).map((e) => e.seq), [8, 9]);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a restart with nothing after the snapshot reads the snapshot\'s last event without scanning the history before it', async () => {
  const dir = tempDir();
  try {
    const store = new LowdbStore(dir);
    await store.load();
    await store.append(events(1, 600));
    const state = new State();
    for (const e of events(1, 600)) state.apply(e);
    await store.saveSnapshot(state.toSnapshot());
    await store.close();
    // Damage the first line, keeping every offset: a scan from the start of the file would stop on it.
    const journal = join(dir, 'journal.jsonl');
    const text = readFileSync(journal, 'utf8');
    writeFileSync(journal, text.replace('"n":1}', '"n":1!'));
    const again = new LowdbStore(dir);
    const loaded = await again.load();
    assert.deepEqual(loaded.events, []);
    // What recovery asks for (Runtime.recover: the time of the last event, so the clock never runs behind it).
    assert.deepEqual((await again.readJournal(599, 1)).map((e) => [e.seq, e.at]), [[600, 1599]]);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a snapshot offset that does not line up with the journal falls back to reading all of it', async () => {
  const dir = await snapshotThenTail();
  try {
    const statePath = join(dir, 'state.json');
    const snapshot = JSON.parse(readFileSync(statePath, 'utf8')) as { journal_offset: number };
    snapshot.journal_offset = 7; // the middle of the first line
    writeFileSync(statePath, JSON.stringify(snapshot));
    const store = new LowdbStore(dir);
    const loaded = await store.load();
    assert.deepEqual(loaded.events.map((e) => e.seq), [6, 7, 8]);
    assert.deepEqual((await store.readJournal(0, 100)).map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a journal cut back below the snapshot is still refused', async () => {
  const dir = await snapshotThenTail();
  try {
    const journal = join(dir, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    truncateSync(journal, Buffer.byteLength(`${lines.slice(0, 3).join('\n')}\n`));
    await assert.rejects(new LowdbStore(dir).load(), StoreCorruptError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A data dir whose journal was closed into segments at each of three snapshots (40 events each), then 2 events after. */
async function segmented(): Promise<string> {
  const dir = tempDir();
  const store = new LowdbStore(dir, { segmentBytes: 1 });
  await store.load();
  const state = new State();
  for (let round = 0; round < 3; round += 1) {
    const batch = events(round * 40 + 1, 40);
    await store.append(batch);
    for (const e of batch) state.apply(e);
    await store.saveSnapshot(state.toSnapshot());
  }
  await store.append(events(121, 2));
  assert.deepEqual(store.closedSegments().map((s) => [s.first, s.last]), [[1, 40], [41, 80], [81, 120]]);
  await store.close();
  return dir;
}

test('closed journal segments are kept for audit and never read by a restart', async () => {
  const dir = await segmented();
  try {
    assert.deepEqual(readdirSync(join(dir, 'journal-segments')).sort(), ['000000000001-000000000040.jsonl', '000000000041-000000000080.jsonl', '000000000081-000000000120.jsonl']);
    // Damage the oldest segment: a restart does not notice, since it reads none of them.
    const oldest = join(dir, 'journal-segments', '000000000001-000000000040.jsonl');
    writeFileSync(oldest, readFileSync(oldest, 'utf8').replace('"n":2}', '"n":2!'));
    const store = new LowdbStore(dir, { segmentBytes: 1 });
    const loaded = await store.load();
    assert.equal(loaded.snapshot?.seq, 120);
    assert.deepEqual(loaded.events.map((e) => e.seq), [121, 122]);
    assert.deepEqual((await store.readJournal(119, 1)).map((e) => e.seq), [120], 'the last event of a segment, from the file\'s end');
    assert.deepEqual((await store.readJournal(45, 3)).map((e) => e.seq), [46, 47, 48], 'history from a closed segment');
    // Only a read of that history meets the damage.
    await assert.rejects(store.readJournal(0, 10), SyntaxError);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stop between closing a segment and starting the next file starts an empty journal after the segment', async () => {
  const dir = tempDir();
  try {
    const store = new LowdbStore(dir, { segmentBytes: 1 });
    await store.load();
    await store.append(events(1, 10));
    const state = new State();
    for (const e of events(1, 10)) state.apply(e);
    await store.saveSnapshot(state.toSnapshot());
    await store.close();
    // What a crash right after the rename leaves: the segment, the snapshot, and no journal.jsonl.
    rmSync(join(dir, 'journal.jsonl'));
    const again = new LowdbStore(dir, { segmentBytes: 1 });
    const loaded = await again.load();
    assert.equal(loaded.snapshot?.seq, 10);
    assert.deepEqual(loaded.events, []);
    await again.append(events(11, 2));
    assert.deepEqual((await again.readJournal(8, 10)).map((e) => e.seq), [9, 10, 11, 12]);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a readable snapshot the segments are replayed; a gap between segments refuses to start', async () => {
  const dir = await segmented();
  try {
    writeFileSync(join(dir, 'state.json'), '{"format":');
    const store = new LowdbStore(dir, { segmentBytes: 1 });
    const loaded = await store.load();
    assert.equal(loaded.snapshot, null);
    assert.deepEqual(loaded.events.map((e) => e.seq), Array.from({ length: 122 }, (_, i) => i + 1));
    assert.match(loaded.warnings.join('\n'), /rebuilt the state by replaying all 122 journal events/);
    await store.close();
    rmSync(join(dir, 'journal-segments', '000000000041-000000000080.jsonl'));
    await assert.rejects(new LowdbStore(dir, { segmentBytes: 1 }).load(), (e: Error) => e instanceof StoreCorruptError && /gap or an overlap/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal reads start inside a closed segment at the indexed line nearest the seq asked for', async () => {
  const dir = tempDir();
  try {
    const store = new LowdbStore(dir, { segmentBytes: 1 });
    await store.load();
    // Lines of different lengths, so a wrong offset lands mid-line or on the wrong event.
    const batch = Array.from({ length: 1000 }, (_, i): StoredEvent => ({ seq: i + 1, at: 1000 + i, type: 'coordinator.started', data: { n: i + 1, pad: 'x'.repeat(i % 37) } }));
    await store.append(batch);
    const state = new State();
    for (const e of batch) state.apply(e);
    await store.saveSnapshot(state.toSnapshot());
    await store.append(events(1001, 5));
    assert.equal(store.closedSegments().length, 1);
    for (const after of [0, 1, 254, 255, 256, 257, 511, 512, 700, 998]) {
      assert.deepEqual((await store.readJournal(after, 3)).map((e) => e.seq), [after + 1, after + 2, after + 3], `three events after seq ${after}`);
    }
    assert.deepEqual((await store.readJournal(997, 6)).map((e) => e.seq), [998, 999, 1000, 1001, 1002, 1003], 'across the segment\'s end into the active file');
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
