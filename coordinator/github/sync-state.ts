/**
 * What the GitHub integration must remember across restarts that the OWP journal does not hold:
 * webhook delivery ids already handled (replay protection, bounded), which task stands for which
 * issue (and whether the issue may spawn a new one), who opened each task's PR, and reputation
 * streaks. Kept in its own small file next to the store (`github-sync.json`), written
 * atomically and fsync'd; tests use the in-memory variant. Secrets never go here.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface IssueLink {
  task_id: string;
  /** How many tasks this issue has had; part of the task.create idempotency key. */
  generation: number;
  /** Set once the task ended and the issue stopped qualifying (closed or unlabelled): it may qualify again. */
  rearmed?: boolean;
}

export interface PrAuthor {
  worker_id: string;
  tier: number;
}

export interface SyncData {
  version: 1;
  /** Delivery id → first seen (epoch ms). */
  deliveries: Record<string, number>;
  /** `owner/name#number` → the issue's task. */
  issues: Record<string, IssueLink>;
  /** task id → the worker whose PR it is (from pr.opened). */
  pr_authors: Record<string, PrAuthor>;
  /** worker id → merged PRs in a row at or above its trust level. */
  streaks: Record<string, number>;
  /** worker id → when its idle time for trust decay counts from: its last lease, PR or merge, or the last halving. Absent in files written before decay. */
  last_active?: Record<string, number>;
  /**
   * `/owp vouch|denounce` comments: comment id → when it was acted on (by webhook or poll), so
   * each is acted on once however it arrives and across restarts; pruned after COMMENT_RETENTION_MS.
   */
  vouch_comments?: Record<string, number>;
  /** repo → the `since` of its next comment poll (ISO 8601): the newest update the last poll read, or when polling began. */
  comment_since?: Record<string, string>;
}

export function emptySyncData(): SyncData {
  return { version: 1, deliveries: {}, issues: {}, pr_authors: {}, streaks: {} };
}

export interface SyncStateStore {
  load(): SyncData;
  save(data: SyncData): Promise<void>;
  /** Reads the stored copy again (a cluster's new leader takes over what the old one saved). */
  refresh?(): Promise<void>;
  /**
   * A store that keeps delivery ids itself (PostgreSQL: one row each, recorded atomically, so a
   * takeover or a second node sees them); otherwise they live in `deliveries` of the document.
   */
  deliveries?: DeliveryLog;
}

export interface DeliveryLog {
  /** Records the id; false when it was recorded before. */
  first(id: string, now: number): Promise<boolean>;
  /** Forgets ids again (their delivery failed: GitHub's "Redeliver" must be able to retry it). */
  forget(ids: readonly string[]): Promise<void>;
}

export class MemorySyncStateStore implements SyncStateStore {
  private data = emptySyncData();
  load(): SyncData {
    return structuredClone(this.data);
  }
  async save(data: SyncData): Promise<void> {
    this.data = structuredClone(data);
  }
}

/** A JSON file replaced atomically: write a temp file, fsync it, rename it over, fsync the folder. */
export class FileSyncStateStore implements SyncStateStore {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly path: string) {}

  load(): SyncData {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptySyncData();
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<SyncData>;
    return { ...emptySyncData(), ...parsed, version: 1 };
  }

  save(data: SyncData): Promise<void> {
    const text = `${JSON.stringify(data)}\n`;
    const next = this.chain.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp`;
      const file = await open(tmp, 'w', 0o600);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
      const dir = await open(dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}

const DELIVERY_RETENTION_MS = 7 * 24 * 3_600_000;
const DELIVERY_MAX = 20_000;
/** How long a handled comment id is kept: a poll reads only comments created after its watermark, so older ones never come back as new. */
export const COMMENT_RETENTION_MS = 30 * 24 * 3_600_000;

/** The live copy plus durable saves. */
export class SyncState {
  readonly data: SyncData;
  constructor(private readonly store: SyncStateStore) {
    this.data = store.load();
  }

  save(): Promise<void> {
    return this.store.save(this.data);
  }

  /**
   * Records a webhook delivery id durably; false when it was seen before (a replay). Ids are kept
   * a week (GitHub redelivers for three days) and at most DELIVERY_MAX of them.
   */
  async firstDelivery(id: string, now: number): Promise<boolean> {
    if (this.store.deliveries) return this.store.deliveries.first(id, now);
    if (Object.hasOwn(this.data.deliveries, id)) return false;
    this.data.deliveries[id] = now;
    const ids = Object.keys(this.data.deliveries);
    if (ids.length > DELIVERY_MAX) {
      for (const old of ids.sort((a, b) => (this.data.deliveries[a] as number) - (this.data.deliveries[b] as number)).slice(0, ids.length - DELIVERY_MAX)) delete this.data.deliveries[old];
    }
    for (const [old, at] of Object.entries(this.data.deliveries)) if (at + DELIVERY_RETENTION_MS < now) delete this.data.deliveries[old];
    await this.save();
    return true;
  }

  /** Forgets delivery ids recorded by firstDelivery (their processing failed). */
  async forgetDeliveries(ids: readonly string[]): Promise<void> {
    if (this.store.deliveries) return this.store.deliveries.forget(ids);
    for (const id of ids) delete this.data.deliveries[id];
    await this.save();
  }

  /** Takes up what the store holds now (a cluster's new leader continues from the old one's last save). */
  async refresh(): Promise<void> {
    if (!this.store.refresh) return;
    await this.store.refresh();
    const fresh = this.store.load();
    this.data.deliveries = fresh.deliveries;
    this.data.issues = fresh.issues;
    this.data.pr_authors = fresh.pr_authors;
    this.data.streaks = fresh.streaks;
    this.data.vouch_comments = fresh.vouch_comments ?? {};
    this.data.comment_since = fresh.comment_since ?? {};
  }

  /**
   * Takes a comment for acting on: false when it was acted on before (by a webhook, a poll or
   * before a restart) or is being acted on now. Synchronous, so a webhook and a poll racing for the
   * same comment cannot both take it; done() records it durably, failed() hands it back unless done() ran.
   */
  takeComment(id: number, now: number): { done: () => Promise<void>; failed: () => void } | undefined {
    const key = String(id);
    const handled = (this.data.vouch_comments ??= {});
    if (Object.hasOwn(handled, key)) return undefined;
    handled[key] = now;
    for (const [old, at] of Object.entries(handled)) if (at + COMMENT_RETENTION_MS < now) delete handled[old];
    let recorded = false;
    // Once recorded, a failure after it (the reply could not be posted) does not hand it back: the action stands.
    return {
      done: () => {
        recorded = true;
        return this.save();
      },
      failed: () => {
        if (!recorded) delete handled[key];
      },
    };
  }
}

export function issueKey(repo: string, number: number): string {
  return `${repo}#${number}`;
}
