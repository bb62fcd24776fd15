/**
 * Idempotency keys a snapshot covers live in the lowdb store's key file, not in the snapshot nor in
 * memory (issue 20, item 6): a start does not parse them, and `Runtime.call` reads a key's record
 * back only when its hash is there. SPEC §5.12 holds exactly across that: the same key and payload
 * within 24 h answer the first answer (byte for byte) after a clean stop and after a crash with or
 * without a snapshot; another payload is refused; an older key is new; a crash at any point of
 * writing the pair (key file, then snapshot) recovers; and a new key costs no disk read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import type { Snapshot } from '../../coordinator/state/snapshot.ts';
import { LowdbStore, NODE_STORE_IO, type StoreIo } from '../../coordinator/store/lowdb.ts';
import { principalScope, type Principal } from '../../coordinator/auth.ts';
import type { Ack } from '../../protocol/operations.ts';
import { tempDir } from '../helpers/coordinator.ts';

const TOKEN = 'owpm_key-file-test-token-00000000000000000';
const DAY_MS = 24 * 3_600_000;

interface Pool {
  dir: string;
  clock: ManualClock;
  runtime: Runtime;
  admin: Principal;
  store: LowdbStore;
  /** journal reads the store was asked for since the pool was opened */
  journalReads: () => number;
}

async function openPool(dir: string, clock: ManualClock, io: StoreIo = NODE_STORE_IO, maxKeyFiles?: number): Promise<Pool> {
  const store = new LowdbStore(dir, { io, ...(maxKeyFiles === undefined ? {} : { maxKeyFiles }) });
  let journalReads = 0;
  const readJournal = store.readJournal.bind(store);
  store.readJournal = (after, limit) => {
    journalReads += 1;
    return readJournal(after, limit);
  };
  const runtime = await Runtime.open({ store, clock, adminTokens: [TOKEN], timers: false });
  return { dir, clock, runtime, store, admin: runtime.authenticate(TOKEN) as Principal, journalReads: () => journalReads };
}

const create = (p: Pool, key: string, title = `task ${key}`): Promise<Ack<unknown>> => p.runtime.call(p.admin, 'task.create', { repo: 'keys/one', title, idempotency_key: key });

/** A pool with a repo and `n` tasks created under keys k0…k(n-1), with their first answers. */
async function seeded(n: number): Promise<{ pool: Pool; first: Map<string, string> }> {
  const pool = await openPool(tempDir(), new ManualClock());
  await pool.runtime.call(pool.admin, 'repo.configure', { repo: 'keys/one', idempotency_key: 'repo' });
  const first = new Map<string, string>();
  for (let i = 0; i < n; i += 1) {
    const ack = await create(pool, `k${i}`);
    assert.equal(ack.ok, true);
    first.set(`k${i}`, JSON.stringify(ack));
  }
  return { pool, first };
}

/** Runs `body` on a seeded pool (see seeded), then removes the pool's directory whatever happened. */
async function withSeeded(n: number, body: (pool: Pool, first: Map<string, string>) => Promise<void>): Promise<void> {
  const { pool, first } = await seeded(n);
  try {
    await body(pool, first);
  } finally {
    rmSync(pool.dir, { recursive: true, force: true });
  }
}

/** Replays every key: each answers its first answer byte for byte, and nothing changes. */
async function assertReplays(p: Pool, first: Map<string, string>): Promise<void> {
  const seq = p.runtime.engine.state.seq;
  for (const [key, answer] of first) assert.equal(JSON.stringify(await create(p, key)), answer, `key ${key} answers its first answer`);
  assert.equal(p.runtime.engine.state.seq, seq, 'and the replays changed nothing');
}

const keyFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('keys-'));

test('after a clean stop the keys are in the key file, not in the snapshot nor in memory, and replay their first answers; another payload is refused', async () => {
  await withSeeded(30, async (pool, first) => {
    await pool.runtime.close();
    const state = JSON.parse(readFileSync(join(pool.dir, 'state.json'), 'utf8')) as Snapshot & { key_files?: string[] };
    assert.deepEqual(state.idempotency, [], 'the snapshot document holds no idempotency records');
    assert.deepEqual(keyFiles(pool.dir), state.key_files, 'the key files it names are the only ones');
    const again = await openPool(pool.dir, pool.clock);
    assert.equal(again.runtime.engine.state.idempotency.size, 0, 'a start holds none of the covered keys in memory');
    await assertReplays(again, first);
    const reused = await create(again, 'k3', 'another title');
    assert.equal(reused.ok ? 'ok' : reused.error.code, 'IDEMPOTENCY_KEY_REUSED');
    await again.runtime.close();
  });
});

test('after a crash with a snapshot (keys in its file and in the tail) and without one, every key replays its first answer', async () => {
  await withSeeded(10, async (pool, first) => {
    await pool.runtime.snapshot();
    assert.equal(pool.runtime.engine.state.idempotency.size, 0, 'a committed snapshot takes the keys it covers out of memory');
    for (let i = 10; i < 20; i += 1) first.set(`k${i}`, JSON.stringify(await create(pool, `k${i}`)));
    // Replayed before the crash too: the covered ones are read back from the key file into memory.
    await assertReplays(pool, first);
    await pool.store.close(); // the crash: no final snapshot
    const again = await openPool(pool.dir, pool.clock);
    assert.equal(again.runtime.engine.state.idempotency.size, 10, 'the keys of the tail only are in memory');
    await assertReplays(again, first);
    await again.store.close(); // crashed again, this time with nothing new since the start
    const third = await openPool(pool.dir, pool.clock);
    await assertReplays(third, first);
    await third.runtime.close();
  });
});

test('a new key costs no disk read; a covered key reads its record once, then its answer from the journal', async () => {
  await withSeeded(20, async (pool, first) => {
    await pool.runtime.close();
    const again = await openPool(pool.dir, pool.clock);
    const reads = (): number => again.store.coveredKeys.reads + again.journalReads();
    const before = reads();
    for (let i = 0; i < 20; i += 1) assert.equal((await create(again, `new-${i}`)).ok, true);
    assert.equal(reads(), before, 'twenty new keys: no look-up in the key file, no journal read');
    assert.equal(JSON.stringify(await create(again, 'k7')), first.get('k7'));
    assert.equal(again.store.coveredKeys.reads, 1, 'the replay of a covered key read its record');
    assert.ok(again.journalReads() >= 1, 'and its answer from the journal');
    await again.runtime.close();
  });
});

test('a key first used more than 24 h ago is a new key, in memory and in the key file, and leaves the next key file', async () => {
  await withSeeded(5, async (pool, first) => {
    await pool.runtime.close();
    pool.clock.advance(DAY_MS + 1);
    const again = await openPool(pool.dir, pool.clock);
    const seq = again.runtime.engine.state.seq;
    const redo = await create(again, 'k2');
    assert.equal(redo.ok, true);
    assert.notEqual(JSON.stringify(redo), first.get('k2'), 'a new task, not the first answer');
    assert.equal(again.runtime.engine.state.seq > seq, true, 'and a change');
    assert.equal(again.store.coveredKeys.reads, 0, 'an expired key is known expired from the index, without a read');
    await again.runtime.close();
    const third = await openPool(pool.dir, pool.clock);
    assert.equal(third.store.coveredKeys.mayHold(principalScope(third.admin), 'k3', pool.clock.now() - 2 * DAY_MS), false, 'expired keys were left out of the next key file');
    assert.equal(third.store.coveredKeys.mayHold(principalScope(third.admin), 'k2', pool.clock.now() - DAY_MS), true, 'the key used again is in it');
    await third.runtime.close();
  });
});

test('a crash between writing the key file and committing the snapshot, or after the commit and before the old file is removed, recovers the pair', async () => {
  await withSeeded(8, async (pool, first) => {
    await pool.runtime.snapshot(); // snapshot 1 and its key file
    const [oldFile] = keyFiles(pool.dir);
    assert.ok(oldFile);
    copyFileSync(join(pool.dir, oldFile), join(pool.dir, 'old-copy'));
    for (let i = 8; i < 16; i += 1) first.set(`k${i}`, JSON.stringify(await create(pool, `k${i}`)));
    await pool.store.close();

    // Snapshot 2's key file is written and synced, then state.json's rename fails: the crash point.
    let failRename = true;
    const io: StoreIo = {
      ...NODE_STORE_IO,
      rename: (from, to) => (failRename && to.endsWith('state.json') ? Promise.reject(new Error('crash before the snapshot commits')) : NODE_STORE_IO.rename(from, to)),
    };
    const second = await openPool(pool.dir, pool.clock, io);
    await create(second, 'k16').then((ack) => first.set('k16', JSON.stringify(ack)));
    await second.runtime.snapshot();
    assert.equal(keyFiles(pool.dir).length, 2, 'the new key file was written, the old one is still the one named');
    await second.store.close();
    // A key file torn mid-write by the crash, too.
    writeFileSync(join(pool.dir, 'keys-000000000099-0badf00d.bin.tmp'), 'torn');
    // One key file at most: snapshot 3 merges the old file into its new one, replacing it.
    const third = await openPool(pool.dir, pool.clock, NODE_STORE_IO, 1);
    assert.deepEqual(third.runtime.warnings, [], 'the previous pair loads as it is, no fallback replay');
    assert.deepEqual(keyFiles(pool.dir), [oldFile], 'the files no snapshot names are removed at load');
    await assertReplays(third, first);
    await third.runtime.snapshot(); // snapshot 3 commits
    await third.store.close();
    failRename = false;

    // After a commit, before the old file is removed: put an old file back, as a crash would leave it.
    copyFileSync(join(pool.dir, 'old-copy'), join(pool.dir, oldFile));
    const fourth = await openPool(pool.dir, pool.clock);
    assert.deepEqual(fourth.runtime.warnings, []);
    assert.equal(keyFiles(pool.dir).length, 1, 'the replaced key file is removed at load');
    assert.notEqual(keyFiles(pool.dir)[0], oldFile);
    await assertReplays(fourth, first);
    await fourth.runtime.close();
  });
});

test('a snapshot whose key file is missing is not trusted: the state is rebuilt from the journal, with every key', async () => {
  await withSeeded(6, async (pool, first) => {
    await pool.runtime.close();
    for (const name of keyFiles(pool.dir)) rmSync(join(pool.dir, name));
    const again = await openPool(pool.dir, pool.clock);
    assert.match(again.runtime.warnings.join('\n'), /key file .* is unreadable/);
    await assertReplays(again, first);
    await again.runtime.close();
  });
});

/** The key files state.json names, oldest first. */
const named = (dir: string): string[] => (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { key_files: string[] }).key_files;

test('each snapshot writes only the keys it covers: an older key file stays as it is until the younger ones match its size, and every key replays after a crash', async () => {
  await withSeeded(16, async (pool, first) => {
    await pool.runtime.snapshot();
    const counts: number[] = [];
    let oldest = '';
    let n = 16;
    for (let round = 0; round < 7; round += 1) {
      for (let i = 0; i < 4; i += 1, n += 1) first.set(`k${n}`, JSON.stringify(await create(pool, `k${n}`)));
      await pool.runtime.snapshot();
      counts.push(named(pool.dir).length);
      if (round === 0) oldest = named(pool.dir)[0] as string;
      assert.deepEqual(keyFiles(pool.dir).sort(), [...named(pool.dir)].sort(), 'the files on disk are the ones state.json names');
    }
    assert.equal(named(pool.dir)[0], oldest, 'the oldest file (21 keys) was not rewritten by six snapshots of 4 keys each');
    assert.deepEqual(counts, [1, 2, 2, 3, 2, 3, 3], 'files merge when their sizes match');
    await pool.store.close(); // the crash: no final snapshot
    const again = await openPool(pool.dir, pool.clock);
    assert.deepEqual(again.runtime.warnings, []);
    assert.equal(again.runtime.engine.state.idempotency.size, 0, 'every key is in a key file, none in memory');
    await assertReplays(again, first);
    const reused = await create(again, 'k20', 'another title');
    assert.equal(reused.ok ? 'ok' : reused.error.code, 'IDEMPOTENCY_KEY_REUSED', 'a key in an older file with another payload is refused');
    await again.store.close();

    // One of the files lost: the snapshot is not trusted, and the journal gives every key back.
    rmSync(join(pool.dir, named(pool.dir)[1] as string));
    const third = await openPool(pool.dir, pool.clock);
    assert.match(third.runtime.warnings.join('\n'), /key file .* is unreadable/);
    await assertReplays(third, first);
    await third.runtime.close();
  });
});

test('a key file whose keys all expired is dropped at the next snapshot, and none of its keys is revived meanwhile', async () => {
  await withSeeded(6, async (pool, first) => {
    await pool.runtime.close(); // file A: the repo key and k0–k5
    pool.clock.advance(DAY_MS / 2);
    const second = await openPool(pool.dir, pool.clock);
    for (let i = 6; i < 16; i += 1) first.set(`k${i}`, JSON.stringify(await create(second, `k${i}`)));
    await second.runtime.snapshot(); // file B beside A: a start has no estimate of the fresh keys, so A is kept
    const [fileA, fileB] = named(pool.dir);
    assert.equal(named(pool.dir).length, 2);
    await second.store.close(); // a crash; the restart has no estimate of the fresh keys: no merge for size
    pool.clock.advance(DAY_MS / 2 + 1);
    const later = await openPool(pool.dir, pool.clock);
    const scope = principalScope(later.admin);
    assert.equal(later.store.coveredKeys.mayHold(scope, 'k3', pool.clock.now() - DAY_MS), false, 'an expired key in a kept file is known expired without a read');
    const redo = await create(later, 'k3');
    assert.notEqual(JSON.stringify(redo), first.get('k3'), 'and is a new key');
    first.set('k3', JSON.stringify(redo));
    await later.runtime.snapshot();
    assert.equal(named(pool.dir).includes(fileA as string), false, 'the expired file is no longer named');
    assert.equal(named(pool.dir)[0], fileB, 'the younger one is kept as it is');
    assert.equal(keyFiles(pool.dir).includes(fileA as string), false, 'and the expired one is removed');
    await later.runtime.close();
    const third = await openPool(pool.dir, pool.clock);
    for (let i = 6; i < 16; i += 1) assert.equal(JSON.stringify(await create(third, `k${i}`)), first.get(`k${i}`), `key k${i} answers its first answer`);
    assert.equal(JSON.stringify(await create(third, 'k3')), first.get('k3'), 'the key used again answers its new answer');
    assert.equal(third.store.coveredKeys.mayHold(scope, 'k2', Number.NEGATIVE_INFINITY), false, 'the expired keys are gone from disk');
    await third.runtime.close();
  });
});

test('a data directory from before key files came in segments (state.json names one key_file) starts with its keys', async () => {
  await withSeeded(6, async (pool, first) => {
    await pool.runtime.close();
    const path = join(pool.dir, 'state.json');
    const { key_files: files, ...rest } = JSON.parse(readFileSync(path, 'utf8')) as { key_files: string[] };
    assert.equal(files.length, 1);
    writeFileSync(path, JSON.stringify({ ...rest, key_file: files[0] }));
    const again = await openPool(pool.dir, pool.clock);
    assert.deepEqual(again.runtime.warnings, [], 'no fallback replay');
    assert.deepEqual(keyFiles(pool.dir), files, 'its key file is kept');
    assert.equal(again.runtime.engine.state.idempotency.size, 0);
    await assertReplays(again, first);
    first.set('k6', JSON.stringify(await create(again, 'k6')));
    await again.runtime.close();
    assert.equal(named(pool.dir)[0], files[0], 'the next snapshot names it among its key files');
    const third = await openPool(pool.dir, pool.clock);
    await assertReplays(third, first);
    await third.runtime.close();
  });
});
