/**
 * The coordinator's state and the one function that changes it: `apply(event)`. The engine decides
 * (validates a command against the state and writes events); apply folds each event into the
 * state through the handler of its type (fold.ts). Recovery replays the journal through the same
 * apply, so the state after a restart is exactly the acknowledged events folded again (invariant 8).
 */
import { LEASED_STATES } from '../../protocol/states.ts';
import type { JournalEventType } from '../../protocol/journal-events.ts';
import type { Lease, Offer, Task, Worker } from '../../protocol/model.ts';
import { FOLD } from './fold.ts';
import {
  emptyStats, loginKey, type Counters, type LeaseRecord, type MaintainerRecord, type OfferRecord,
  type RepoRuntime, type TaskRecord, type WorkerRuntime,
} from './records.ts';
import { IdempotencyKeys } from './idempotency-keys.ts';
import { restoreSnapshot, snapshotOf, type Snapshot } from './snapshot.ts';
import { SnapshotCapture } from './snapshot-capture.ts';
import type { StoredEvent, StoredEventOf } from './stored-event.ts';

/** A task record's fields that its view (the wire form) leaves out. */
const TASK_PRIVATE: ReadonlySet<string> = new Set<Exclude<keyof TaskRecord, keyof Task>>(['current_lease_id', 'current_offer_id', 'pr_worker_id', 'pr_counted_at', 'retry_after_expiry', 'dry_run_seen']);

export class State {
  seq = 0;
  counters: Counters = { task: 0, worker: 0, offer: 0, lease: 0, maintainer: 0 };
  readonly repos = new Map<string, RepoRuntime>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly workers = new Map<string, WorkerRuntime>();
  /**
   * The workers online now, kept beside `workers` so a scheduling pass reads the few hundred that
   * are connected, not every worker ever registered (10,000 gone workers made each pass a walk).
   */
  readonly onlineWorkers = new Set<WorkerRuntime>();
  /** Login key → the workers registered with that GitHub login (a contributor may run several). */
  readonly workersByLogin = new Map<string, WorkerRuntime[]>();
  readonly maintainers = new Map<string, MaintainerRecord>();
  readonly offers = new Map<string, OfferRecord>();
  readonly leases = new Map<string, LeaseRecord>();
  /** Records kept 24 h, answers in memory only while recent (idempotency-keys.ts): memory follows live work, not history. */
  readonly idempotency = new IdempotencyKeys();
  readonly tokenIndex = new Map<string, { kind: 'worker' | 'maintainer'; id: string }>();
  /**
   * The live tasks in a terminal state (merged, closed), waiting to be archived: the sweep looks at
   * these, not at every task (200,000 ready tasks made each 250 ms sweep a walk over all of them).
   */
  readonly finished = new Set<TaskRecord>();
  /** Archived task id → seq of its task.archived event, which carries the final task. */
  readonly archived = new Map<string, number>();
  /** Worker id → its leases that ended in a PR (on time) and that expired (late): who gets an expired task's retry first. */
  readonly punctuality = new Map<string, { on_time: number; late: number }>();
  readonly stats = emptyStats();
  /** The snapshot being written, if any: it copies what each event is about to change (snapshot-capture.ts). */
  private capture: SnapshotCapture | null = null;

  // ---- the fold ----------------------------------------------------------------------------

  apply(e: StoredEvent): void {
    if (e.seq !== this.seq + 1) throw new Error(`journal gap: expected seq ${this.seq + 1}, got ${e.seq}`);
    if (!Object.hasOwn(FOLD, e.type)) throw new Error(`unknown journal event type ${String(e.type)} at seq ${e.seq}`);
    this.capture?.beforeFold(this, e);
    this.seq = e.seq;
    fold(this, e.type, e);
    // A live command remembers its key with the answer itself (engine/idempotency.ts); what is folded
    // here comes from the journal, which keeps the answer.
    if (e.idem) this.idempotency.rememberJournaled(e.idem, e.seq);
  }

  // ---- reads -------------------------------------------------------------------------------

  repo(repo: string): RepoRuntime | undefined {
    return this.repos.get(repo);
  }

  taskView(task: TaskRecord): Task {
    // A copy by for-in, not `{ current_lease_id, …, ...rest } = task`: a rest with excluded keys is a
    // runtime call per task, the hottest line of an accept in the cycle profile (bench/README.md).
    const view = {} as Record<string, unknown>;
    for (const k in task) if (!TASK_PRIVATE.has(k)) view[k] = task[k as keyof TaskRecord];
    const current_lease_id = task.current_lease_id;
    const current_offer_id = task.current_offer_id;
    const lease = current_lease_id ? this.leases.get(current_lease_id) : undefined;
    if (lease) view.lease = { lease_id: lease.lease_id, worker_id: lease.worker_id, epoch: lease.epoch, expires_at: lease.expires_at, max_deadline_at: lease.max_deadline_at };
    const offer = current_offer_id ? this.offers.get(current_offer_id) : undefined;
    if (offer) view.offer = { offer_id: offer.offer_id, worker_id: offer.worker_id, deadline_at: offer.deadline_at };
    return view as unknown as Task;
  }

  workerView(worker: WorkerRuntime): Worker {
    const { token_hash: _hash, ...rest } = worker.record;
    const view: Worker = { ...rest, online: worker.online, capacity_used: worker.used };
    if (worker.lastSeenAt !== undefined) view.last_seen_at = worker.lastSeenAt;
    return view;
  }

  offerView(offer: OfferRecord): Offer {
    const task = this.tasks.get(offer.task_id);
    if (!task) throw new Error(`offer ${offer.offer_id} points at missing task ${offer.task_id}`);
    return { ...offer, task: this.taskView(task) };
  }

  leaseView(lease: LeaseRecord): Lease {
    const settings = this.repos.get(lease.repo)?.settings;
    const interval = Math.max(1, Math.floor((settings?.heartbeat_timeout_ms ?? 30_000) / 3));
    const view: Lease = { ...lease, heartbeat_interval_ms: interval };
    const task = this.tasks.get(lease.task_id);
    if (task?.current_lease_id === lease.lease_id && task.pr && task.checks) {
      view.pr = task.pr;
      view.checks = task.checks;
    }
    return view;
  }

  /** Adds a worker to the state and to its login's list (the fold and snapshot restore both come here). */
  addWorker(w: WorkerRuntime): void {
    w.order = this.workers.size;
    this.workers.set(w.record.id, w);
    if (w.online) this.onlineWorkers.add(w);
    const key = loginKey(w.record.github_login);
    const list = this.workersByLogin.get(key);
    if (list) list.push(w);
    else this.workersByLogin.set(key, [w]);
  }

  /** A worker's connection state; every change goes through here so `onlineWorkers` stays true. */
  setOnline(w: WorkerRuntime, online: boolean): void {
    w.online = online;
    if (online) this.onlineWorkers.add(w);
    else this.onlineWorkers.delete(w);
  }

  liveLeaseCount(repo: RepoRuntime): number {
    return LEASED_STATES.reduce((n, s) => n + repo.counts[s], 0);
  }

  mustTask(id: string | undefined): TaskRecord {
    const task = id ? this.tasks.get(id) : undefined;
    if (!task) throw new Error(`journal refers to unknown task ${String(id)}`);
    return task;
  }

  mustWorker(id: string | undefined): WorkerRuntime {
    const worker = id ? this.workers.get(id) : undefined;
    if (!worker) throw new Error(`journal refers to unknown worker ${String(id)}`);
    return worker;
  }

  mustRepo(id: string | undefined): RepoRuntime {
    const repo = id ? this.repos.get(id) : undefined;
    if (!repo) throw new Error(`journal refers to unknown repo ${String(id)}`);
    return repo;
  }

  // ---- snapshots ----------------------------------------------------------------------------

  toSnapshot(): Snapshot {
    return snapshotOf(this);
  }

  /**
   * Starts a snapshot of the state as it is now, written a slice at a time while events keep
   * coming (one at a time: the next waits for `endCapture`). `storeHead` is what the store adds
   * to the document (lowdb: where the snapshot ends in the journal).
   */
  beginCapture(storeHead?: Record<string, number | string | readonly string[]>, keysInline = true): SnapshotCapture {
    if (this.capture) throw new Error('a snapshot is already being written');
    this.capture = new SnapshotCapture(this, storeHead, keysInline);
    return this.capture;
  }

  endCapture(capture: SnapshotCapture): void {
    if (this.capture === capture) this.capture = null;
  }

  static fromSnapshot(s: Snapshot): State {
    const state = new State();
    restoreSnapshot(state, s);
    return state;
  }

  /**
   * Everything a recovery must reproduce, in a comparable form (used by reliability checks). Not
   * the idempotency records: which of them are in memory depends on when snapshots were taken (a
   * store may keep the ones a snapshot covers beside it, Store.coveredKeys); what they promise is
   * checked by replaying keys (test/integration/idempotency-key-file.test.ts).
   */
  durableView(): unknown {
    const { idempotency: _keys, ...snap } = this.toSnapshot();
    return { ...snap, leases: snap.leases.map(({ expires_at: _e, ...rest }) => rest) };
  }
}

/** Runs the handler of the event's type; generic so the handler and the event are known to match. */
function fold<K extends JournalEventType>(state: State, type: K, e: StoredEventOf<K>): void {
  FOLD[type](state, e);
}
