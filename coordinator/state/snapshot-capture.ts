/**
 * A snapshot written while the coordinator keeps working: the state at one seq S, serialised a
 * slice at a time across turns of the event loop, so a big state never stalls the loop for the
 * length of one `JSON.stringify` (223 ms for a busy state, measured; seconds at 200,000 tasks).
 *
 * At S, `beginCapture` takes the lists of the records that exist (references, not copies) and
 * serialises the few small parts at once. Then copy-on-write: before an event is folded, the
 * records it may change and that are not yet written are serialised as they were (their
 * pre-image, `touchedBy`); a record created after S is not in the lists and is never written.
 * So the text is exactly the state at S however the writes interleave, and recovery from it plus
 * the journal after S gives the live state. The document is the one `snapshotOf` gives (the same
 * fields, `restoreSnapshot` reads both), plus whatever fields the store adds to its head.
 *
 * Outside the fold only one snapshotted field changes: a lease's `expires_at`, renewed by
 * heartbeats, which are never journaled (recovery gives every lease a fresh window anyway).
 */
import type { KeptIdempotency } from './idempotency-keys.ts';
import type { LeaseRecord, OfferRecord, TaskRecord, WorkerRecord } from './records.ts';
import { compactRecord, snapshotHead } from './snapshot.ts';
import type { StoredEvent } from './stored-event.ts';
import type { State } from './state.ts';

/** What a snapshot section holds, in the order the document lists them. */
const TASKS = 0;
const WORKERS = 1;
const LEASES = 3;

/** The records an event may change in place, as the fold finds them, with their section: what must be copied before it runs. */
export function touchedBy(state: State, e: StoredEvent): Array<[section: number, record: object]> {
  const out: Array<[number, object]> = [];
  const task = e.task_id === undefined ? undefined : state.tasks.get(e.task_id);
  if (task) {
    out.push([TASKS, task]);
    // Offers never change once made; the task's lease does (a PR attached, checks timed out).
    const lease = task.current_lease_id === undefined ? undefined : state.leases.get(task.current_lease_id);
    if (lease) out.push([LEASES, lease]);
  }
  const worker = e.worker_id === undefined ? undefined : state.workers.get(e.worker_id);
  if (worker) out.push([WORKERS, worker.record]);
  const leaseId = (e.data as { lease_id?: unknown }).lease_id;
  const lease = typeof leaseId === 'string' ? state.leases.get(leaseId) : undefined;
  if (lease) out.push([LEASES, lease]);
  return out;
}

type Section = { name: string; records: readonly object[]; text: (r: object) => string };

export interface SliceLimits {
  /** Stop a slice once it has run this long (checked every few records). */
  ms: number;
  /** …or once it holds this many records (tests use 1 to interleave writes with every record). */
  records?: number;
}

export class SnapshotCapture {
  readonly seq: number;
  /** Pre-images: records changed since S before they were written, as JSON text at S. */
  private readonly before = new Map<object, string>();
  private readonly sections: Section[];
  private section = 0;
  private index = 0;
  private head: string | null;
  private archived: IterableIterator<[string, number]> | null;
  /**
   * The workers' on-time records at S, as numbers (the fold changes them in place): one per worker
   * whose lease ever ended, 10,000 after the bench's hold phase, too many to copy and serialise in
   * the head at once (12-20 ms in one turn). Written last, a slice at a time.
   */
  private readonly punctuality: { ids: string[]; onTime: number[]; late: number[] };
  private punctualityAt = 0;
  private punctualityOpened = false;
  /** The current section's opening bracket is out. */
  private opened = false;
  private done = false;

  /**
   * Takes the state at its current seq: run it only when every event up to there is durable.
   * Without `keysInline` the idempotency list is left empty: the store keeps those records
   * beside the snapshot (SnapshotSink.keys).
   */
  constructor(state: State, storeHead: Record<string, number | string | readonly string[]> = {}, keysInline = true) {
    this.seq = state.seq;
    const head = { ...storeHead, ...snapshotHead(state, false) };
    // The head's fields, then the record lists one by one; "archived" and "punctuality" last, their objects left open.
    this.head = JSON.stringify(head).slice(0, -1);
    const json = (r: object): string => JSON.stringify(r);
    const tasks: TaskRecord[] = [...state.tasks.values()];
    const workers: WorkerRecord[] = new Array(state.workers.size);
    let w = 0;
    for (const worker of state.workers.values()) workers[w++] = worker.record;
    const punctuality = { ids: new Array<string>(state.punctuality.size), onTime: new Array<number>(state.punctuality.size), late: new Array<number>(state.punctuality.size) };
    let p = 0;
    for (const [id, record] of state.punctuality) {
      punctuality.ids[p] = id;
      punctuality.onTime[p] = record.on_time;
      punctuality.late[p] = record.late;
      p += 1;
    }
    this.punctuality = punctuality;
    const offers: OfferRecord[] = [...state.offers.values()];
    const leases: LeaseRecord[] = [...state.leases.values()];
    const keys: KeptIdempotency[] = keysInline ? [...state.idempotency.values()] : [];
    this.sections = [
      { name: 'tasks', records: tasks, text: json },
      { name: 'workers', records: workers, text: json },
      { name: 'offers', records: offers, text: json },
      { name: 'leases', records: leases, text: json },
      // A kept key never changes in the form a snapshot keeps (its answer comes and goes, not kept).
      { name: 'idempotency', records: keys, text: (r) => JSON.stringify(compactRecord(r as KeptIdempotency)) },
    ];
    // Archived ids only ever arrive, in seq order: the ones at or before S are the state at S.
    this.archived = state.archived.entries();
  }

  /**
   * Copies what `e` is about to change, if it may not be written yet: the fold calls this before
   * each event. A record of a section already finished is out; one in the section being written
   * may be, and is copied anyway (a few µs, for the records touched during the snapshot only).
   */
  beforeFold(state: State, e: StoredEvent): void {
    for (const [section, r] of touchedBy(state, e)) {
      if (section >= this.section && !this.before.has(r)) this.before.set(r, JSON.stringify(r));
    }
  }

  /** The next piece of the document's text, or null when it is complete. */
  next(limits: SliceLimits): string | null {
    if (this.done) return null;
    const started = performance.now();
    const maxRecords = limits.records ?? Number.POSITIVE_INFINITY;
    let out = '';
    if (this.head !== null) {
      out = this.head;
      this.head = null;
    }
    let n = 0;
    const spent = (): boolean => n >= maxRecords || ((n & 15) === 0 && performance.now() - started >= limits.ms);
    while (this.section < this.sections.length) {
      const s = this.sections[this.section] as Section;
      if (!this.opened) {
        out += `,"${s.name}":[`;
        this.opened = true;
      }
      while (this.index < s.records.length) {
        if (n > 0 && spent()) return out;
        const r = s.records[this.index] as object;
        out += `${this.index === 0 ? '' : ','}${this.before.get(r) ?? s.text(r)}`;
        this.before.delete(r);
        this.index += 1;
        n += 1;
      }
      out += ']';
      this.section += 1;
      this.index = 0;
      this.opened = false;
    }
    if (this.archived) {
      if (!this.opened) {
        out += ',"archived":{';
        this.opened = true;
      }
      for (;;) {
        if (n > 0 && spent()) return out;
        const entry = this.archived.next();
        if (entry.done) break;
        const [id, seq] = entry.value;
        if (seq > this.seq) break; // the rest came after S
        out += `${this.index === 0 ? '' : ','}${JSON.stringify(id)}:${seq}`;
        this.index += 1;
        n += 1;
      }
      this.archived = null;
      this.opened = false;
      this.index = 0;
      out += '}';
    }
    const { ids, onTime, late } = this.punctuality;
    if (ids.length > 0) {
      if (!this.punctualityOpened) {
        out += ',"punctuality":{';
        this.punctualityOpened = true;
      }
      while (this.punctualityAt < ids.length) {
        if (n > 0 && spent()) return out;
        const i = this.punctualityAt;
        out += `${i === 0 ? '' : ','}${JSON.stringify(ids[i])}:{"on_time":${onTime[i] as number},"late":${late[i] as number}}`;
        this.punctualityAt += 1;
        n += 1;
      }
      out += '}';
    }
    this.done = true;
    return `${out}}`;
  }
}
