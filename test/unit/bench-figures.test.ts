import { test } from 'node:test';
import assert from 'node:assert/strict';
import { max, median, quantile, round } from '../../bench/lib/stats.ts';
import { met, TARGETS } from '../../bench/report.ts';
import { WindowCounter } from '../../bench/lib/window-counter.ts';

test('quantiles use the nearest rank, so a p99 is a latency that was really observed', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(values, 0.99), 99);
  assert.equal(quantile(values, 1), 100);
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(quantile([], 0.99), null);
  assert.equal(max([2, 9, 4]), 9);
});

test('figures are rounded for the table without losing small values', () => {
  assert.equal(round(0.1234), 0.12);
  assert.equal(round(45.67), 45.7);
  assert.equal(round(5123.4), 5123);
  assert.equal(round(Number.NaN), null);
});

test('every figure the issue names has a target or is marked as context, and met() reads the direction', () => {
  const keys = TARGETS.map((t) => t.key);
  for (const key of ['workers_connected', 'heartbeat_ack_p99_ms', 'event_loop_lag_p99_ms', 'coordinator_rss_mb', 'coordinator_cpu_pct', 'durable_transitions_per_s', 'durable_transition_p99_ms', 'offer_latency_p99_ms', 'expiry_requeue_late_ms_max', 'restart_recovery_ms', 'fsync_ms_median', 'loopback_rtt_ms_median']) {
    assert.ok(keys.includes(key), key);
  }
  const byKey = (k: string) => TARGETS.find((t) => t.key === k)!;
  assert.equal(met(byKey('workers_connected'), 10_000), true);
  assert.equal(met(byKey('workers_connected'), 9_999), false);
  assert.equal(met(byKey('heartbeat_ack_p99_ms'), 50), true);
  assert.equal(met(byKey('heartbeat_ack_p99_ms'), 51), false);
  assert.equal(met(byKey('fsync_ms_median'), 3), null);
  assert.equal(met(byKey('restart_recovery_ms'), null), null);
});

test('a window counter counts only while the runner has the window open', () => {
  const c = new WindowCounter();
  c.tick();
  c.measure({ on: true });
  c.tick();
  c.tick();
  assert.deepEqual(c.measure({ on: false }), { completed: 2 });
  c.tick();
  c.measure({ on: true });
  assert.deepEqual(c.measure({ on: false }), { completed: 0 });
});
