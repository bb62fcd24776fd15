/**
 * The idempotency keys the coordinator remembers (SPEC §5.12), in memory that follows live work,
 * not history. A key is two things of very different size: its record (scope, key, operation,
 * payload hash, time, and the seq of the journal event that carries the whole record) and its
 * first answer (a task view: about 1.1 KB as objects). Records are kept for their 24 h, so a
 * retry within them is always recognised; answers are kept as JSON text, and only the newest
 * `maxAnswerBytes` of them: an older key's answer is read back from the journal event `seq` when
 * the key is replayed (Runtime.call), which a retry, seconds after its first try, rarely needs.
 * Snapshots keep records without answers (snapshot.ts), so a restart does not parse them either.
 * On a store that keeps the records a snapshot covers beside it (lowdb's key file, Store.coveredKeys)
 * they leave memory once it commits (`forgetCovered`): memory holds the keys used since the last
 * snapshot, and Runtime.call reads an older key's record back when its hash is in the key file.
 * Only past `maxKeys` records in memory (a bound far above any real pool's 24 h) is the oldest key
 * itself forgotten; a request with a forgotten key is a new request, as after 24 h (SPEC §5.12).
 */
import { idemKey, type IdempotencyRecord } from './records.ts';
import type { Turns } from '../turns.ts';

/** A remembered key: what the first request was, where its record is journaled, and maybe its answer. */
export interface KeptIdempotency {
  scope: string;
  key: string;
  op: string;
  hash: string;
  at: number;
  /** Seq of the journal event the record rides on; absent only for records journaled before it was kept. */
  seq?: number;
  /** `JSON.stringify` of the first answer, while held in memory; a replay parses it, so it answers an equal copy. */
  answer?: string;
}

export interface IdempotencyLimits {
  /** Keys kept at most; past it the oldest key is forgotten. */
  maxKeys: number;
  /** Bytes of answers held in memory at most (UTF-16 length, a close bound of the heap they take); older answers are read back from the journal. */
  maxAnswerBytes: number;
}

/**
 * 2,000,000 keys (about 300 MB of records: a pool answering 20 mutations a second all day) and
 * 4 MB of answers (about 3,500 task-sized ones: the last second or so of the bench's busiest
 * phase, when a retry comes). Older answers are read back on a replay, from the runtime's recent
 * events (the newest 2,000) without the disk, else from the journal. 16 MB held 12 MB more at
 * 10,000 workers for replays that almost never come (bench/README.md, "Memory per worker").
 */
export const DEFAULT_IDEMPOTENCY_LIMITS: IdempotencyLimits = { maxKeys: 2_000_000, maxAnswerBytes: 4 * 1024 * 1024 };

/**
 * The JSON of each answer just remembered, by the answer object. The same answer is sent in the
 * request's acknowledgement and written in its journal event's record; both reuse this text
 * (coordinator/socket-parser.ts, `storedEventJson`) instead of serialising the answer twice more
 * (with a bulk create's 1,000 task views, the answer is the biggest thing a request writes). Weak:
 * an entry lives only as long as the answer object it describes.
 */
const ANSWER_JSON = new WeakMap<object, string>();

/** The JSON text of an answer remembered as its key's first answer, if it is one. */
export function rememberedAnswerJson(answer: unknown): string | undefined {
  return typeof answer === 'object' && answer !== null ? ANSWER_JSON.get(answer) : undefined;
}

export class IdempotencyKeys {
  /** In insertion order, which is the order of their times: the oldest first. */
  private readonly kept = new Map<string, KeptIdempotency>();
  /**
   * The records whose answer is held, oldest first from `head`: the answers dropped first when over
   * `maxAnswerBytes`. An array read from a moving head, not a Set read with `values().next()`: a
   * Set's iterator walks every slot deleted since its table was last rebuilt, so taking the oldest
   * of a few thousand answers on every request cost microseconds that grew with the answers held
   * (bench/transition-cost.ts). A record dropped meanwhile (or remembered anew) is stale here, and
   * skipped; the stale ones are swept out once they outnumber the held ones.
   */
  private queue: Array<KeptIdempotency | undefined> = [];
  /** Each queued record's map key (the string `kept` holds: no key is built again to look it up). */
  private queueKeys: Array<string | undefined> = [];
  private head = 0;
  /** Answers held (records in `kept` with their answer), and entries of `queue` no longer held. */
  private held = 0;
  private stale = 0;
  private bytes = 0;
  limits: IdempotencyLimits = DEFAULT_IDEMPOTENCY_LIMITS;

  get size(): number {
    return this.kept.size;
  }

  /** Bytes of the answers held in memory, as counted against `maxAnswerBytes`. */
  get answerBytes(): number {
    return this.bytes;
  }

  get(scope: string, key: string): KeptIdempotency | undefined {
    return this.kept.get(idemKey(scope, key));
  }

  /**
   * Remembers a request's key (from the engine, the fold or a snapshot), with its answer when given
   * one, then trims to the limits. A record from a snapshot comes without its answer; `seq` is the
   * event the record rides on.
   */
  remember(record: IdempotencyRecord | KeptIdempotency, seq = record.seq): void {
    // Every field at once, so each record is one object of one shape, its fields inside it (set
    // later, `seq` and `answer` each needed an out-of-object property array: 10,000s of records).
    let answer: string | undefined;
    if ('answer' in record && record.answer !== undefined) answer = record.answer;
    else if ('result' in record) {
      answer = flat(JSON.stringify(record.result ?? null));
      // The same text goes into the request's journal line and its acknowledgement (answer-json).
      if (typeof record.result === 'object' && record.result !== null) ANSWER_JSON.set(record.result, answer);
    }
    const kept: KeptIdempotency = { scope: record.scope, key: record.key, op: record.op, hash: record.hash, at: record.at, seq, answer };
    const k = idemKey(kept.scope, kept.key);
    this.drop(k);
    this.kept.set(k, kept);
    if (kept.answer !== undefined) this.holdAnswer(k, kept);
    while (this.kept.size > this.limits.maxKeys) this.drop(this.kept.keys().next().value as string);
    this.trimAnswers();
  }

  /**
   * Fills the keys from a snapshot's records, oldest first, as a restart does: each parsed record
   * is kept as it is, one map entry each, without the copy, the look-up and the trim `remember`
   * makes per key (a restart after a busy day restores hundreds of thousands of them). A record
   * that is not a compact one (with an answer, or from before records carried their seq) takes
   * the general path.
   */
  restore(records: ReadonlyArray<KeptIdempotency | IdempotencyRecord>): void {
    for (const record of records) {
      if (record.seq === undefined || 'answer' in record || 'result' in record) {
        this.remember(record);
        continue;
      }
      const k = idemKey(record.scope, record.key);
      // A key twice keeps the later record, at the later place, as remember would.
      if (this.kept.has(k)) this.drop(k);
      this.kept.set(k, record);
    }
    while (this.kept.size > this.limits.maxKeys) this.drop(this.kept.keys().next().value as string);
  }

  /**
   * Remembers a key folded from the journal (a restart's tail, a cluster follower's copy) without
   * its answer: the answer stays in journal event `seq` and is read back if the key is replayed,
   * as for a key restored from a snapshot. Serialising every answer of the tail again was most of
   * a restart's replay (about 9 µs per task-sized answer, a third of the events).
   */
  rememberJournaled(record: IdempotencyRecord | KeptIdempotency, seq: number): void {
    this.remember({ scope: record.scope, key: record.key, op: record.op, hash: record.hash, at: record.at }, seq);
  }

  /** The answer of a key read back from the journal: held again, as the newest. */
  fill(rec: KeptIdempotency, result: unknown): void {
    const k = idemKey(rec.scope, rec.key);
    if (this.kept.get(k) !== rec || rec.answer !== undefined) return;
    rec.answer = flat(JSON.stringify(result ?? null));
    this.holdAnswer(k, rec);
    this.trimAnswers();
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

  /**
   * The keys a snapshot at `seq` covers: those whose record is journaled at or before it (or not at
   * all). Gathered a piece at a time (`turns`), while commands go on: a key they add meanwhile is
   * journaled after `seq`, so it is not one of them, and a record once kept never changes.
   */
  async coveredBy(seq: number, turns: Turns): Promise<KeptIdempotency[]> {
    const out: KeptIdempotency[] = [];
    let n = 0;
    for (const rec of this.kept.values()) {
      if (rec.seq === undefined || rec.seq <= seq) out.push(rec);
      if ((++n & 255) === 0) await turns.pace();
    }
    return out;
  }

  /**
   * Forgets the keys a committed snapshot at `seq` covers, once the store keeps them beside it
   * (Store.coveredKeys): memory then holds only the keys used since, and a replay of an older one
   * reads its record back first (Runtime.call). A piece at a time, as `coveredBy`: until a key is
   * forgotten, memory and the store both have it, and memory answers first.
   */
  async forgetCovered(seq: number, turns: Turns): Promise<void> {
    let n = 0;
    for (const [k, rec] of this.kept) {
      if (rec.seq === undefined || rec.seq <= seq) this.drop(k);
      if ((++n & 255) === 0) await turns.pace();
    }
  }

  values(): IterableIterator<KeptIdempotency> {
    return this.kept.values();
  }

  clear(): void {
    this.kept.clear();
    this.queue = [];
    this.queueKeys = [];
    this.head = 0;
    this.held = 0;
    this.stale = 0;
    this.bytes = 0;
  }

  private holdAnswer(k: string, rec: KeptIdempotency): void {
    this.queue.push(rec);
    this.queueKeys.push(k);
    this.held += 1;
    this.bytes += (rec.answer as string).length;
  }

  /** Whether a record of the queue still holds its answer: it is the key's record, its answer not dropped. */
  private holds(k: string, rec: KeptIdempotency): boolean {
    return rec.answer !== undefined && this.kept.get(k) === rec;
  }

  /** Over the bytes: the oldest answers leave memory; a key without a journaled record (no seq) leaves with its answer. */
  private trimAnswers(): void {
    while (this.bytes > this.limits.maxAnswerBytes && this.held > 1) {
      const rec = this.queue[this.head] as KeptIdempotency;
      const k = this.queueKeys[this.head] as string;
      this.queue[this.head] = undefined;
      this.queueKeys[this.head] = undefined;
      this.head += 1;
      if (!this.holds(k, rec)) {
        this.stale -= 1;
        continue;
      }
      this.held -= 1;
      this.bytes -= (rec.answer as string).length;
      if (rec.seq === undefined) this.kept.delete(k);
      else delete rec.answer;
    }
    this.sweepQueue();
  }

  private drop(k: string): void {
    const rec = this.kept.get(k);
    if (!rec) return;
    this.kept.delete(k);
    if (rec.answer === undefined) return;
    // Its queue entry stays, stale, until the head passes it or the queue is swept.
    this.held -= 1;
    this.stale += 1;
    this.bytes -= rec.answer.length;
    this.sweepQueue();
  }

  /** Drops the stale entries and the read part of the queue once they outnumber the held ones (amortised: each entry is swept once). */
  private sweepQueue(): void {
    if (this.stale + this.head <= 1024 || this.stale + this.head <= this.held) return;
    const live: KeptIdempotency[] = [];
    const liveKeys: string[] = [];
    for (let i = this.head; i < this.queue.length; i += 1) {
      const rec = this.queue[i];
      const k = this.queueKeys[i];
      if (rec && k !== undefined && this.holds(k, rec)) {
        live.push(rec);
        liveKeys.push(k);
      }
    }
    this.queue = live;
    this.queueKeys = liveKeys;
    this.head = 0;
    this.stale = 0;
  }
}

/**
 * The same text as one flat string. `JSON.stringify` builds a long result as a rope (a tree of
 * concatenated parts, each a heap object of its own); turning a string into a number makes V8
 * flatten it in place, so a kept answer holds one copy of its text and the parts are collected.
 */
function flat(text: string): string {
  Number(text);
  return text;
}

/** A replay's answer: a fresh copy of the first one, so a caller changing it cannot change the kept one. */
export function keptAnswer(rec: KeptIdempotency): unknown {
  if (rec.answer === undefined) throw new Error(`the answer of idempotency key ${rec.key} is not held; Runtime.call reads it back first`);
  return JSON.parse(rec.answer);
}
