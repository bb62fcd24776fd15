import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { PostgresStore } from '../../coordinator/store/postgres.ts';
import { StoreCorruptError, type Store } from '../../coordinator/store/store.ts';
import { State } from '../../coordinator/state/state.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { ManualClock } from '../../coordinator/clock.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

function events(from: number, count: number): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => ({ seq: from + i, at: 1000 + i, type: 'coordinator.started', data: { n: from + i } }));
}

let server: Promise<TestPostgres> | undefined;
after(async () => (await server)?.stop());

/** A store that leads: the PostgreSQL store appends only under the leadership lease it holds. */
async function leading(url: string, node: string): Promise<PostgresStore> {
  const store = new PostgresStore({ pool: url, node });
  assert.ok(await store.acquireLease(60_000, null), 'the lease is free');
  return store;
}

const factories: Array<[string, () => Promise<{ store: Store; reopen: () => Promise<Store>; cleanup: () => void; dir?: string }>]> = [
  ['memory', async () => {
    const store = new MemoryStore();
    return { store, reopen: async () => store, cleanup: () => undefined };
  }],
  ['lowdb', async () => {
    const dir = tempDir();
    return { store: new LowdbStore(dir), reopen: async () => new LowdbStore(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }), dir };
  }],
  // The same store closing a journal segment at every snapshot: every contract holds across segments.
  ['lowdb with segments', async () => {
    const dir = tempDir();
    return { store: new LowdbStore(dir, { segmentBytes: 1 }), reopen: async () => new LowdbStore(dir, { segmentBytes: 1 }), cleanup: () => rmSync(dir, { recursive: true, force: true }), dir };
  }],
  ['postgres', async () => {
    server ??= startPostgres();
    const url = await (await server).database();
    let opened = 0;
    // A reopen is another process: another holder, taking the lease the closed store gave back.
    return { store: await leading(url, 'node-a'), reopen: async () => leading(url, `node-b${(opened += 1)}`), cleanup: () => undefined };
  }],
];

/** Opens an empty store, appends events 1–5 and returns the state they fold to. */
async function fiveEvents(store: Store): Promise<State> {
  await store.load();
  await store.append(events(1, 5));
  const state = new State();
  for (const e of events(1, 5)) state.apply(e);
  return state;
}

for (const [kind, make] of factories) {
  describe(`store contract: ${kind}`, () => {
    test('appended events come back in order after a reopen, after the snapshot', async () => {
      const s = await make();
      try {
        const state = await fiveEvents(s.store);
        await s.store.saveSnapshot(state.toSnapshot());
        await s.store.append(events(6, 3));
        await s.store.close();
        const again = await s.reopen();
        const loaded = await again.load();
        assert.equal(loaded.snapshot?.seq, 5);
        assert.deepEqual(loaded.events.map((e) => e.seq), [6, 7, 8]);
        assert.deepEqual((await again.readJournal(2, 3)).map((e) => e.seq), [3, 4, 5]);
        assert.deepEqual((await again.readJournal(7, 100)).map((e) => e.seq), [8]);
        await again.close();
      } finally {
        s.cleanup();
      }
    });

    test('a snapshot handed over in pieces while appends go on is the one a reopen reads, at its seq; an aborted one changes nothing', async () => {
      const s = await make();
      try {
        const state = await fiveEvents(s.store);
        const sink = s.store.beginSnapshot(5);
        const text = JSON.stringify({ ...state.toSnapshot(), ...sink.head });
        const cut = text.indexOf(',"counters"');
        await sink.write(text.slice(0, cut));
        await s.store.append(events(6, 2));
        // Whitespace between two JSON tokens: a piece bigger than the PostgreSQL store's parts.
        await sink.write(' '.repeat(1_200_000));
        await s.store.append(events(8, 1));
        await sink.write(text.slice(cut));
        await sink.commit();

        for (const e of events(6, 3)) state.apply(e);
        const aborted = s.store.beginSnapshot(8);
        const abortedText = JSON.stringify({ ...state.toSnapshot(), ...aborted.head });
        await aborted.write(abortedText.slice(0, 40));
        await aborted.write(' '.repeat(1_200_000));
        await s.store.append(events(9, 1));
        await aborted.abort();
        await s.store.close();

        const again = await s.reopen();
        const loaded = await again.load();
        assert.equal(loaded.snapshot?.seq, 5, 'the committed snapshot, not the aborted one');
        assert.deepEqual(loaded.events.map((e) => e.seq), [6, 7, 8, 9], 'with every event after it, appended during it or after');
        assert.deepEqual(loaded.warnings, []);
        await again.close();
      } finally {
        s.cleanup();
      }
    });

    test('a long history under many snapshots: a reopen loads only the tail, and the whole journal is still read back', async () => {
      const s = await make();
      try {
        await s.store.load();
        const state = new State();
        let seq = 1;
        for (let round = 0; round < 5; round += 1) {
          const batch = events(seq, 40);
          await s.store.append(batch);
          for (const e of batch) state.apply(e);
          seq += 40;
          await s.store.saveSnapshot(state.toSnapshot());
        }
        await s.store.append(events(seq, 3));
        await s.store.close();
        const again = await s.reopen();
        const loaded = await again.load();
        assert.equal(loaded.snapshot?.seq, 200);
        assert.deepEqual(loaded.events.map((e) => e.seq), [201, 202, 203]);
        const all: StoredEvent[] = [];
        for (let after = 0; ; ) {
          const page = await again.readJournal(after, 33);
          if (page.length === 0) break;
          all.push(...page);
          after = (page.at(-1) as StoredEvent).seq;
        }
        assert.deepEqual(all.map((e) => e.seq), Array.from({ length: 203 }, (_, i) => i + 1), 'every event, in order, across any segments');
        assert.deepEqual((await again.readJournal(199, 1)).map((e) => e.seq), [200]);
        await again.append(events(204, 1));
        assert.deepEqual((await again.readJournal(198, 100)).map((e) => e.seq), [199, 200, 201, 202, 203, 204]);
        await again.close();
      } finally {
        s.cleanup();
      }
    });

    test('a runtime on this store recovers exactly the acknowledged state', async () => {
      const s = await make();
      try {
        const clock = new ManualClock();
        const first = await Runtime.open({ store: s.store, clock, timers: false, adminTokens: ['owpm_a'] });
        const admin = first.authenticate('owpm_a')!;
        await first.call(admin, 'repo.configure', { repo: 'o/r', max_open_prs: 4, idempotency_key: 'a' });
        for (let i = 0; i < 20; i += 1) await first.call(admin, 'task.create', { repo: 'o/r', title: `t${i}`, area: i % 2 ? 'docs' : 'cli', idempotency_key: `t${i}` });
        await first.snapshot();
        await first.call(admin, 'task.cancel', { task_id: 'T-3', idempotency_key: 'c' });
        const view = first.engine.state.durableView();
        await first.close();
        const second = await Runtime.open({ store: await s.reopen(), clock, timers: false, adminTokens: ['owpm_a'] });
        assert.deepEqual(second.engine.state.durableView(), view);
        const replay = await second.call(admin, 'task.cancel', { task_id: 'T-3', idempotency_key: 'c' });
        assert.equal(replay.ok, true, 'the idempotency record survived the restart');
        await second.close();
      } finally {
        s.cleanup();
      }
    });
  });
}

describe('lowdb store on damaged files', () => {
  test('a torn last line (a write that was never acknowledged) is cut off with a warning', async () => {
    const dir = tempDir();
    try {
      const store = new LowdbStore(dir);
      await store.load();
      await store.append(events(1, 3));
      await store.close();
      appendFileSync(join(dir, 'journal.jsonl'), '{"seq":4,"at":1,"ty');
      const again = new LowdbStore(dir);
      const loaded = await again.load();
      assert.deepEqual(loaded.events.map((e) => e.seq), [1, 2, 3]);
      assert.match(loaded.warnings.join('\n'), /torn write/);
      await again.append(events(4, 1));
      await again.close();
      assert.equal(readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').length, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a damaged line in the middle of the journal refuses to start rather than lose data', async () => {
    const dir = tempDir();
    try {
      const store = new LowdbStore(dir);
      await store.load();
      await store.append(events(1, 3));
      await store.close();
      const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n');
      lines[1] = '\u0000\u0000\u0000garbage';
      writeFileSync(join(dir, 'journal.jsonl'), lines.join('\n'));
      await assert.rejects(new LowdbStore(dir).load(), (e: Error) => e instanceof StoreCorruptError && /line 2/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [name, damage] of [
    ['truncated', (t: string) => t.slice(0, Math.floor(t.length / 2))],
    ['zeroed', (t: string) => '\u0000'.repeat(t.length)],
    ['invalid JSON', () => '{"format": "owp-state/1", "seq": '],
  ] as const) {
    test(`a ${name} state.json is rebuilt from the journal, never started empty`, async () => {
      const dir = tempDir();
      try {
        const clock = new ManualClock();
        const rt = await Runtime.open({ store: new LowdbStore(dir), clock, timers: false, adminTokens: ['owpm_a'] });
        const admin = rt.authenticate('owpm_a')!;
        await rt.call(admin, 'repo.configure', { repo: 'o/r', idempotency_key: 'a' });
        await rt.call(admin, 'task.create', { repo: 'o/r', title: 'keep me', idempotency_key: 'b' });
        const view = rt.engine.state.durableView();
        await rt.close();
        const path = join(dir, 'state.json');
        writeFileSync(path, damage(readFileSync(path, 'utf8')));
        const again = await Runtime.open({ store: new LowdbStore(dir), clock, timers: false, adminTokens: ['owpm_a'] });
        assert.deepEqual(again.engine.state.durableView(), view);
        assert.match(again.warnings.join('\n'), /rebuilt the state by replaying/);
        await again.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('two coordinators cannot share a data directory', async () => {
    const dir = tempDir();
    try {
      const a = new LowdbStore(dir);
      await a.load();
      const lock = JSON.parse(readFileSync(join(dir, 'owp.lock'), 'utf8')) as { pid: number; boot?: string; start?: string };
      assert.equal(lock.pid, process.pid);
      await a.close();
      // A second store in the same process is still another user of the directory: a live process's lock (our parent's).
      writeFileSync(join(dir, 'owp.lock'), JSON.stringify({ pid: process.ppid, boot: lock.boot, start: startTime(process.ppid) }));
      await assert.rejects(new LowdbStore(dir).load(), /Another coordinator/);
      writeFileSync(join(dir, 'owp.lock'), String(process.ppid)); // an older coordinator's bare pid
      await assert.rejects(new LowdbStore(dir).load(), /Another coordinator/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a stale lock never stops the coordinator: torn by a power failure, from another boot, or naming a pid another process now has', async () => {
    const { boot } = { boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() };
    for (const stale of [
      '{"pi', // torn by a power failure
      '',
      JSON.stringify({ pid: process.ppid, boot: 'another-boot', start: startTime(process.ppid) }), // written before a reboot
      JSON.stringify({ pid: process.ppid, boot, start: '1' }), // the pid now belongs to another process
      JSON.stringify({ pid: 2 ** 22 + 12345, boot }), // a process that is gone
    ]) {
      const dir = tempDir();
      try {
        writeFileSync(join(dir, 'owp.lock'), stale);
        const store = new LowdbStore(dir);
        await store.load();
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
}

test('lowdb: a batch of lines with multi-byte text is written whole, and read back from any seq through the sparse index', async () => {
  const dir = tempDir();
  try {
    const store = new LowdbStore(dir);
    await store.load();
    // 600 events (past two index points, every 256th), in batches, each with 1- to 4-byte characters.
    const text = (n: number): string => `${'é'.repeat(n % 5)}ü—${'😀'.repeat(n % 3)}"\\n${n}`;
    const all = Array.from({ length: 600 }, (_, i) => ({ seq: i + 1, at: 1000 + i, type: 'coordinator.started', data: { n: i + 1, text: text(i) } }) as unknown as StoredEvent);
    for (let i = 0; i < all.length; i += 150) await store.append(all.slice(i, i + 150));
    // The index the appends made, then the one a load makes.
    for (const after of [0, 255, 256, 300, 511, 599]) assert.deepEqual(await store.readJournal(after, 3), all.slice(after, after + 3), `after seq ${after}, as appended`);
    await store.close();
    const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'every line ends in a newline');
    assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), all);
    const reopened = new LowdbStore(dir);
    await reopened.load();
    for (const after of [0, 255, 256, 300, 511, 599]) assert.deepEqual(await reopened.readJournal(after, 3), all.slice(after, after + 3), `after seq ${after}`);
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
