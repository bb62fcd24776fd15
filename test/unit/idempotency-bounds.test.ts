/**
 * The idempotency keys the coordinator remembers are bounded by live memory, not by history
 * (SPEC §5.12, after IDEM-005): answers are kept as JSON text, a replay answers an equal copy of
 * the first answer, and past the bound the oldest key goes first; a request with a forgotten key
 * is a new request, as after 24 h.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';
import { IdempotencyKeys } from '../../coordinator/state/idempotency-keys.ts';
import { State } from '../../coordinator/state/state.ts';

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
  const h = new EngineHarness({ idempotencyLimits: { maxKeys: 3, maxBytes: 1 << 30 } });
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

test('past the byte bound the oldest answers are forgotten first', () => {
  const keys = new IdempotencyKeys();
  keys.limits = { maxKeys: 1000, maxBytes: 2000 };
  const answer = { text: 'x'.repeat(300) };
  for (let i = 0; i < 10; i += 1) keys.remember({ scope: 'worker:W-1', key: `k${i}`, op: 'task.create', hash: 'h', result: answer, at: i });
  assert.ok(keys.keptBytes <= 2000, `kept ${keys.keptBytes} bytes`);
  assert.ok(keys.size >= 3 && keys.size < 10, `kept ${keys.size} keys`);
  const kept = [...keys.values()].map((r) => r.key);
  assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => `k${10 - kept.length + i}`), 'the newest are kept');
  assert.equal(keys.get('worker:W-1', 'k0'), undefined);
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

test('kept keys survive a snapshot, and a snapshot written with answers as objects still loads', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  const first = h.ok(h.admin, 'task.create', { repo: 'o/r', title: 'once', idempotency_key: 'c1' });
  const snap = h.engine.state.toSnapshot();
  const restored = State.fromSnapshot(JSON.parse(JSON.stringify(snap)));
  const kept = restored.idempotency.get('maintainer:M-1', 'c1') ?? [...restored.idempotency.values()].find((r) => r.key === 'c1');
  assert.ok(kept);
  assert.deepEqual(JSON.parse(kept.answer), first);
  // Before answers were kept as text, a snapshot held { ..., result: <the answer> }.
  const old = { ...snap, idempotency: snap.idempotency.map((r) => ('answer' in r ? { scope: r.scope, key: r.key, op: r.op, hash: r.hash, at: r.at, result: JSON.parse(r.answer) as unknown } : r)) };
  const fromOld = State.fromSnapshot(JSON.parse(JSON.stringify(old)));
  const oldKept = [...fromOld.idempotency.values()].find((r) => r.key === 'c1');
  assert.ok(oldKept);
  assert.deepEqual(JSON.parse(oldKept.answer), first);
});
