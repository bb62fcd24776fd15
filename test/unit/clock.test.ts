import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock, type Clock } from '../../coordinator/clock.ts';
import { EngineHarness } from '../helpers/engine.ts';

test('the coordinator clock does not jump when the wall clock does', () => {
  const clock = new SystemClock();
  const before = clock.now();
  const realNow = Date.now;
  try {
    Date.now = () => realNow() + 3_600_000; // NTP, a VM resume or a person moves the wall clock an hour ahead
    const after = clock.now();
    assert.ok(after - before < 1000, `moved ${after - before} ms`);
    Date.now = () => realNow() - 3_600_000;
    assert.ok(clock.now() >= after, 'and never goes backwards');
  } finally {
    Date.now = realNow;
  }
});

/** A clock that moves on every read, as a busy machine's does between two reads in one command. */
class TickingClock implements Clock {
  constructor(private current: number) {}

  now(): number {
    this.current += 1;
    return this.current;
  }
}

test('a command reads the clock once: deadlines are exact even when the clock moves between reads', () => {
  const h = new EngineHarness({ clock: new TickingClock(Date.UTC(2026, 0, 1)) });
  h.repo('o/r', { heartbeat_timeout_ms: 4000, lease_max_duration_ms: 5000, offer_timeout_ms: 3000 });
  const w = h.worker({ capacity: 3 });
  const claimed = h.ok(w, 'task.claim', { task_id: h.task('o/r') }).lease;
  assert.equal(claimed.expires_at - claimed.granted_at, 4000, 'a claimed lease: expires_at − granted_at');
  assert.equal(claimed.max_deadline_at - claimed.granted_at, 5000, 'a claimed lease: max_deadline_at − granted_at');
  h.task('o/r');
  h.settle();
  const offer = h.ok(w, 'offer.list').offers[0];
  assert.ok(offer, 'the second task is offered');
  assert.equal(offer.deadline_at - offer.created_at, 3000, 'an offer: deadline_at − created_at');
  const accepted = h.ok(w, 'offer.accept', { offer_id: offer.offer_id }).lease;
  assert.equal(accepted.expires_at - accepted.granted_at, 4000, 'an accepted lease: expires_at − granted_at');
  assert.equal(accepted.max_deadline_at - accepted.granted_at, 5000, 'an accepted lease: max_deadline_at − granted_at');
});
