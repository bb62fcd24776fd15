/**
 * The PostgreSQL schema of the store and the cluster, created and migrated on start. Each
 * migration runs once, in order, in one transaction with the others of that start, under an
 * advisory lock so nodes starting together do not race; `owp_schema_migrations` records what ran.
 * A database migrated by a newer coordinator is refused rather than misread.
 *
 * Tables (all prefixed `owp_`, so the database may be shared with other applications):
 * - owp_journal: the audit journal, one row per event, gapless by seq; `term` says which
 *   leadership wrote it; `committed_at` is database time, for replication lag.
 * - owp_snapshot: one row, the state at some seq (the journal before it stays: it is the audit log).
 * - owp_leader: one row, the leadership lease (term, holder, its URL, expiry in database time) and
 *   the journal's last seq, which every append moves in the same statement, fenced by the term.
 * - owp_terms: one row per term ever taken, with the first seq it could write (audit, and what
 *   the failover tests check the journal against).
 * - owp_cluster: one row, the secret nodes present to each other on the relay link.
 * - owp_socket_io_attachments: @socket.io/postgres-adapter's table for payloads over NOTIFY's 8,000 bytes.
 * - owp_github_sync: one row, what the GitHub integration remembers besides the journal (issue
 *   links, PR authors, streaks: github/sync-state.ts), written by the leader under its term.
 * - owp_github_deliveries: webhook delivery ids (and body digests) already taken, one row each.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** A number both sides agree on for pg_advisory_xact_lock: "OWP" plus 1. */
const MIGRATION_LOCK = 0x4f575001;

export const JOURNAL_CHANNEL = 'owp_journal';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'journal, snapshot, leadership lease, terms, cluster secret, socket.io attachments',
    sql: `
      CREATE TABLE owp_journal (
        seq bigint PRIMARY KEY,
        term bigint NOT NULL,
        event json NOT NULL,
        committed_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE TABLE owp_snapshot (
        id smallint PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        term bigint NOT NULL,
        snapshot json NOT NULL,
        saved_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE TABLE owp_leader (
        id smallint PRIMARY KEY CHECK (id = 1),
        term bigint NOT NULL,
        holder text,
        url text,
        expires_at timestamptz,
        last_seq bigint NOT NULL
      );
      INSERT INTO owp_leader (id, term, last_seq) VALUES (1, 0, 0);
      CREATE TABLE owp_terms (
        term bigint PRIMARY KEY,
        holder text NOT NULL,
        url text,
        first_seq bigint NOT NULL,
        started_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE TABLE owp_cluster (
        id smallint PRIMARY KEY CHECK (id = 1),
        secret text NOT NULL
      );
      CREATE TABLE owp_socket_io_attachments (
        id bigserial UNIQUE,
        created_at timestamptz DEFAULT now(),
        payload bytea
      );
      -- Followers LISTEN on owp_journal: one notification per committed append, carrying its last seq.
      CREATE FUNCTION owp_journal_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM appended) THEN
          PERFORM pg_notify('${JOURNAL_CHANNEL}', (SELECT max(seq) FROM appended)::text);
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER owp_journal_appended AFTER INSERT ON owp_journal
        REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION owp_journal_notify();
    `,
  },
  {
    version: 2,
    name: 'GitHub sync state and webhook deliveries',
    sql: `
      CREATE TABLE owp_github_sync (
        id smallint PRIMARY KEY CHECK (id = 1),
        term bigint NOT NULL,
        data json NOT NULL,
        saved_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE TABLE owp_github_deliveries (
        id text PRIMARY KEY,
        seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX owp_github_deliveries_seen ON owp_github_deliveries (seen_at);
    `,
  },
];

export const SCHEMA_VERSION = (MIGRATIONS.at(-1) as Migration).version;

/** Creates or migrates the schema; returns the migrations that ran now. */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  const ran: string[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS owp_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM owp_schema_migrations ORDER BY version');
    const applied = new Set(rows.map((r) => r.version));
    const newest = rows.at(-1)?.version ?? 0;
    if (newest > SCHEMA_VERSION) {
      throw new Error(`The database's OWP schema is at version ${newest}, newer than this coordinator knows (${SCHEMA_VERSION}). Upgrade this coordinator; a newer one migrated the database.`);
    }
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO owp_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      ran.push(`${m.version}: ${m.name}`);
    }
    // The relay secret is made here, by Node's CSPRNG, once per database.
    await client.query('INSERT INTO owp_cluster (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [randomBytes(32).toString('base64url')]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return ran;
}
