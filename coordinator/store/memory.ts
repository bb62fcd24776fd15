/** An in-memory store: the same contract as the lowdb store, without a disk. Survives a "restart" when the same instance is reopened. */
import type { Snapshot } from '../state/snapshot.ts';
import type { StoredEvent } from '../state/stored-event.ts';
import type { Loaded, Store } from './store.ts';

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private journal: StoredEvent[] = [];
  private snapshot: Snapshot | null = null;
  /** Test hook: when set, append and probe fail with this error (a full or broken disk). */
  failWith: Error | null = null;

  async load(): Promise<Loaded> {
    const after = this.snapshot?.seq ?? 0;
    return {
      snapshot: this.snapshot ? structuredClone(this.snapshot) : null,
      events: this.journal.filter((e) => e.seq > after).map((e) => structuredClone(e)),
      warnings: [],
    };
  }

  async append(events: readonly StoredEvent[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    for (const e of events) this.journal.push(structuredClone(e));
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.snapshot = structuredClone(snapshot);
  }

  async readJournal(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const start = lowerBound(this.journal, afterSeq + 1);
    return this.journal.slice(start, start + limit).map((e) => structuredClone(e));
  }

  async probe(): Promise<void> {
    if (this.failWith) throw this.failWith;
  }

  async close(): Promise<void> {}
}

function lowerBound(events: StoredEvent[], seq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid] as StoredEvent).seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
