/**
 * Where the journal's fdatasync runs. On the event loop while the disk answers fast, as Redis's
 * `appendfsync always` does: handed to the thread pool, each group commit cost a pool thread's
 * wake-up, the loop's wake-up back and, on a busy machine, a preemption, about 3× the CPU of the
 * call itself and 3× its wall time (bench/README.md, "Where a task's time goes"). Commands that
 * arrive meanwhile wait in the socket buffers and share the next commit. A disk that turns slow
 * (a sync over `slowMs`) must not freeze the loop, heartbeats and all, once per commit: the syncs
 * of the next `poolMs` go to the thread pool, and then one is timed on the loop again.
 * Durability is the same either way: the answer waits for the sync that covers its bytes.
 */
import { fdatasyncSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

export interface JournalSyncParts {
  onLoop(handle: FileHandle): void;
  onPool(handle: FileHandle): Promise<void>;
  /** Milliseconds, monotonic. */
  now(): number;
  /** A sync on the loop slower than this sends the next ones to the pool (default 2 ms). */
  slowMs?: number;
  /** For this long (default 1,000 ms). */
  poolMs?: number;
}

export function journalSync(parts: JournalSyncParts): (handle: FileHandle) => Promise<void> {
  const slowMs = parts.slowMs ?? 2;
  const poolMs = parts.poolMs ?? 1000;
  let poolUntil = -Infinity;
  return async (handle) => {
    const started = parts.now();
    if (started < poolUntil) return parts.onPool(handle);
    parts.onLoop(handle);
    if (parts.now() - started > slowMs) poolUntil = parts.now() + poolMs;
  };
}

export const datasyncJournal = journalSync({ onLoop: (handle) => fdatasyncSync(handle.fd), onPool: (handle) => handle.datasync(), now: () => performance.now() });
