import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';

test('same key and same payload replays the first answer without a second change', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  const first = h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'once', idempotency_key: 'create-1' });
  const again = h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'once', idempotency_key: 'create-1' });
  assert.deepEqual(again.result, first.result);
  assert.equal(again.events.length, 0);
  assert.ok(again.replayOf);
  assert.equal(h.engine.state.tasks.size, 1);
});

test('same key with another payload is refused', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'one', idempotency_key: 'k' });
  const other = h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'two', idempotency_key: 'k' });
  assert.equal(other.error?.code, 'IDEMPOTENCY_KEY_REUSED');
  const otherOp = h.engine.execute(h.admin, 'repo.configure', { repo: 'o/r', idempotency_key: 'k' });
  assert.equal(otherOp.error?.code, 'IDEMPOTENCY_KEY_REUSED');
});

test('keys are scoped to the caller and kept 24 hours', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  h.task('o/r');
  h.task('o/r');
  const a = h.worker({ capacity: 1 });
  const b = h.worker({ capacity: 1 });
  assert.equal(h.engine.execute(a, 'task.claim', { task_id: 'T-1', idempotency_key: 'same' }).error, undefined);
  assert.equal(h.engine.execute(b, 'task.claim', { task_id: 'T-2', idempotency_key: 'same' }).error, undefined, 'another worker may use the same key');
  h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'x', idempotency_key: 'day' });
  h.clock.advance(24 * 3_600_000 + 1);
  h.engine.tick();
  const later = h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'x', idempotency_key: 'day' });
  assert.equal(later.replayOf, undefined, 'after 24 h the key is new again');
  assert.equal(later.error, undefined);
});

test('a mutating request without a key is refused; heartbeats need none', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  assert.equal(h.engine.execute(h.admin, 'task.create', { repo: 'o/r', title: 'x' }).error?.code, 'IDEMPOTENCY_KEY_REQUIRED');
  h.task('o/r');
  const w = h.worker();
  h.settle();
  const { lease } = h.ok(w, 'offer.accept', { offer_id: h.offerOf(w)!.offer_id });
  assert.equal(h.engine.execute(w, 'lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }).error, undefined);
});

test('a refused request is not recorded: retrying it with the same key runs it again', () => {
  const h = new EngineHarness();
  const refused = h.engine.execute(h.admin, 'task.create', { repo: 'o/missing', title: 'x', idempotency_key: 'retry' });
  assert.equal(refused.error?.code, 'NOT_FOUND');
  h.repo('o/missing');
  const retried = h.engine.execute(h.admin, 'task.create', { repo: 'o/missing', title: 'x', idempotency_key: 'retry' });
  assert.equal(retried.error, undefined);
});

test('a replayed registration returns the same worker with a new token; the old one stops working', () => {
  const h = new EngineHarness();
  const params = { github_login: 'alice', skills: [], capacity: 1, tools: [], capabilities: { can_run_tests: true, can_open_prs: true }, idempotency_key: 'reg' };
  const first = h.engine.execute({ kind: 'anonymous' }, 'worker.register', params).result as { worker: { id: string }; token: string };
  const second = h.engine.execute({ kind: 'anonymous' }, 'worker.register', params).result as { worker: { id: string }; token: string };
  assert.equal(second.worker.id, first.worker.id);
  assert.notEqual(second.token, first.token);
  assert.equal(h.engine.authenticate(first.token), null);
  assert.deepEqual(h.engine.authenticate(second.token), { kind: 'worker', id: first.worker.id });
  assert.equal(h.engine.state.workers.size, 1);
});
