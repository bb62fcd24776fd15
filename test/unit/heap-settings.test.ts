/**
 * The V8 heap settings the coordinator sets on its own process at start (coordinator/heap-settings.ts):
 * the old generation's growth is fixed unless the operator started node with a setting of their own,
 * however they spelled it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { HEAP_GROWING_PERCENT, RAMP_GROWING_PERCENT, RampGrowthCap, fullCollection, heapFlags } from '../../coordinator/heap-settings.ts';

test('the coordinator fixes the old generation growth when node was started without a setting', () => {
  assert.deepEqual(heapFlags([]), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  assert.deepEqual(heapFlags(['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx']), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
});

test("an operator's own setting wins, with - or _ and with or without =", () => {
  for (const argv of [['--heap-growing-percent=80'], ['--heap_growing_percent=80'], ['--expose-gc', '--heap-growing-percent', '80'], ['--heap_growing_percent', '10']]) {
    assert.deepEqual(heapFlags(argv), [], argv.join(' '));
  }
});

test('the growth cap holds while connections arrive in numbers and lifts a window after they stop', () => {
  const flags: string[] = [];
  const ramp = new RampGrowthCap((f) => flags.push(f), 0, { minArrivals: 100, windowMs: 10_000 });
  assert.equal(ramp.isCapped, true, 'a start is capped');
  assert.deepEqual(flags, [`--heap-growing-percent=${RAMP_GROWING_PERCENT}`], 'serving starts at the ramp growth, lower than while the state loads');
  assert.ok(RAMP_GROWING_PERCENT < HEAP_GROWING_PERCENT);
  ramp.observe(0, 11_000);
  assert.equal(ramp.isCapped, false, 'no connections for a window after the start: V8 picks the factor');
  assert.deepEqual(flags, [`--heap-growing-percent=${RAMP_GROWING_PERCENT}`, '--heap-growing-percent=0']);
  // 60 connections a second: 100 more than the window's lowest after two seconds.
  for (let t = 12_000, n = 60; t <= 20_000; t += 1_000, n += 60) ramp.observe(n, t);
  assert.equal(ramp.isCapped, true, 'a ramp caps the growth');
  assert.deepEqual(flags, [`--heap-growing-percent=${RAMP_GROWING_PERCENT}`, '--heap-growing-percent=0', `--heap-growing-percent=${RAMP_GROWING_PERCENT}`]);
  // The connections stay (steady load). The window still sees 100 arrivals until 28 s (420 at
  // 18 s, 540 since 20 s); the cap lifts a window after that.
  for (let t = 21_000; t <= 37_000; t += 1_000) ramp.observe(540, t);
  assert.equal(ramp.isCapped, true, 'still within the window of the ramp');
  ramp.observe(540, 38_000);
  assert.equal(ramp.isCapped, false, 'a window without a ramp lifts the cap');
  assert.equal(flags.length, 4, 'a flag is set only when the answer changes');
});

test('a few connections, or many leaving, are not a ramp', () => {
  const flags: string[] = [];
  const ramp = new RampGrowthCap((f) => flags.push(f), 0, { minArrivals: 1_000, windowMs: 10_000 });
  ramp.observe(10_000, 11_000);
  ramp.observe(0, 12_000); // every worker gone at once
  for (let t = 13_000; t <= 40_000; t += 1_000) ramp.observe(200, t); // a fleet of 200 arrives and stays
  assert.equal(ramp.isCapped, false, 'workers leaving and a fleet of 200 arriving');
  assert.deepEqual(flags, [`--heap-growing-percent=${RAMP_GROWING_PERCENT}`, '--heap-growing-percent=0']);
});

test('the cap asks for one full collection each time a ramp engages it, and none at start or when it lifts', () => {
  const flags: string[] = [];
  let collections = 0;
  const ramp = new RampGrowthCap((f) => flags.push(f), 0, { minArrivals: 100, windowMs: 10_000 }, () => {
    collections += 1;
  });
  assert.equal(collections, 0, 'a start is capped without a collection');
  ramp.observe(0, 11_000);
  assert.equal(collections, 0, 'lifting the cap collects nothing');
  // Two ramps, each of 60 arrivals a second for 9 s, then a quiet spell long enough to lift the cap.
  for (const start of [12_000, 60_000]) {
    for (let t = start, n = 60; t <= start + 8_000; t += 1_000, n += 60) ramp.observe((start === 12_000 ? 0 : 540) + n, t);
    assert.equal(ramp.isCapped, true);
    for (let t = start + 9_000; t <= start + 40_000; t += 1_000) ramp.observe(start === 12_000 ? 540 : 1_080, t);
    assert.equal(ramp.isCapped, false);
  }
  assert.equal(collections, 2, 'one collection per ramp, however long the ramp lasts');
  const [ramp20, lifted] = [`--heap-growing-percent=${RAMP_GROWING_PERCENT}`, '--heap-growing-percent=0'];
  assert.deepEqual(flags, [ramp20, lifted, ramp20, lifted, ramp20, lifted]);
});

test('fullCollection collects the old generation and leaves gc unexposed as it found it', async () => {
  const exposedBefore = runInNewContext('typeof gc');
  const collect = fullCollection();
  assert.equal(runInNewContext('typeof gc'), exposedBefore, 'the --expose-gc flag is put back');
  let ref: WeakRef<object> | undefined;
  (() => {
    ref = new WeakRef({ garbage: 'x'.repeat(100) });
  })();
  await tick(); // a WeakRef's target is kept until the job that made it ends
  collect();
  assert.equal(ref?.deref(), undefined, 'the object only a WeakRef held is gone');
});
