import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';
import { journalSync } from '../../coordinator/store/journal-sync.ts';

/** A disk whose next sync on the loop takes `loopMs` of the fake clock; records where each sync ran. */
function disk(): { sync: (h: FileHandle) => Promise<void>; where: string[]; clock: { t: number }; loopMs: { v: number } } {
  const clock = { t: 0 };
  const loopMs = { v: 0.2 };
  const where: string[] = [];
  const sync = journalSync({
    onLoop: () => {
      where.push('loop');
      clock.t += loopMs.v;
    },
    onPool: async () => {
      where.push('pool');
    },
    now: () => clock.t,
    slowMs: 2,
    poolMs: 1000,
  });
  return { sync, where, clock, loopMs };
}

const handle = {} as FileHandle;

test('the journal is synced on the loop while the disk answers fast', async () => {
  const d = disk();
  for (let i = 0; i < 5; i += 1) await d.sync(handle);
  assert.deepEqual(d.where, ['loop', 'loop', 'loop', 'loop', 'loop']);
});

test('after a slow sync the next second of syncs goes to the thread pool, then one is timed on the loop again', async () => {
  const d = disk();
  d.loopMs.v = 30; // the disk turns slow
  await d.sync(handle);
  d.loopMs.v = 0.2;
  await d.sync(handle);
  d.clock.t += 500;
  await d.sync(handle);
  assert.deepEqual(d.where, ['loop', 'pool', 'pool']);
  d.clock.t += 501; // the second since the slow sync has passed
  await d.sync(handle);
  await d.sync(handle);
  assert.deepEqual(d.where.slice(3), ['loop', 'loop']);
});

test('a sync that fails on the loop rejects, as one on the pool does (the store then refuses the commit)', async () => {
  const sync = journalSync({ onLoop: () => { throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }); }, onPool: async () => undefined, now: () => 0 });
  await assert.rejects(sync(handle), /EIO/);
});
