/**
 * The store interface: a journal of events (append-only, durable when `append` resolves) and a
 * snapshot of the state at some sequence number. Implementations: memory (tests), lowdb (the
 * embedded default). One shared suite (test/integration/store-contract.test.ts) runs against both.
 */
import type { Snapshot } from '../state/snapshot.ts';
import type { StoredEvent } from '../state/stored-event.ts';

export interface Loaded {
  snapshot: Snapshot | null;
  /** Events after the snapshot's seq (or all events when there is no snapshot), in order. */
  events: StoredEvent[];
  /** Problems recovered from (a torn journal tail, an unreadable snapshot replaced by a replay). */
  warnings: string[];
}

export interface Store {
  readonly kind: 'memory' | 'lowdb';
  /** Reads what is on disk. May be called again after a failure to re-sync with disk. */
  load(): Promise<Loaded>;
  /** Appends events in order; resolves only once they are durable. */
  append(events: readonly StoredEvent[]): Promise<void>;
  /** Replaces the snapshot; durable when it resolves. Called only when every journaled event is in it. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Events with seq > afterSeq, at most limit of them, in order. */
  readJournal(afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** Checks that the store can make a write durable right now (used to leave degraded mode). */
  probe(): Promise<void>;
  close(): Promise<void>;
}

export class StoreCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreCorruptError';
  }
}
