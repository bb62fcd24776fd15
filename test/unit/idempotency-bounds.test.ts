/**
 * The idempotency keys the coordinator remembers follow live memory, not history (SPEC §5.12):
 * answers are kept as JSON text and only the newest of them in memory (an older key's answer is
 * read back from the journal when it is replayed), a replay answers an equal copy of the first
 * answer, and only past a count bound far above a real pool's 24 h does the oldest key go; a
 * request with a forgotten key is a new request, as after 24 h.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';
import { IdempotencyKeys } from '../../coordinator/state/idempotency-keys.ts';
import { State } from '../../coordinator/state/state.ts';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { Turns } from '../../coordinator/turns.ts';

test('a replayed accept answers the first answer, though the task has moved on since', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  h.task('o/r');
  const w = h.worker({ capacity: 1 });
  h.settle();
  const params = { offer_id: h.offerOf(w)!.offer_id, idempotency_key: 'accept-1' };
  const first = h.engine.execute(w, 'offer.accept', params);
  assert.equal(first.error, undefined);
  const { lease } = first.result as { lease: { lease_id: string; epoch: number } };
  h.ok(w, 'lease.release', { lease_id: lease.lease_id, epoch: lease.epoch });
  const replay = h.engine.execute(w, 'offer.accept', params);
  assert.ok(replay.replayOf, 'answered from the kept key');
  assert.equal(replay.events.length, 0);
  assert.deepEqual(replay.result, first.result, 'the task is ready again, yet the replay shows it as it was leased');
  // A caller that changes the answer it got does not change the next replay.
  (replay.result as { task: { title: string } }).task.title = 'changed by a caller';
  assert.deepEqual(h.engine.execute(w, 'offer.accept', params).result, first.result);
});

test('past the count bound the oldest key is forgotten; its replay is a new request', () => {
  const h = new EngineHarness({ idempotencyLimits: { maxKeys: 3, maxAnswerBytes: 1 << 30 } });
  h.repo('o/r'); // repo.configure's key is the first to go
  for (const k of ['k1', 'k2', 'k3']) h.ok(h.admin, 'task.create', { repo: 'o/r', title: k, idempotency_key: k });
  assert.equal(h.engine.state.idempotency.size, 3);
  assert.deepEqual([...h.engine.state.idempotency.values()].map((r) => r.key), ['k1', 'k2', 'k3']);
  const tasks = h.engine.state.tasks.size;
  const kept = h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'k3', idempotency_key: 'k3' });
  assert.ok(kept.replayOf, 'the newest key is still kept');
  assert.equal(h.engine.state.tasks.size, tasks);
  h.ok(h.admin, 'task.create', { repo: 'o/r', title: 'k4', idempotency_key: 'k4' });
  assert.equal(h.engine.state.idempotency.size, 3);
  const forgotten = h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'k1', idempotency_key: 'k1' });
  assert.equal(forgotten.replayOf, undefined, 'k1 was the oldest: forgotten, so it runs as a new request');
  assert.equal(forgotten.error, undefined);
  assert.equal(h.engine.state.tasks.size, tasks + 2);
});

test('past the byte bound the oldest answers leave memory, their keys stay; a key with no journaled record leaves whole', () => {
  const keys = new IdempotencyKeys();
  keys.limits = { maxKeys: 1000, maxAnswerBytes: 2000 };
  const answer = { text: 'x'.repeat(300) };
  for (let i = 0; i < 10; i += 1) keys.remember({ scope: 'worker:W-1', key: `k${i}`, op: 'task.create', hash: 'h', result: answer, at: i }, 100 + i);
  assert.ok(keys.answerBytes <= 2000, `held ${keys.answerBytes} bytes`);
  assert.equal(keys.size, 10, 'every key is still recognised');
  const held = [...keys.values()].filter((r) => r.answer !== undefined).map((r) => r.key);
  assert.ok(held.length >= 3 && held.length < 10, `held ${held.length} answers`);
  assert.deepEqual(held, Array.from({ length: held.length }, (_, i) => `k${10 - held.length + i}`), 'the newest answers are held');
  assert.equal(keys.get('worker:W-1', 'k0')?.seq, 100, 'the oldest key keeps where its answer is journaled');
  // Read back from the journal, an answer is held again as the newest.
  keys.fill(keys.get('worker:W-1', 'k0')!, answer);
  assert.deepEqual(JSON.parse(keys.get('worker:W-1', 'k0')!.answer!), answer);
  assert.equal(keys.get('worker:W-1', 'k1')?.answer, undefined);
  // Without a seq the answer cannot be read back: such a key is forgotten with its answer.
  const unjournaled = new IdempotencyKeys();
  unjournaled.limits = { maxKeys: 1000, maxAnswerBytes: 2000 };
  for (let i = 0; i < 10; i += 1) unjournaled.remember({ scope: 's', key: `k${i}`, op: 'task.create', hash: 'h', result: answer, at: i });
  assert.ok(unjournaled.size < 10 && unjournaled.get('s', 'k0') === undefined);
});

test('a replay whose answer left memory is answered from the journal, equal to the first answer', async () => {
  const clock = new ManualClock();
  const runtime = await Runtime.open({ store: new MemoryStore(), clock, adminTokens: ['owpm_idem'], timers: false, idempotencyLimits: { maxKeys: 1000, maxAnswerBytes: 1 } });
  try {
    const admin = runtime.authenticate('owpm_idem');
    assert.ok(admin);
    assert.ok((await runtime.call(admin, 'repo.configure', { repo: 'o/r', idempotency_key: 'r' })).ok);
    const first = await runtime.call(admin, 'task.create', { repo: 'o/r', title: 'once', idempotency_key: 'c1' });
    assert.ok(first.ok);
    assert.ok((await runtime.call(admin, 'task.create', { repo: 'o/r', title: 'twice', idempotency_key: 'c2' })).ok);
    const kept = [...runtime.engine.state.idempotency.values()].find((r) => r.key === 'c1');
    assert.equal(kept?.answer, undefined, 'c1\'s answer left memory when c2\'s came');
    const tasks = runtime.engine.state.tasks.size;
    const replay = await runtime.call(admin, 'task.create', { repo: 'o/r', title: 'once', idempotency_key: 'c1' });
    assert.deepEqual(replay, first, 'the first answer, read back from the journal');
    assert.equal(runtime.engine.state.tasks.size, tasks, 'nothing created twice');
  } finally {
    await runtime.close();
  }
});

test('a key used again after it expired moves to the young end, and the sweep forgets only the old ones', () => {
  const keys = new IdempotencyKeys();
  keys.remember({ scope: 's', key: 'a', op: 'o', hash: 'h', result: 1, at: 10 });
  keys.remember({ scope: 's', key: 'b', op: 'o', hash: 'h', result: 2, at: 20 });
  keys.remember({ scope: 's', key: 'a', op: 'o', hash: 'h', result: 3, at: 30 });
  assert.deepEqual([...keys.values()].map((r) => r.key), ['b', 'a']);
  keys.forgetUntil(25);
  assert.deepEqual([...keys.values()].map((r) => `${r.key}=${r.answer}`), ['a=3']);
});

test('a snapshot keeps a key without its answer (the journal has it), and a snapshot written with answers as objects still loads', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  const first = h.ok(h.admin, 'task.create', { repo: 'o/r', title: 'once', idempotency_key: 'c1' });
  const seq = h.engine.state.seq;
  const snap = h.engine.state.toSnapshot();
  const restored = State.fromSnapshot(JSON.parse(JSON.stringify(snap)));
  const kept = [...restored.idempotency.values()].find((r) => r.key === 'c1');
  assert.ok(kept);
  assert.equal(kept.answer, undefined, 'no answer in the snapshot');
  assert.equal(kept.seq, seq, 'but the seq of the event that carries it');
  // Before, a snapshot held { ..., result: <the answer> } and no seq.
  const old = { ...snap, idempotency: snap.idempotency.map((r) => ({ scope: r.scope, key: r.key, op: r.op, hash: r.hash, at: r.at, ...(r.key === 'c1' ? { result: first } : { result: null }) })) };
  const fromOld = State.fromSnapshot(JSON.parse(JSON.stringify(old)));
  const oldKept = [...fromOld.idempotency.values()].find((r) => r.key === 'c1');
  assert.ok(oldKept?.answer);
  assert.deepEqual(JSON.parse(oldKept.answer), first);
});

test('a snapshot\'s records restored in bulk are the keys remember would keep, in the same order', () => {
  const records = [
    { scope: 'worker:W-1', key: 'a', op: 'offer.accept', hash: 'h1', at: 1, seq: 10 },
    { scope: 'worker:W-2', key: 'a', op: 'offer.accept', hash: 'h2', at: 2, seq: 11 },
    // Written before records carried their answer's seq, with the answer: the general path.
    { scope: 'worker:W-1', key: 'old', op: 'task.create', hash: 'h3', at: 3, result: { ok: 1 } },
    { scope: 'worker:W-1', key: 'b', op: 'lease.report_pr', hash: 'h4', at: 4, seq: 12 },
    // The same key again: the later record, at the later place.
    { scope: 'worker:W-1', key: 'a', op: 'offer.accept', hash: 'h5', at: 5, seq: 13 },
  ];
  const bulk = new IdempotencyKeys();
  bulk.restore(records);
  const one = new IdempotencyKeys();
  for (const rec of records) one.remember(rec);
  // As JSON: remember builds every record with all its fields (an absent seq or answer is undefined), restore keeps the parsed ones.
  const view = (keys: IdempotencyKeys) => [...keys.values()].map((r) => JSON.parse(JSON.stringify(r)) as Record<string, unknown>);
  assert.deepEqual(view(bulk), view(one));
  assert.deepEqual(view(bulk).map((r) => `${r.scope}/${r.key}`), ['worker:W-2/a', 'worker:W-1/old', 'worker:W-1/b', 'worker:W-1/a']);
  assert.equal(bulk.get('worker:W-1', 'old')?.answer, '{"ok":1}');
  // The oldest go first when time passes, and past the count bound.
  bulk.forgetUntil(3);
  assert.deepEqual(view(bulk).map((r) => r.key), ['b', 'a']);
  const bounded = new IdempotencyKeys();
  bounded.limits = { maxKeys: 2, maxAnswerBytes: 1 << 20 };
  bounded.restore(records);
  assert.deepEqual(view(bounded).map((r) => `${r.scope}/${r.key}`), ['worker:W-1/b', 'worker:W-1/a']);
});

test('answers leave memory oldest first through thousands of keys forgotten, used again and read back: the bytes counted are the bytes held', async () => {
  const keys = new IdempotencyKeys();
  keys.limits = { maxKeys: 1_000_000, maxAnswerBytes: 200_000 };
  const remember = (i: number, seq: number): void => keys.remember({ scope: `worker:W-${i % 5}`, key: `k${i}`, op: 'offer.accept', hash: 'h', result: { text: 'x'.repeat(50 + (i % 100)) }, at: seq }, seq);
  const check = (when: string): void => {
    const records = [...keys.values()];
    const held = records.filter((r) => r.answer !== undefined);
    assert.equal(keys.answerBytes, held.reduce((n, r) => n + (r.answer as string).length, 0), `${when}: the count matches the answers held`);
    assert.ok(keys.answerBytes <= 200_000 || held.length === 1, `${when}: within the bound`);
    // Oldest first: the answers held are the newest keys (those read back are the newest of all).
    const firstHeld = records.findIndex((r) => r.answer !== undefined);
    assert.ok(records.slice(firstHeld).every((r) => r.answer !== undefined), `${when}: no older answer held than a newer one dropped`);
  };
  let seq = 0;
  for (let i = 0; i < 6_000; i += 1) remember(i, (seq += 1));
  check('filled');
  // A snapshot covers the first 5,000 (held answers among them): memory forgets them.
  await keys.forgetCovered(5_000, new Turns());
  check('after forgetting the covered keys');
  assert.equal(keys.size, 1_000);
  // Keys used again (a new record each), and new ones, past the bound many times over.
  for (let i = 5_500; i < 20_000; i += 1) remember(i, (seq += 1));
  check('after reuse and new keys');
  // An answer read back from the journal is held again, as the newest, and the next trims go past it in order.
  const old = keys.get('worker:W-0', 'k5500')!;
  assert.equal(old.answer, undefined);
  keys.fill(old, { text: 'read back' });
  assert.equal(old.answer, JSON.stringify({ text: 'read back' }));
  for (let i = 20_000; i < 20_100; i += 1) remember(i, (seq += 1));
  assert.equal(keys.answerBytes, [...keys.values()].filter((r) => r.answer !== undefined).reduce((n, r) => n + (r.answer as string).length, 0));
});
