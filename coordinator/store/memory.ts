/** An in-memory store: the same contract as the lowdb store, without a disk. Survives a "restart" when the same instance is reopened. */
import type { Snapshot } from '../state/snapshot.ts';
import type { StoredEvent } from '../state/stored-event.ts';
import type { Loaded, SnapshotSink, Store } from './store.ts';

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private journal: StoredEvent[] = [];
  /** The snapshot as JSON text, as a disk would hold it: a load parses it, so nothing is shared with the live state. */
  private snapshot: string | null = null;
  /** Test hook: when set, append and probe fail with this error (a full or broken disk). */
  failWith: Error | null = null;

  async load(): Promise<Loaded> {
    const snapshot = this.snapshot === null ? null : (JSON.parse(this.snapshot) as Snapshot);
    const after = snapshot?.seq ?? 0;
    return {
      snapshot,
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
    this.snapshot = JSON.stringify(snapshot);
  }

  beginSnapshot(seq: number): SnapshotSink {
    const last = this.journal.at(-1)?.seq ?? 0;
    if (seq !== last) throw new Error(`a snapshot at seq ${seq} but the journal ends at ${last}`);
    let parts: string[] | null = [];
    return {
      head: {},
      write: async (text) => {
        if (this.failWith) throw this.failWith;
        parts?.push(text);
      },
      commit: async () => {
        if (this.failWith) throw this.failWith;
        if (parts === null) throw new Error('the snapshot was aborted');
        this.snapshot = parts.join('');
        parts = null;
      },
      abort: async () => {
        parts = null;
      },
    };
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
