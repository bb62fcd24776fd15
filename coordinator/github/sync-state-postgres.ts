/**
 * The GitHub integration's sync state on a cluster's PostgreSQL (owp_github_sync and
 * owp_github_deliveries, postgres-schema.ts), so the node that takes over the leadership takes
 * over the sync where the old leader left it: the same issue links (no duplicate tasks), PR
 * authors, streaks, and the webhook deliveries already taken (a redelivery after a takeover is
 * not applied twice).
 *
 * Only the leader writes, fenced by its term like a journal append: a deposed leader's late save or
 * delivery record is refused (FencedError) and changes nothing. A delivery id is recorded with one
 * INSERT … ON CONFLICT DO NOTHING, so "first seen" is decided by the database, once.
 */
import { FencedError, type PostgresStore } from '../store/postgres.ts';
import { emptySyncData, type DeliveryLog, type SyncData, type SyncStateStore } from './sync-state.ts';

/** As the file store: ids are kept a week (GitHub redelivers for three days). */
const DELIVERY_RETENTION_MS = 7 * 24 * 3_600_000;
/** Old ids are swept every this many recorded ones. */
const SWEEP_EVERY = 200;

export class PostgresSyncStateStore implements SyncStateStore {
  private data: SyncData = emptySyncData();
  private recorded = 0;
  private chain: Promise<void> = Promise.resolve();
  readonly deliveries: DeliveryLog;

  /** `storeOf`: the node's store (the integration is built before the node that makes it). */
  constructor(private readonly storeOf: () => PostgresStore) {
    this.deliveries = {
      first: (id, now) => this.first(id, now),
      forget: async (ids) => {
        await this.storeOf().pool.query('DELETE FROM owp_github_deliveries WHERE id = ANY($1::text[])', [ids]);
      },
    };
  }

  /** Loads the stored document (before the integration is built, and again on every takeover). */
  async refresh(): Promise<void> {
    await this.storeOf().migrate();
    const { rows } = await this.storeOf().pool.query<{ data: Partial<SyncData> }>('SELECT data FROM owp_github_sync WHERE id = 1');
    // Delivery ids live in their own table, never in the document.
    this.data = { ...emptySyncData(), ...rows[0]?.data, deliveries: {}, version: 1 };
  }

  load(): SyncData {
    return structuredClone(this.data);
  }

  save(data: SyncData): Promise<void> {
    const doc = JSON.stringify({ ...data, deliveries: {} });
    // One save at a time, in the order asked: a later save never lands under an earlier one.
    const next = this.chain.then(async () => {
      const term = this.term();
      const result = await this.storeOf().pool.query(
        `INSERT INTO owp_github_sync (id, term, data)
         SELECT 1, $1, $3::json FROM owp_leader WHERE id = 1 AND term = $1 AND holder = $2
         ON CONFLICT (id) DO UPDATE SET term = excluded.term, data = excluded.data, saved_at = clock_timestamp()`,
        [term, this.storeOf().node, doc],
      );
      if (result.rowCount !== 1) throw new FencedError(`the GitHub sync state was not saved: term ${term} is over`);
      this.data = JSON.parse(doc) as SyncData;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async first(id: string, now: number): Promise<boolean> {
    const term = this.term();
    const { rows } = await this.storeOf().pool.query<{ fenced: boolean; inserted: boolean }>(
      `WITH lead AS (SELECT 1 FROM owp_leader WHERE id = 1 AND term = $2 AND holder = $3),
            ins AS (INSERT INTO owp_github_deliveries (id) SELECT $1 FROM lead ON CONFLICT (id) DO NOTHING RETURNING 1)
       SELECT NOT EXISTS (SELECT 1 FROM lead) AS fenced, EXISTS (SELECT 1 FROM ins) AS inserted`,
      [id, term, this.storeOf().node],
    );
    const row = rows[0];
    if (!row || row.fenced) throw new FencedError(`delivery ${id} was not recorded: term ${term} is over`);
    if (row.inserted && (this.recorded += 1) % SWEEP_EVERY === 0) {
      await this.storeOf().pool.query('DELETE FROM owp_github_deliveries WHERE seen_at < to_timestamp($1 / 1000.0)', [now - DELIVERY_RETENTION_MS]).catch(() => undefined);
    }
    return row.inserted;
  }

  private term(): number {
    const term = this.storeOf().currentTerm();
    if (term === null) throw new FencedError(`${this.storeOf().node} does not lead the cluster: the GitHub sync runs on the leader`);
    return term;
  }
}
