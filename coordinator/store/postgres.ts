/**
 * The PostgreSQL store: the journal and the snapshot in tables (postgres-schema.ts), for one
 * coordinator or a cluster of them sharing one database. An append is one statement, hence one
 * transaction, acknowledged only after PostgreSQL's COMMIT returns (fsync and synchronous_commit
 * are on by default: leave them on). The runtime's group commit hands it everything that arrived
 * meanwhile, so one commit carries many events.
 *
 * Fencing: only the holder of the leadership lease (owp_leader) may append, and only under the
 * term it took the lease in. The append moves the lease row's last_seq in the same statement,
 * `WHERE term = <my term> AND holder = <me>`, so a deposed or partitioned leader (paused, cut off,
 * or simply slow) can never commit, even at a seq nobody has written yet: a takeover bumps the
 * term first. The same row makes the journal gapless: an append must start right after last_seq.
 * Lease times are database time (clock_timestamp()), so node clocks may disagree.
 */
import pg from 'pg';
import type { Snapshot } from '../state/snapshot.ts';
import type { StoredEvent } from '../state/stored-event.ts';
import { StoreCorruptError, type Loaded, type SnapshotSink, type Store } from './store.ts';
import { migrate } from './postgres-schema.ts';

/** This node is not (or no longer) the leader: its append was refused and nothing was written. */
export class FencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FencedError';
  }
}

export interface LeaderRow {
  term: number;
  holder: string | null;
  url: string | null;
  /** The lease has not expired (database time). */
  live: boolean;
  /** Milliseconds left on the lease (negative once expired), database time. */
  remainingMs: number;
  lastSeq: number;
}

export interface PostgresPoolOptions {
  /** Client-side limit on one query; a cut link fails the query instead of hanging (default 10 s). */
  queryTimeoutMs?: number;
  max?: number;
  applicationName?: string;
  /** Close a connection idle this long (default 10 s; 0: keep it open). */
  idleTimeoutMs?: number;
}

/** A pool with the settings a coordinator needs: TCP keepalives and timeouts, so a cut link is noticed. */
export function createPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 8,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'owp-coordinator',
    keepAlive: true,
    keepAliveInitialDelayMillis: 1000,
    connectionTimeoutMillis: 5000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
    // A session that holds a transaction open while its process is paused must not hold locks for long.
    idle_in_transaction_session_timeout: 10_000,
  });
  // An idle client whose connection dies emits here; the pool drops it and the next query reconnects.
  pool.on('error', () => undefined);
  // A checked-out client whose connection dies emits 'error' on itself, and with no listener that
  // ends the process: socket.io's PostgreSQL adapter holds one such client for its LISTEN and adds
  // none (it reconnects on 'end'). A query in flight still fails with the error.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export interface PostgresStoreOptions {
  /** A pool shared with the node (not ended by close()), or a connection string (a pool of its own). */
  pool: pg.Pool | string;
  /** Who this process is in owp_leader.holder. */
  node: string;
  /**
   * A pool for the leadership lease alone (take, renew, give back, read), not ended by close(). A
   * renewal must not wait behind appends for a connection of the main pool, nor open a new one over
   * a slow link while the lease runs down: under load the lease then lapsed and leadership moved
   * although the leader was alive. Default: the main pool.
   */
  leasePool?: pg.Pool;
}

const LOAD_PAGE = 5000;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly node: string;
  /** The pool the lease's queries use (options.leasePool, or the main pool). */
  readonly leasePool: pg.Pool;
  private readonly ownsPool: boolean;
  private migrated = false;
  /** The term this store appends under, once it holds the lease; null: it may not append. */
  private term: number | null = null;

  constructor(options: PostgresStoreOptions) {
    this.ownsPool = typeof options.pool === 'string';
    this.pool = typeof options.pool === 'string' ? createPool(options.pool) : options.pool;
    this.node = options.node;
    this.leasePool = options.leasePool ?? this.pool;
  }

  /** The term this store writes under, or null when it does not lead. */
  currentTerm(): number | null {
    return this.term;
  }

  async migrate(): Promise<string[]> {
    if (this.migrated) return [];
    const ran = await migrate(this.pool);
    this.migrated = true;
    return ran;
  }

  async load(): Promise<Loaded> {
    await this.migrate();
    const client = await this.pool.connect();
    try {
      // One consistent view: the snapshot, the journal after it and the lease row's last_seq agree.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snap = await client.query<{ seq: string; snapshot: Snapshot }>('SELECT seq, snapshot FROM owp_snapshot WHERE id = 1');
      const leader = await client.query<{ last_seq: string }>('SELECT last_seq FROM owp_leader WHERE id = 1');
      const lastSeq = Number(leader.rows[0]?.last_seq ?? 0);
      const warnings: string[] = [];
      let snapshot: Snapshot | null = snap.rows[0]?.snapshot ?? null;
      if (snapshot && (snapshot.format !== 'owp-state/1' || typeof snapshot.seq !== 'number' || snapshot.seq !== Number(snap.rows[0]?.seq))) {
        warnings.push('owp_snapshot does not hold an OWP state; rebuilt the state by replaying the journal');
        snapshot = null;
      }
      const after = snapshot?.seq ?? 0;
      const events: StoredEvent[] = [];
      for (let cursor = after; ;) {
        const { rows } = await client.query<{ event: StoredEvent }>('SELECT event FROM owp_journal WHERE seq > $1 ORDER BY seq LIMIT $2', [cursor, LOAD_PAGE]);
        for (const { event } of rows) {
          const expected = (events.at(-1)?.seq ?? after) + 1;
          if (event.seq !== expected) throw new StoreCorruptError(`owp_journal has a gap: expected seq ${expected}, found ${event.seq}. Restore the database from a backup.`);
          events.push(event);
        }
        if (rows.length < LOAD_PAGE) break;
        cursor = (events.at(-1) as StoredEvent).seq;
      }
      await client.query('COMMIT');
      const end = events.at(-1)?.seq ?? after;
      if (end !== lastSeq) {
        throw new StoreCorruptError(`owp_journal ends at seq ${end} but owp_leader.last_seq is ${lastSeq}${snapshot ? ` (snapshot at ${after})` : ''}. Restore the database from a backup.`);
      }
      return { snapshot, events, warnings };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async append(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    const term = this.term;
    if (term === null) throw new FencedError(`${this.node} does not hold the leadership lease; nothing was written.`);
    const first = (events[0] as StoredEvent).seq;
    const last = (events.at(-1) as StoredEvent).seq;
    const result = await this.pool.query(
      `WITH fence AS (
         UPDATE owp_leader SET last_seq = $4
          WHERE id = 1
            AND term = $1 AND holder = $2
            AND last_seq = $3
          RETURNING 1
       )
       INSERT INTO owp_journal (seq, term, event)
       SELECT e.seq, $1, e.event::json FROM fence, unnest($5::bigint[], $6::text[]) AS e(seq, event)`,
      [term, this.node, first - 1, last, events.map((e) => e.seq), events.map((e) => JSON.stringify(e))],
    );
    if (result.rowCount === events.length) return;
    // Nothing was written (the fence matched no row): say why.
    const now = await this.readLeader();
    if (!now || now.term !== term || now.holder !== this.node) {
      this.term = null;
      throw new FencedError(`term ${term} is over (${now?.holder ?? 'nobody'} leads in term ${now?.term ?? '?'}); ${this.node} may no longer write, and nothing was written.`);
    }
    throw new Error(`the journal ends at seq ${now.lastSeq}, not ${first - 1}; nothing was written (the state is reloaded from the database)`);
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const term = this.term;
    if (term === null) throw new FencedError(`${this.node} does not hold the leadership lease; the snapshot was not written.`);
    // Fenced like an append, never behind the journal, and never replacing a newer snapshot.
    const result = await this.pool.query(
      `INSERT INTO owp_snapshot (id, seq, term, snapshot)
       SELECT 1, $1, $2, $4::json FROM owp_leader WHERE id = 1 AND term = $2 AND holder = $3 AND last_seq = $1
       ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, term = excluded.term, snapshot = excluded.snapshot, saved_at = clock_timestamp()
         WHERE owp_snapshot.seq <= excluded.seq`,
      [snapshot.seq, term, this.node, JSON.stringify(snapshot)],
    );
    if (result.rowCount !== 1) throw new FencedError(`the snapshot at seq ${snapshot.seq} was not written: the journal moved on or term ${term} is over`);
  }

  /**
   * A snapshot written in pieces while appends go on: each piece goes, as it comes, into a
   * temporary table of one transaction on a connection of its own, and one statement at the end
   * joins them into owp_snapshot, fenced like saveSnapshot (this node still holds the term it
   * began under, and the journal has reached the snapshot). A failure or a crash rolls the
   * transaction back: the previous snapshot stays.
   */
  beginSnapshot(seq: number): SnapshotSink {
    const term = this.term;
    if (term === null) throw new FencedError(`${this.node} does not hold the leadership lease; the snapshot was not written.`);
    let pending = '';
    let parts = 0;
    let client: pg.PoolClient | null = null;
    let failed = false;
    const session = async (): Promise<pg.PoolClient> => {
      if (client) return client;
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('CREATE TEMPORARY TABLE owp_snapshot_parts (n int PRIMARY KEY, part text NOT NULL) ON COMMIT DROP');
      } catch (error) {
        c.release(error as Error);
        throw error;
      }
      client = c;
      return c;
    };
    const send = async (): Promise<void> => {
      if (pending.length === 0) return;
      const part = pending;
      pending = '';
      await (await session()).query('INSERT INTO owp_snapshot_parts (n, part) VALUES ($1, $2)', [(parts += 1), part]);
    };
    const end = async (error?: Error): Promise<void> => {
      const c = client;
      client = null;
      if (!c) return;
      if (error) await c.query('ROLLBACK').catch(() => undefined);
      c.release(error);
    };
    return {
      head: {},
      write: async (text) => {
        pending += text;
        // Pieces of about a megabyte: a few statements, none of them big enough to stall the loop.
        if (pending.length < 1024 * 1024) return;
        try {
          await send();
        } catch (error) {
          failed = true;
          await end(error as Error);
          throw error;
        }
      },
      commit: async () => {
        if (failed) throw new Error('the snapshot was not written: a piece of it failed');
        try {
          await send();
          const c = await session();
          const result = await c.query(
            `INSERT INTO owp_snapshot (id, seq, term, snapshot)
             SELECT 1, $1, $2, (SELECT string_agg(part, '' ORDER BY n) FROM owp_snapshot_parts)::json FROM owp_leader WHERE id = 1 AND term = $2 AND holder = $3 AND last_seq >= $1
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, term = excluded.term, snapshot = excluded.snapshot, saved_at = clock_timestamp()
               WHERE owp_snapshot.seq <= excluded.seq`,
            [seq, term, this.node],
          );
          if (result.rowCount !== 1) throw new FencedError(`the snapshot at seq ${seq} was not written: term ${term} is over or a newer snapshot is in place`);
          await c.query('COMMIT');
        } catch (error) {
          await end(error as Error);
          throw error;
        }
        await end();
      },
      abort: async () => {
        pending = '';
        await end(new Error('snapshot aborted'));
      },
    };
  }

  async readJournal(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return [];
    const { rows } = await this.pool.query<{ event: StoredEvent }>('SELECT event FROM owp_journal WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, Math.min(limit, 100_000)]);
    return rows.map((r) => r.event);
  }

  async probe(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /** Gives the lease up if this store holds it (a clean stop hands over at once), and ends a pool of its own. */
  async close(): Promise<void> {
    await this.releaseLease().catch(() => undefined);
    if (this.ownsPool && !this.pool.ending) await this.pool.end();
  }

  // ---- the leadership lease -----------------------------------------------------------------------

  /**
   * Takes the lease if nobody holds a live one: the term goes up by one, and from now on only this
   * store may append. Returns the new term and the journal's last seq at the takeover, or null.
   */
  async acquireLease(leaseMs: number, url: string | null): Promise<{ term: number; lastSeq: number } | null> {
    await this.migrate();
    const { rows } = await this.leasePool.query<{ term: string; last_seq: string }>(
      `WITH taken AS (
         UPDATE owp_leader SET term = term + 1, holder = $1, url = $2, expires_at = clock_timestamp() + $3::int * interval '1 millisecond'
          WHERE id = 1 AND (holder IS NULL OR expires_at IS NULL OR expires_at <= clock_timestamp())
          RETURNING term, last_seq
       ), recorded AS (
         INSERT INTO owp_terms (term, holder, url, first_seq) SELECT term, $1, $2, last_seq + 1 FROM taken
       )
       SELECT term, last_seq FROM taken`,
      [this.node, url, Math.round(leaseMs)],
    );
    const row = rows[0];
    if (!row) return null;
    this.term = Number(row.term);
    return { term: this.term, lastSeq: Number(row.last_seq) };
  }

  /** Extends the lease by leaseMs from now (database time). False: the term is over, and this store stops appending. */
  async renewLease(leaseMs: number): Promise<boolean> {
    const term = this.term;
    if (term === null) return false;
    const result = await this.leasePool.query(
      `UPDATE owp_leader SET expires_at = clock_timestamp() + $3::int * interval '1 millisecond' WHERE id = 1 AND term = $1 AND holder = $2`,
      [term, this.node, Math.round(leaseMs)],
    );
    if (result.rowCount === 1) return true;
    if (this.term === term) this.term = null;
    return false;
  }

  /** Gives the lease up (a clean stop), so a standby takes over at once instead of waiting for it to expire. */
  async releaseLease(): Promise<void> {
    const term = this.term;
    this.term = null;
    if (term === null) return;
    await this.leasePool.query('UPDATE owp_leader SET expires_at = clock_timestamp() WHERE id = 1 AND term = $1 AND holder = $2', [term, this.node]);
  }

  /** Stops appending without touching the database (the node learnt it was deposed). */
  forgetLease(): void {
    this.term = null;
  }

  async readLeader(): Promise<LeaderRow | null> {
    const { rows } = await this.leasePool.query<{ term: string; holder: string | null; url: string | null; live: boolean | null; remaining_ms: number | null; last_seq: string }>(
      `SELECT term, holder, url, expires_at > clock_timestamp() AS live,
              extract(epoch FROM expires_at - clock_timestamp()) * 1000 AS remaining_ms, last_seq
         FROM owp_leader WHERE id = 1`,
    );
    const row = rows[0];
    if (!row) return null;
    return { term: Number(row.term), holder: row.holder, url: row.url, live: row.live === true, remainingMs: Number(row.remaining_ms ?? -1), lastSeq: Number(row.last_seq) };
  }

  /** The secret nodes present on the relay link (owp_cluster). */
  async clusterSecret(): Promise<string> {
    await this.migrate();
    const { rows } = await this.pool.query<{ secret: string }>('SELECT secret FROM owp_cluster WHERE id = 1');
    if (!rows[0]) throw new StoreCorruptError('owp_cluster has no secret; the schema migration did not finish.');
    return rows[0].secret;
  }
}
