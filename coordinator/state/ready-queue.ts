/**
 * A repo's ready tasks, indexed by what eligibility reads: one queue per scheduling signature (a
 * kind of task, eligibility.ts), each in queue order. The scheduler walks kinds, not tasks, so the
 * cost of an offer depends on how many kinds are ready, not on how many tasks (issue 20).
 *
 * Queue order (SPEC OFFER-007): priority (higher first), then age (older first), then the task's
 * number (lower first), a total order, so a task is found by binary search and two coordinators
 * folding the same journal order the same tasks the same way.
 */
import { schedulingSignature } from '../engine/eligibility.ts';
import type { TaskRecord } from './records.ts';

/** What a queued task is sorted by; copied in, so later edits of the record cannot unsort a queue. */
export interface ReadyEntry {
  readonly id: string;
  readonly n: number;
  readonly priority: number;
  readonly created_at: number;
  readonly signature: string;
}

export function compareReady(a: ReadyEntry, b: ReadyEntry): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.created_at !== b.created_at) return a.created_at - b.created_at;
  return a.n - b.n;
}

export function readyEntry(task: TaskRecord): ReadyEntry {
  return { id: task.id, n: Number(task.id.slice(task.id.indexOf('-') + 1)) || 0, priority: task.priority, created_at: task.created_at, signature: schedulingSignature(task) };
}

/**
 * The ready tasks of one kind, in order. Entries live in `items[head..]`: taking the first (an
 * offer) and adding at the end (a new task) cost O(1); a requeued or re-prioritised task is put
 * in place by binary search.
 */
export class ReadyQueue {
  private items: Array<ReadyEntry | undefined> = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  first(): ReadyEntry | undefined {
    return this.items[this.head];
  }

  /** The first entry ordered after `entry` (which need not be queued any more). */
  firstAfter(entry: ReadyEntry): ReadyEntry | undefined {
    return this.items[this.lowerBound(entry, true)];
  }

  insert(entry: ReadyEntry): void {
    const at = this.lowerBound(entry, false);
    if (at === this.items.length) this.items.push(entry);
    else if (at === this.head && this.head > 0) this.items[(this.head -= 1)] = entry;
    else this.items.splice(at, 0, entry);
  }

  remove(entry: ReadyEntry): boolean {
    const at = this.lowerBound(entry, false);
    if (this.items[at]?.id !== entry.id) return false;
    if (at === this.head) {
      this.items[at] = undefined;
      this.head += 1;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    } else {
      this.items.splice(at, 1);
    }
    return true;
  }

  /** The index of the first entry not before `entry` (or, with `after`, ordered after it). */
  private lowerBound(entry: ReadyEntry, after: boolean): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareReady(this.items[mid] as ReadyEntry, entry);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A repo's ready tasks, by kind. */
export class ReadyIndex {
  readonly kinds = new Map<string, ReadyQueue>();
  private readonly entries = new Map<string, ReadyEntry>();

  get size(): number {
    return this.entries.size;
  }

  has(taskId: string): boolean {
    return this.entries.has(taskId);
  }

  insert(task: TaskRecord): void {
    if (this.entries.has(task.id)) this.remove(task.id);
    const entry = readyEntry(task);
    this.entries.set(task.id, entry);
    let queue = this.kinds.get(entry.signature);
    if (!queue) this.kinds.set(entry.signature, (queue = new ReadyQueue()));
    queue.insert(entry);
  }

  remove(taskId: string): void {
    const entry = this.entries.get(taskId);
    if (!entry) return;
    this.entries.delete(taskId);
    const queue = this.kinds.get(entry.signature);
    if (!queue) return;
    queue.remove(entry);
    if (queue.size === 0) this.kinds.delete(entry.signature);
  }

  /** Every ready task id in queue order (tests and reads; the scheduler walks kinds instead). */
  ids(): string[] {
    return [...this.entries.values()].sort(compareReady).map((e) => e.id);
  }
}
