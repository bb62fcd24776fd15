/**
 * The idempotency keys the coordinator remembers (SPEC §5.12), bounded by live memory, not by
 * history. Each key keeps its answer as JSON text, not as the object graph it was answered with:
 * a task view held as objects cost about 1.1 KB a key, and at thousands of mutations a second the
 * 24 h window alone let the heap (and every snapshot, which writes every key) grow without end
 * (bench/README.md, "Idempotency keys"). Besides the 24 h window, the oldest keys are forgotten
 * once more than `maxKeys` are kept or their answers pass `maxBytes`; a request with a forgotten
 * key is a new request, as after 24 h (SPEC §5.12, after IDEM-005).
 */
import { idemKey, type IdempotencyRecord } from './records.ts';

/** A remembered key: what the first request was, and its answer as JSON text. */
export interface KeptIdempotency {
  scope: string;
  key: string;
  op: string;
  hash: string;
  at: number;
  /** `JSON.stringify` of the first answer; a replay parses it, so it answers an equal copy. */
  answer: string;
}

export interface IdempotencyLimits {
  /** Keys kept at most; the oldest goes first. */
  maxKeys: number;
  /** Bytes of keys and answers kept at most (UTF-16 length, a close bound of the heap they take). */
  maxBytes: number;
}

/** 100,000 keys or 32 MB of answers (about 50,000 task-sized ones), whichever binds first: a few seconds of the bench's busiest phase, hours of a real pool, and far more than a client retrying needs. */
export const DEFAULT_IDEMPOTENCY_LIMITS: IdempotencyLimits = { maxKeys: 100_000, maxBytes: 32 * 1024 * 1024 };

/** What one key costs beyond its strings: the record and its map entry. */
const KEY_OVERHEAD_BYTES = 120;

export class IdempotencyKeys {
  /** In insertion order, which is the order of their times: the oldest first. */
  private readonly kept = new Map<string, KeptIdempotency>();
  private bytes = 0;
  limits: IdempotencyLimits = DEFAULT_IDEMPOTENCY_LIMITS;

  get size(): number {
    return this.kept.size;
  }

  /** Bytes the kept keys and answers take, as counted against `maxBytes`. */
  get keptBytes(): number {
    return this.bytes;
  }

  get(scope: string, key: string): KeptIdempotency | undefined {
    return this.kept.get(idemKey(scope, key));
  }

  /** Remembers a request's key and answer (from the engine, the fold or a snapshot), then trims to the limits. */
  remember(record: IdempotencyRecord | KeptIdempotency): void {
    const kept: KeptIdempotency = 'answer' in record
      ? record
      : { scope: record.scope, key: record.key, op: record.op, hash: record.hash, at: record.at, answer: JSON.stringify(record.result ?? null) };
    const k = idemKey(kept.scope, kept.key);
    this.drop(k);
    this.kept.set(k, kept);
    this.bytes += costOf(kept);
    while (this.kept.size > this.limits.maxKeys || (this.bytes > this.limits.maxBytes && this.kept.size > 1)) {
      const oldest = this.kept.keys().next().value as string;
      this.drop(oldest);
    }
  }

  /**
   * Forgets the keys answered at or before `cutoff`. Keys are kept in the order they were answered,
   * so this stops at the first younger one instead of walking every key on every sweep.
   */
  forgetUntil(cutoff: number): void {
    for (const [k, rec] of this.kept) {
      if (rec.at > cutoff) break;
      this.drop(k);
    }
  }

  values(): IterableIterator<KeptIdempotency> {
    return this.kept.values();
  }

  clear(): void {
    this.kept.clear();
    this.bytes = 0;
  }

  private drop(k: string): void {
    const rec = this.kept.get(k);
    if (!rec) return;
    this.kept.delete(k);
    this.bytes -= costOf(rec);
  }
}

function costOf(rec: KeptIdempotency): number {
  return rec.answer.length + rec.key.length + rec.scope.length + rec.hash.length + rec.op.length + KEY_OVERHEAD_BYTES;
}

/** A replay's answer: a fresh copy of the first one, so a caller changing it cannot change the kept one. */
export function keptAnswer(rec: KeptIdempotency): unknown {
  return JSON.parse(rec.answer);
}
