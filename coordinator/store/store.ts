/**
 * The store interface: a journal of events (append-only, durable when `append` resolves) and a
 * snapshot of the state at some sequence number. Implementations: memory (tests), lowdb (the
 * embedded default), postgres (one database shared by a cluster of coordinators; its appends are
 * also fenced by the leadership term, see postgres.ts). One shared suite
 * (test/integration/store-contract.test.ts) runs against each.
 *
 * The interface stays the same for all three: what only a cluster needs (the leadership lease,
 * following the journal) lives on PostgresStore and in coordinator/cluster/, not here. A store may
 * refuse an append it is not allowed to make (postgres: FencedError); the runtime treats that like
 * any failed write: nothing is acknowledged.
 */
import type { KeptIdempotency } from '../state/idempotency-keys.ts';
import type { Snapshot } from '../state/snapshot.ts';
import type { StoredEvent } from '../state/stored-event.ts';

export interface Loaded {
  snapshot: Snapshot | null;
  /** Events after the snapshot's seq (or all events when there is no snapshot), in order. */
  events: StoredEvent[];
  /** Problems recovered from (a torn journal tail, an unreadable snapshot replaced by a replay). */
  warnings: string[];
  /**
   * What the load read, for the startup log and the restart figure: the snapshot and the journal
   * tail, in bytes, and the time reading and parsing the snapshot took (the rest of the load is the tail).
   */
  read?: { snapshot_bytes: number; journal_bytes: number; snapshot_ms?: number };
}

export interface Store {
  readonly kind: 'memory' | 'lowdb' | 'postgres';
  /**
   * Idempotency records the snapshot covers and the store keeps beside it, not in it (lowdb: its
   * key file), so a start neither parses them nor holds them in memory. Absent when a snapshot
   * holds its records itself (memory, postgres). Replaced by each load and each committed snapshot.
   */
  readonly coveredKeys?: CoveredKeys;
  /** Reads what is on disk. May be called again after a failure to re-sync with disk. */
  load(): Promise<Loaded>;
  /** Appends events in order; resolves only once they are durable. */
  append(events: readonly StoredEvent[]): Promise<void>;
  /** Replaces the snapshot; durable when it resolves. Called only when every journaled event is in it (tests and tools). */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /**
   * Starts a snapshot at `seq`, the journal's end (every event up to it durable, none being
   * written), whose JSON text the runtime then hands over a piece at a time while appends go on
   * (state/snapshot-capture.ts). The previous snapshot stays the one a load reads until `commit`
   * resolves; a failure or a crash before that leaves it in place. `keysCutoff`: idempotency
   * records first used at or before it have expired (a store keeping them beside the snapshot may drop them).
   */
  beginSnapshot(seq: number, keysCutoff?: number): SnapshotSink;
  /** Events with seq > afterSeq, at most limit of them, in order. */
  readJournal(afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** Checks that the store can make a write durable right now (used to leave degraded mode). */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/** A snapshot being written: its document's text arrives in pieces, in order. */
export interface SnapshotSink {
  /** Fields the store keeps in the document's head (lowdb: where in the journal the snapshot ends). */
  readonly head: Record<string, number | string | readonly string[]>;
  /**
   * Present when the store keeps the covered idempotency records beside the snapshot (the
   * document then holds none): they go here, before `commit`, and are durable when it resolves.
   * `records` are the kept keys up to the snapshot's seq; with the ones the store already keeps,
   * those used at or before `cutoff` (24 h ago) are left out.
   */
  readonly keys?: { write(records: readonly KeptIdempotency[], cutoff: number): Promise<void> };
  write(text: string): Promise<void>;
  /** Makes the whole document the snapshot, durably. */
  commit(): Promise<void>;
  /** Drops what was written; the previous snapshot stays. */
  abort(): Promise<void>;
}

/** Records a snapshot covers, looked up by key (coordinator/store/key-file.ts). */
export interface CoveredKeys {
  /** Whether a record of this key used after `notBefore` may be there: no I/O, false is certain. */
  mayHold(scope: string, key: string, notBefore: number): boolean;
  /** The record, read from the disk; undefined when it is not there. */
  find(scope: string, key: string, notBefore: number): Promise<KeptIdempotency | undefined>;
}

export class StoreCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreCorruptError';
  }
}
