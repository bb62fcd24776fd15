/**
 * The PostgreSQL store beyond the shared contract: the leadership lease and the term fence on every
 * append, the gapless journal kept by the database, the schema migrations, and damage detection.
 * A real PostgreSQL (test/helpers/postgres.ts), one fresh database per test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { FencedError, PostgresStore } from '../../coordinator/store/postgres.ts';
import { migrate, JOURNAL_CHANNEL, SCHEMA_VERSION } from '../../coordinator/store/postgres-schema.ts';
import { StoreCorruptError } from '../../coordinator/store/store.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

function events(from: number, count: number): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => ({ seq: from + i, at: 1000 + i, type: 'coordinator.started', data: { n: from + i } }));
}

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server.stop());

async function journalRows(url: string): Promise<Array<{ seq: number; term: number }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ seq: string; term: string }>('SELECT seq, term FROM owp_journal ORDER BY seq');
    return rows.map((r) => ({ seq: Number(r.seq), term: Number(r.term) }));
  } finally {
    await client.end();
  }
}

/** Takes the lease once the current one has expired (leases in these tests last a few milliseconds). */
async function takeOver(store: PostgresStore, leaseMs = 60_000): Promise<{ term: number; lastSeq: number }> {
  for (;;) {
    const taken = await store.acquireLease(leaseMs, null);
    if (taken) return taken;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PostgreSQL store: leadership and fencing', () => {
  test('only the lease holder appends, and a deposed leader cannot commit even at a seq nobody has written', async () => {
    const url = await server.database();
    const a = new PostgresStore({ pool: url, node: 'a' });
    const b = new PostgresStore({ pool: url, node: 'b' });
    try {
      await a.load();
      await assert.rejects(a.append(events(1, 1)), FencedError, 'no lease, no append');
      const first = await a.acquireLease(1, null);
      assert.deepEqual(first, { term: 1, lastSeq: 0 });
      await a.append(events(1, 3));
      // a's lease lapses (1 ms) while it is paused; b takes over before writing anything.
      const second = await takeOver(b);
      assert.deepEqual(second, { term: 2, lastSeq: 3 });
      // a wakes up and appends seq 4, which nobody has written yet: the term fence refuses it.
      await assert.rejects(a.append(events(4, 2)), (e: Error) => e instanceof FencedError && /term 1 is over \(b leads in term 2\)/.test(e.message));
      assert.equal(a.currentTerm(), null, 'a stops appending once it knows');
      await b.append(events(4, 2));
      assert.deepEqual(await journalRows(url), [1, 2, 3, 4, 5].map((seq) => ({ seq, term: seq <= 3 ? 1 : 2 })));
      assert.equal(await a.renewLease(60_000), false, 'a cannot renew a lease it lost');
      await assert.rejects(a.saveSnapshot({ format: 'owp-state/1', seq: 5 } as never), FencedError, 'nor write a snapshot');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a live lease is not taken; a released one is, at once; each takeover is a new term, recorded', async () => {
    const url = await server.database();
    const a = new PostgresStore({ pool: url, node: 'a' });
    const b = new PostgresStore({ pool: url, node: 'b' });
    try {
      assert.ok(await a.acquireLease(60_000, 'http://a'));
      assert.equal(await b.acquireLease(60_000, 'http://b'), null);
      assert.equal(await a.renewLease(60_000), true);
      const leader = await b.readLeader();
      assert.equal(leader?.holder, 'a');
      assert.equal(leader?.url, 'http://a');
      assert.equal(leader?.live, true);
      await a.releaseLease();
      assert.deepEqual(await b.acquireLease(60_000, 'http://b'), { term: 2, lastSeq: 0 });
      await b.append(events(1, 2));
      await b.close(); // a clean stop gives the lease back
      assert.deepEqual(await a.acquireLease(60_000, 'http://a'), { term: 3, lastSeq: 2 });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ term: string; holder: string; first_seq: string }>('SELECT term, holder, first_seq FROM owp_terms ORDER BY term');
      await client.end();
      assert.deepEqual(rows.map((r) => [Number(r.term), r.holder, Number(r.first_seq)]), [[1, 'a', 1], [2, 'b', 1], [3, 'a', 3]]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('an append must continue the journal: a gap or an overlap writes nothing', async () => {
    const url = await server.database();
    const a = new PostgresStore({ pool: url, node: 'a' });
    try {
      await a.acquireLease(60_000, null);
      await a.append(events(1, 2));
      await assert.rejects(a.append(events(4, 1)), /journal ends at seq 2, not 3/);
      await assert.rejects(a.append(events(2, 2)), /journal ends at seq 2, not 1/);
      assert.equal(a.currentTerm(), 1, 'still the leader: a bad batch is not a lost lease');
      await a.append(events(3, 1));
      assert.deepEqual((await journalRows(url)).map((r) => r.seq), [1, 2, 3]);
    } finally {
      await a.close();
    }
  });

  test('every committed append notifies followers with its last seq; a refused one does not', async () => {
    const url = await server.database();
    const a = new PostgresStore({ pool: url, node: 'a' });
    const listener = new pg.Client({ connectionString: url });
    try {
      await a.migrate();
      await listener.connect();
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(String(n.payload)));
      await listener.query(`LISTEN ${JOURNAL_CHANNEL}`);
      await a.acquireLease(60_000, null);
      await a.append(events(1, 3));
      await a.append(events(5, 1)).catch(() => undefined);
      await a.append(events(4, 1));
      await listener.query('SELECT 1'); // notifications sent before this round trip have arrived
      assert.deepEqual(heard, ['3', '4']);
    } finally {
      await listener.end();
      await a.close();
    }
  });
});

describe('PostgreSQL store: schema and damage', () => {
  test('migrations run once; a database migrated by a newer coordinator is refused', async () => {
    const url = await server.database();
    const pool = new pg.Pool({ connectionString: url });
    try {
      const [first, second] = await Promise.all([migrate(pool), migrate(pool)]);
      assert.equal([...first, ...second].length, SCHEMA_VERSION, 'each migration ran once although two nodes started together');
      assert.deepEqual(await migrate(pool), []);
      await pool.query('INSERT INTO owp_schema_migrations (version, name) VALUES ($1, $2)', [SCHEMA_VERSION + 1, 'from the future']);
      await assert.rejects(migrate(pool), /newer than this coordinator knows/);
    } finally {
      await pool.end();
    }
  });

  test('a gap in the journal, or a journal behind the lease row, refuses to load rather than lose data', async () => {
    const url = await server.database();
    const a = new PostgresStore({ pool: url, node: 'a' });
    const sql = new pg.Client({ connectionString: url });
    try {
      await sql.connect();
      await a.acquireLease(60_000, null);
      await a.append(events(1, 4));
      assert.deepEqual((await a.load()).events.map((e) => e.seq), [1, 2, 3, 4]);
      await sql.query('DELETE FROM owp_journal WHERE seq = 2');
      await assert.rejects(a.load(), (e: Error) => e instanceof StoreCorruptError && /gap: expected seq 2, found 3/.test(e.message));
      await sql.query('DELETE FROM owp_journal WHERE seq >= 2');
      await assert.rejects(a.load(), (e: Error) => e instanceof StoreCorruptError && /ends at seq 1 but owp_leader.last_seq is 4/.test(e.message));
    } finally {
      await sql.end();
      await a.close();
    }
  });

  test('a snapshot is fenced, never behind the journal and never replaces a newer one', async () => {
    const url = await server.database();
    const a = new PostgresStore({ pool: url, node: 'a' });
    try {
      await a.acquireLease(60_000, null);
      await a.append(events(1, 3));
      await assert.rejects(a.saveSnapshot({ format: 'owp-state/1', seq: 2 } as never), /not written/);
      const loaded = await a.load();
      assert.equal(loaded.snapshot, null);
      assert.equal(loaded.events.length, 3);
    } finally {
      await a.close();
    }
  });
});
