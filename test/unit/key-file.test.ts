/**
 * The key file on its own (coordinator/store/key-file.ts): a merge of the previous file with
 * memory's records keeps every key younger than the cutoff exactly once, memory's record winning
 * on a key both hold, and each is found by its key after a reopen; a damaged file is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { KeptIdempotency } from '../../coordinator/state/idempotency-keys.ts';
import { KeyFile } from '../../coordinator/store/key-file.ts';
import { NODE_STORE_IO } from '../../coordinator/store/lowdb.ts';
import { tempDir } from '../helpers/coordinator.ts';

const record = (i: number, seq = i + 1): KeptIdempotency => ({ scope: `m:${i % 7}`, key: `k${i}`, op: 'task.create', hash: `h${i}`, at: 1_000 + i, seq });

test('merged key files hold each key younger than the cutoff once, the newer record winning, found after a reopen', async () => {
  const dir = tempDir();
  try {
    // 6,000 keys: more than one sorted run and more than one 1 MB piece of output.
    const older = Array.from({ length: 3_000 }, (_, i) => record(i));
    const first = await KeyFile.write(join(dir, 'a.bin'), NODE_STORE_IO, KeyFile.empty(), older, 0);
    assert.equal(first.size, 3_000);
    // Keys 2,990–5,999 from memory: ten of them again (their record is newer), and a cutoff that ages out 0–499.
    const newer = Array.from({ length: 3_010 }, (_, n) => record(2_990 + n, 100_000 + n));
    const second = await KeyFile.write(join(dir, 'b.bin'), NODE_STORE_IO, first, newer, 1_499);
    await first.close();
    assert.equal(second.size, 6_000 - 500);
    await second.close();
    const reopened = await KeyFile.open(join(dir, 'b.bin'));
    for (let i = 0; i < 6_000; i += 1) {
      const want = i < 500 ? undefined : i >= 2_990 ? 100_000 + i - 2_990 : i + 1;
      assert.equal((await reopened.find(`m:${i % 7}`, `k${i}`, 0))?.seq, want, `key k${i}`);
      assert.equal(reopened.mayHold(`m:${i % 7}`, `k${i}`, 0), want !== undefined);
    }
    assert.equal(reopened.mayHold('m:1', 'k1', 0), false);
    assert.equal(await reopened.find('m:0', 'k1', 0), undefined, 'another scope is another key');
    await reopened.close();
    truncateSync(join(dir, 'b.bin'), 1_000);
    await assert.rejects(KeyFile.open(join(dir, 'b.bin')), /not a whole OWP key file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a merge into a previous file of several MB copies its records in pieces: each found by its key, none twice, none lost', async () => {
  const dir = tempDir();
  try {
    // About 2.5 MB of records: runs of the previous file longer than a 1 MB piece, and fresh records between them.
    const older = Array.from({ length: 25_000 }, (_, i) => ({ ...record(i), op: `task.create ${'x'.repeat(i % 40)}` }));
    const first = await KeyFile.write(join(dir, 'a.bin'), NODE_STORE_IO, KeyFile.empty(), older, 0);
    // Every 1,000th key again from memory (newer), 50 new keys, and the first 100 keys aged out.
    const newer = [...Array.from({ length: 25 }, (_, n) => record(n * 1_000 + 500, 900_000 + n)), ...Array.from({ length: 50 }, (_, n) => record(25_000 + n, 800_000 + n))];
    const second = await KeyFile.write(join(dir, 'b.bin'), NODE_STORE_IO, first, newer, 1_099);
    await first.close();
    await second.close();
    const reopened = await KeyFile.open(join(dir, 'b.bin'));
    assert.equal(reopened.size, 25_000 + 50 - 100);
    for (let i = 0; i < 25_050; i += 1) {
      const want = i < 100 ? undefined : i < 25_000 && i % 1_000 === 500 ? 900_000 + (i - 500) / 1_000 : i >= 25_000 ? 800_000 + i - 25_000 : i + 1;
      assert.equal((await reopened.find(`m:${i % 7}`, `k${i}`, 0))?.seq, want, `key k${i}`);
    }
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('key files merged as bytes keep one record per key, the newest file winning over older ones and memory over all, expired ones out', async () => {
  const dir = tempDir();
  try {
    // Three files, oldest first, overlapping: keys 0–2,999, then 2,000–4,999 (newer), then 4,000–5,999 (newest).
    const a = await KeyFile.write(join(dir, 'a.bin'), NODE_STORE_IO, KeyFile.empty(), Array.from({ length: 3_000 }, (_, i) => record(i)), 0);
    const b = await KeyFile.write(join(dir, 'b.bin'), NODE_STORE_IO, KeyFile.empty(), Array.from({ length: 3_000 }, (_, n) => record(2_000 + n, 200_000 + n)), 0);
    const c = await KeyFile.write(join(dir, 'c.bin'), NODE_STORE_IO, KeyFile.empty(), Array.from({ length: 2_000 }, (_, n) => record(4_000 + n, 300_000 + n)), 0);
    // Memory holds keys 5,500–6,499 (the newest of all); the cutoff ages out keys 0–99.
    const memory = Array.from({ length: 1_000 }, (_, n) => record(5_500 + n, 400_000 + n));
    const merged = await KeyFile.write(join(dir, 'm.bin'), NODE_STORE_IO, a, memory, 1_099, [b, c]);
    for (const f of [a, b, c, merged]) await f.close();
    const reopened = await KeyFile.open(join(dir, 'm.bin'));
    assert.equal(reopened.size, 6_500 - 100, 'each key once');
    for (let i = 0; i < 6_500; i += 1) {
      const want = i < 100 ? undefined : i >= 5_500 ? 400_000 + i - 5_500 : i >= 4_000 ? 300_000 + i - 4_000 : i >= 2_000 ? 200_000 + i - 2_000 : i + 1;
      assert.equal((await reopened.find(`m:${i % 7}`, `k${i}`, 0))?.seq, want, `key k${i}`);
    }
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
