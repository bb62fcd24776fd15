/**
 * The V8 heap settings the coordinator sets on its own process at start (coordinator/heap-settings.ts):
 * the old generation's growth is fixed unless the operator started node with a setting of their own,
 * however they spelled it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAP_GROWING_PERCENT, heapFlags } from '../../coordinator/heap-settings.ts';

test('the coordinator fixes the old generation growth when node was started without a setting', () => {
  assert.deepEqual(heapFlags([]), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  assert.deepEqual(heapFlags(['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx']), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
});

test("an operator's own setting wins, with - or _ and with or without =", () => {
  for (const argv of [['--heap-growing-percent=80'], ['--heap_growing_percent=80'], ['--expose-gc', '--heap-growing-percent', '80'], ['--heap_growing_percent', '10']]) {
    assert.deepEqual(heapFlags(argv), [], argv.join(' '));
  }
});
