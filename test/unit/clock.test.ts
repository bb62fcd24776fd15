import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock } from '../../coordinator/clock.ts';

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
