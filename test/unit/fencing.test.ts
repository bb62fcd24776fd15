import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';
import { GATES } from '../helpers/coordinator.ts';

test('an update under a stale epoch is refused and changes nothing', () => {
  const h = new EngineHarness();
  h.repo('o/r', { heartbeat_timeout_ms: 1000 });
  const t = h.task('o/r');
  const w = h.worker();
  h.settle();
  const first = h.ok(w, 'offer.accept', { offer_id: h.offerOf(w)!.offer_id }).lease;
  assert.equal(first.epoch, 1);
  h.advance(1000); // expires, requeued, offered again
  const second = h.ok(w, 'offer.accept', { offer_id: h.offerOf(w)!.offer_id }).lease;
  assert.equal(second.epoch, 2);
  // The first lease's holder (a paused process, say) wakes up and reports.
  assert.equal(h.refused(w, 'lease.report', { lease_id: first.lease_id, epoch: 1, state: 'pr_opened', pr: { url: 'https://x.test/1', gates: GATES } }), 'LEASE_EXPIRED');
  assert.equal(h.refused(w, 'lease.heartbeat', { lease_id: second.lease_id, epoch: 1 }), 'STALE_EPOCH');
  assert.equal(h.refused(w, 'lease.release', { lease_id: second.lease_id, epoch: 1 }), 'STALE_EPOCH');
  assert.equal(h.refused(w, 'lease.report', { lease_id: second.lease_id, epoch: 1, state: 'pr_opened', pr: { url: 'https://x.test/1', gates: GATES } }), 'STALE_EPOCH');
  assert.equal(h.state(t), 'leased');
  assert.equal(h.engine.state.tasks.get(t)!.epoch, 2);
});

test('another worker cannot touch a lease or offer it does not hold', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  h.task('o/r');
  const holder = h.worker();
  h.settle();
  const offer = h.offerOf(holder)!;
  const intruder = h.worker();
  assert.equal(h.refused(intruder, 'offer.accept', { offer_id: offer.offer_id }), 'NOT_HOLDER');
  assert.equal(h.refused(intruder, 'offer.decline', { offer_id: offer.offer_id }), 'NOT_HOLDER');
  const { lease } = h.ok(holder, 'offer.accept', { offer_id: offer.offer_id });
  assert.equal(h.refused(intruder, 'lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'NOT_HOLDER');
  assert.equal(h.refused(intruder, 'lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), 'NOT_HOLDER');
});

test('epochs only grow across leases of a task', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_attempts: 10 });
  const t = h.task('o/r');
  const w = h.worker();
  const epochs: number[] = [];
  for (let i = 0; i < 4; i += 1) {
    h.settle();
    const { lease } = h.ok(w, 'offer.accept', { offer_id: h.offerOf(w)!.offer_id });
    epochs.push(lease.epoch);
    h.ok(w, 'lease.release', { lease_id: lease.lease_id, epoch: lease.epoch });
    h.clock.advance(60_000); // past the decline cool-down
  }
  assert.deepEqual(epochs, [1, 2, 3, 4]);
  assert.equal(h.engine.state.tasks.get(t)!.attempts, 4);
});
