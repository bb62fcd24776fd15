/**
 * The coordinator's state and the one function that changes it: `apply(event)`. The engine decides
 * (validates a command against the state and writes events); apply folds each event into the
 * state. Recovery replays the journal through the same apply, so the state after a restart is
 * exactly the acknowledged events folded again (invariant 8).
 */
import { ACTIVE_STATES, LEASED_STATES, TASK_STATES, findTransition, type TaskState, type TransitionCause } from '../protocol/states.ts';
import type { GateEvidence, Lease, Offer, RepoSettings, Task, Worker } from '../protocol/model.ts';

export interface StoredEvent {
  seq: number;
  at: number;
  type: string;
  repo?: string;
  task_id?: string;
  worker_id?: string;
  data: Record<string, unknown>;
  /** The idempotency record of the request that wrote this event (first event of a request only). Never served. */
  idem?: IdempotencyRecord;
}

export interface IdempotencyRecord {
  scope: string;
  key: string;
  op: string;
  hash: string;
  result: unknown;
  at: number;
}

export type TaskRecord = Omit<Task, 'lease' | 'offer'> & {
  current_lease_id?: string;
  current_offer_id?: string;
};

export type WorkerRecord = Omit<Worker, 'online' | 'capacity_used'> & { token_hash: string };

export interface MaintainerRecord {
  id: string;
  name: string;
  repos: string[];
  token_hash: string;
}

export type OfferRecord = Omit<Offer, 'task'>;
export type LeaseRecord = Omit<Lease, 'heartbeat_interval_ms'>;

export interface Counters {
  task: number;
  worker: number;
  offer: number;
  lease: number;
  maintainer: number;
}

export interface Stats {
  leases_granted: number;
  requeues: number;
  prs_opened: number;
  prs_merged: number;
  prs_closed: number;
  /** Most recent task lead times (created → PR opened), bounded. */
  lead_times_ms: number[];
}

const LEAD_TIME_SAMPLES = 1000;

export function emptyStats(): Stats {
  return { leases_granted: 0, requeues: 0, prs_opened: 0, prs_merged: 0, prs_closed: 0, lead_times_ms: [] };
}

/** What a repo needs at hand for scheduling: its counts by state, area locks, ready queue, PR times. */
export class RepoRuntime {
  readonly counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  readonly locks = new Map<string, string>();
  /** Ready task ids ordered by priority (high first), then age (old first), then id. */
  readonly ready: string[] = [];
  /** Times of PRs opened within the last hour (pruned lazily). */
  prTimes: number[] = [];
  readonly stats = emptyStats();

  constructor(public settings: RepoSettings) {}
}

/** Per-worker runtime: what it holds (offers and leases, by task id → effort) and its connection. */
export class WorkerRuntime {
  online = false;
  sockets = 0;
  lastOfferAt = 0;
  lastSeenAt: number | undefined;
  openOfferId: string | undefined;
  readonly holding = new Map<string, number>();

  constructor(public record: WorkerRecord) {}

  get used(): number {
    let total = 0;
    for (const effort of this.holding.values()) total += effort;
    return total;
  }

  get free(): number {
    return this.record.capacity - this.used;
  }
}

export interface Snapshot {
  format: 'owp-state/1';
  seq: number;
  counters: Counters;
  repos: RepoSettings[];
  tasks: TaskRecord[];
  workers: WorkerRecord[];
  maintainers: MaintainerRecord[];
  offers: OfferRecord[];
  leases: LeaseRecord[];
  idempotency: IdempotencyRecord[];
  pr_times: Record<string, number[]>;
  stats: Record<string, Stats>;
  archived?: Record<string, number>;
}

export function defaultRepoSettings(repo: string): RepoSettings {
  return {
    repo,
    max_open_prs: 5,
    max_new_prs_per_hour: 2,
    heartbeat_timeout_ms: 30_000,
    lease_max_duration_ms: 2 * 3_600_000,
    offer_timeout_ms: 30_000,
    max_attempts: 3,
    required_gates: ['tests'],
    paused: false,
  };
}

function compareReady(a: TaskRecord, b: TaskRecord): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.created_at !== b.created_at) return a.created_at - b.created_at;
  return Number(a.id.slice(2)) - Number(b.id.slice(2));
}

export class State {
  seq = 0;
  counters: Counters = { task: 0, worker: 0, offer: 0, lease: 0, maintainer: 0 };
  readonly repos = new Map<string, RepoRuntime>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly workers = new Map<string, WorkerRuntime>();
  readonly maintainers = new Map<string, MaintainerRecord>();
  readonly offers = new Map<string, OfferRecord>();
  readonly leases = new Map<string, LeaseRecord>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  readonly tokenIndex = new Map<string, { kind: 'worker' | 'maintainer'; id: string }>();
  /** Archived task id → seq of its task.archived event, which carries the final task. */
  readonly archived = new Map<string, number>();
  readonly stats = emptyStats();

  // ---- reads -------------------------------------------------------------------------------

  repo(repo: string): RepoRuntime | undefined {
    return this.repos.get(repo);
  }

  taskView(task: TaskRecord): Task {
    const { current_lease_id, current_offer_id, ...rest } = task;
    const view: Task = { ...rest };
    const lease = current_lease_id ? this.leases.get(current_lease_id) : undefined;
    if (lease) view.lease = { lease_id: lease.lease_id, worker_id: lease.worker_id, epoch: lease.epoch, expires_at: lease.expires_at };
    const offer = current_offer_id ? this.offers.get(current_offer_id) : undefined;
    if (offer) view.offer = { offer_id: offer.offer_id, worker_id: offer.worker_id, deadline_at: offer.deadline_at };
    return view;
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
    return { ...lease, heartbeat_interval_ms: interval };
  }

  // ---- the fold ----------------------------------------------------------------------------

  apply(e: StoredEvent): void {
    if (e.seq !== this.seq + 1) throw new Error(`journal gap: expected seq ${this.seq + 1}, got ${e.seq}`);
    this.seq = e.seq;
    const d = e.data;
    switch (e.type) {
      case 'repo.configured': {
        const settings = d.settings as RepoSettings;
        const existing = this.repos.get(settings.repo);
        if (existing) existing.settings = settings;
        else this.repos.set(settings.repo, new RepoRuntime(settings));
        break;
      }
      case 'maintainer.created': {
        const m = d as unknown as MaintainerRecord;
        // The same id again means its token was rotated: the old token stops working.
        const previous = this.maintainers.get(m.id);
        if (previous) this.tokenIndex.delete(previous.token_hash);
        this.maintainers.set(m.id, { id: m.id, name: m.name, repos: [...m.repos], token_hash: m.token_hash });
        this.tokenIndex.set(m.token_hash, { kind: 'maintainer', id: m.id });
        this.counters.maintainer = Math.max(this.counters.maintainer, idNumber(m.id));
        break;
      }
      case 'worker.registered': {
        const rec = structuredClone(d.worker as WorkerRecord);
        this.workers.set(rec.id, new WorkerRuntime(rec));
        this.tokenIndex.set(rec.token_hash, { kind: 'worker', id: rec.id });
        this.counters.worker = Math.max(this.counters.worker, idNumber(rec.id));
        break;
      }
      case 'worker.token_rotated': {
        const w = this.mustWorker(e.worker_id);
        this.tokenIndex.delete(w.record.token_hash);
        w.record.token_hash = d.token_hash as string;
        this.tokenIndex.set(w.record.token_hash, { kind: 'worker', id: w.record.id });
        break;
      }
      case 'worker.updated':
        Object.assign(this.mustWorker(e.worker_id).record, structuredClone(d.changes as object));
        break;
      case 'worker.trust_changed':
        this.mustWorker(e.worker_id).record.trust = d.trust as number;
        break;
      case 'worker.revoked': {
        const w = this.mustWorker(e.worker_id);
        w.record.revoked = true;
        this.tokenIndex.delete(w.record.token_hash);
        break;
      }
      case 'worker.connected': {
        const w = this.mustWorker(e.worker_id);
        w.online = true;
        w.lastSeenAt = e.at;
        break;
      }
      case 'worker.disconnected': {
        const w = this.mustWorker(e.worker_id);
        w.online = false;
        w.lastSeenAt = e.at;
        break;
      }
      case 'task.created': {
        const task = structuredClone(d.task as TaskRecord);
        this.counters.task = Math.max(this.counters.task, idNumber(task.id));
        this.tasks.set(task.id, task);
        const repo = this.mustRepo(task.repo);
        repo.counts[task.state] += 1;
        if (task.state === 'ready') this.insertReady(repo, task);
        break;
      }
      case 'task.updated': {
        const task = this.mustTask(e.task_id);
        const repo = this.mustRepo(task.repo);
        const wasReady = task.state === 'ready';
        if (wasReady) this.removeReady(repo, task);
        Object.assign(task, structuredClone(d.changes as object));
        task.updated_at = e.at;
        if (wasReady) this.insertReady(repo, task);
        break;
      }
      case 'offer.created': {
        const task = this.mustTask(e.task_id);
        const offer: OfferRecord = {
          offer_id: d.offer_id as string,
          task_id: task.id,
          worker_id: e.worker_id as string,
          repo: task.repo,
          created_at: e.at,
          deadline_at: d.deadline_at as number,
        };
        this.counters.offer = Math.max(this.counters.offer, idNumber(offer.offer_id));
        this.offers.set(offer.offer_id, offer);
        task.current_offer_id = offer.offer_id;
        const worker = this.mustWorker(offer.worker_id);
        worker.holding.set(task.id, task.effort);
        worker.openOfferId = offer.offer_id;
        worker.lastOfferAt = e.at;
        this.setTaskState(task, 'offered', e.at, 'offer');
        break;
      }
      case 'offer.declined':
      case 'offer.expired':
      case 'offer.withdrawn': {
        const task = this.mustTask(e.task_id);
        this.endOffer(task);
        if (typeof d.attempts === 'number') task.attempts = d.attempts;
        const cause: TransitionCause = d.to === 'blocked' ? 'max_attempts' : e.type === 'offer.declined' ? 'decline' : e.type === 'offer.expired' ? 'offer_expired' : 'offer_withdrawn';
        this.setTaskState(task, d.to as TaskState, e.at, cause);
        if (d.to === 'blocked') task.blocked_reason = String(d.blocked_reason ?? 'too many attempts');
        break;
      }
      case 'lease.granted': {
        const task = this.mustTask(e.task_id);
        const via: TransitionCause = task.state === 'offered' ? 'accept' : 'claim';
        this.endOffer(task);
        const lease: LeaseRecord = {
          lease_id: d.lease_id as string,
          task_id: task.id,
          worker_id: e.worker_id as string,
          repo: task.repo,
          epoch: d.epoch as number,
          granted_at: e.at,
          expires_at: d.expires_at as number,
          max_deadline_at: d.max_deadline_at as number,
        };
        this.counters.lease = Math.max(this.counters.lease, idNumber(lease.lease_id));
        this.leases.set(lease.lease_id, lease);
        task.current_lease_id = lease.lease_id;
        task.epoch = lease.epoch;
        this.mustWorker(lease.worker_id).holding.set(task.id, task.effort);
        this.setTaskState(task, 'leased', e.at, via);
        this.bump(task.repo, (s) => (s.leases_granted += 1));
        break;
      }
      case 'task.started':
        this.setTaskState(this.mustTask(e.task_id), 'in_progress', e.at, 'start');
        break;
      case 'pr.opened': {
        const task = this.mustTask(e.task_id);
        this.endLease(task);
        task.pr = structuredClone(d.pr as Task['pr']);
        this.setTaskState(task, 'pr_opened', e.at, 'pr_opened');
        // The hourly window only ever needs the last hour; pruning here (not on reads) keeps replays exact.
        const repoRt = this.mustRepo(task.repo);
        repoRt.prTimes = repoRt.prTimes.filter((t) => t > e.at - 3_600_000);
        repoRt.prTimes.push(e.at);
        const lead = e.at - task.created_at;
        this.bump(task.repo, (s) => {
          s.prs_opened += 1;
          s.lead_times_ms.push(lead);
          if (s.lead_times_ms.length > LEAD_TIME_SAMPLES) s.lead_times_ms.shift();
        });
        break;
      }
      case 'lease.released':
      case 'lease.expired':
      case 'lease.cancelled': {
        const task = this.mustTask(e.task_id);
        this.endLease(task);
        task.attempts = d.attempts as number;
        const cause: TransitionCause = d.to === 'blocked' ? 'max_attempts' : e.type === 'lease.released' ? 'release' : e.type === 'lease.expired' ? 'lease_expired' : 'lease_cancelled';
        this.setTaskState(task, d.to as TaskState, e.at, cause);
        if (d.to === 'blocked') task.blocked_reason = String(d.blocked_reason ?? 'too many attempts');
        this.bump(task.repo, (s) => (s.requeues += 1));
        break;
      }
      case 'task.blocked': {
        const task = this.mustTask(e.task_id);
        this.endOffer(task);
        this.endLease(task);
        task.blocked_reason = d.reason as string;
        this.setTaskState(task, 'blocked', e.at, d.by === 'worker' ? 'worker_blocked' : 'maintainer_blocked');
        break;
      }
      case 'task.unblocked': {
        const task = this.mustTask(e.task_id);
        delete task.blocked_reason;
        task.attempts = 0;
        this.setTaskState(task, 'ready', e.at, 'unblock');
        break;
      }
      case 'task.merged':
      case 'task.closed': {
        const task = this.mustTask(e.task_id);
        const wasPr = task.state === 'pr_opened';
        this.endOffer(task);
        this.endLease(task);
        if (typeof d.reason === 'string') task.closed_reason = d.reason;
        this.setTaskState(task, e.type === 'task.merged' ? 'merged' : 'closed', e.at, e.type === 'task.merged' ? 'merged' : 'closed');
        if (wasPr) this.bump(task.repo, (s) => (e.type === 'task.merged' ? (s.prs_merged += 1) : (s.prs_closed += 1)));
        break;
      }
      case 'task.archived': {
        // Finished tasks leave the live state; the store keeps them in its archive.
        const task = this.mustTask(e.task_id);
        const repo = this.mustRepo(task.repo);
        repo.counts[task.state] -= 1;
        this.tasks.delete(task.id);
        this.archived.set(task.id, e.seq);
        break;
      }
      case 'coordinator.started':
      case 'worker.heartbeat_lost':
        break;
      default:
        throw new Error(`unknown journal event type ${e.type} at seq ${e.seq}`);
    }
    if (e.idem) this.idempotency.set(idemKey(e.idem.scope, e.idem.key), e.idem);
  }

  // ---- helpers used by apply ----------------------------------------------------------------

  private bump(repo: string, fn: (s: Stats) => void): void {
    fn(this.stats);
    const r = this.repos.get(repo);
    if (r) fn(r.stats);
  }

  /** The one place a task changes state; every change must be a row of the transition table. */
  private setTaskState(task: TaskRecord, to: TaskState, at: number, cause: TransitionCause): void {
    const repo = this.mustRepo(task.repo);
    const from = task.state;
    if (!findTransition(from, to, cause)) throw new Error(`transition ${from} → ${to} (${cause}) of ${task.id} is not in the state machine`);
    if (from === 'ready') this.removeReady(repo, task);
    repo.counts[from] -= 1;
    repo.counts[to] += 1;
    task.state = to;
    task.updated_at = at;
    if (to === 'ready') this.insertReady(repo, task);
    const wasActive = ACTIVE_STATES.includes(from);
    const isActive = ACTIVE_STATES.includes(to);
    if (task.area !== undefined) {
      if (isActive) repo.locks.set(task.area, task.id);
      else if (wasActive && repo.locks.get(task.area) === task.id) repo.locks.delete(task.area);
    }
  }

  private endOffer(task: TaskRecord): void {
    const id = task.current_offer_id;
    if (!id) return;
    const offer = this.offers.get(id);
    this.offers.delete(id);
    delete task.current_offer_id;
    if (offer) {
      const w = this.workers.get(offer.worker_id);
      if (w) {
        w.holding.delete(task.id);
        if (w.openOfferId === id) w.openOfferId = undefined;
      }
    }
  }

  private endLease(task: TaskRecord): void {
    const id = task.current_lease_id;
    if (!id) return;
    const lease = this.leases.get(id);
    this.leases.delete(id);
    delete task.current_lease_id;
    if (lease) this.workers.get(lease.worker_id)?.holding.delete(task.id);
  }

  private insertReady(repo: RepoRuntime, task: TaskRecord): void {
    const list = repo.ready;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareReady(this.tasks.get(list[mid] as string) as TaskRecord, task) < 0) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, task.id);
  }

  private removeReady(repo: RepoRuntime, task: TaskRecord): void {
    const index = repo.ready.indexOf(task.id);
    if (index >= 0) repo.ready.splice(index, 1);
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
    const prTimes: Record<string, number[]> = {};
    const stats: Record<string, Stats> = { '*': structuredClone(this.stats) };
    for (const [id, repo] of this.repos) {
      prTimes[id] = [...repo.prTimes];
      stats[id] = structuredClone(repo.stats);
    }
    return {
      format: 'owp-state/1',
      seq: this.seq,
      counters: { ...this.counters },
      repos: [...this.repos.values()].map((r) => structuredClone(r.settings)),
      tasks: [...this.tasks.values()].map((t) => structuredClone(t)),
      workers: [...this.workers.values()].map((w) => structuredClone(w.record)),
      maintainers: [...this.maintainers.values()].map((m) => structuredClone(m)),
      offers: [...this.offers.values()].map((o) => ({ ...o })),
      leases: [...this.leases.values()].map((l) => ({ ...l })),
      idempotency: [...this.idempotency.values()],
      pr_times: prTimes,
      stats,
      archived: Object.fromEntries(this.archived),
    };
  }

  static fromSnapshot(s: Snapshot): State {
    if (s.format !== 'owp-state/1') throw new Error(`unknown state format ${String(s.format)}`);
    const state = new State();
    state.seq = s.seq;
    state.counters = { ...s.counters };
    for (const settings of s.repos) {
      const repo = new RepoRuntime(settings);
      repo.prTimes = [...(s.pr_times[settings.repo] ?? [])];
      Object.assign(repo.stats, s.stats[settings.repo] ?? emptyStats());
      state.repos.set(settings.repo, repo);
    }
    Object.assign(state.stats, s.stats['*'] ?? emptyStats());
    for (const m of s.maintainers) {
      state.maintainers.set(m.id, m);
      state.tokenIndex.set(m.token_hash, { kind: 'maintainer', id: m.id });
    }
    for (const rec of s.workers) {
      state.workers.set(rec.id, new WorkerRuntime(rec));
      if (!rec.revoked) state.tokenIndex.set(rec.token_hash, { kind: 'worker', id: rec.id });
    }
    for (const task of s.tasks) {
      state.tasks.set(task.id, task);
      state.mustRepo(task.repo).counts[task.state] += 1;
    }
    for (const task of s.tasks) {
      const repo = state.mustRepo(task.repo);
      if (task.state === 'ready') state.insertReady(repo, task);
      if (task.area !== undefined && ACTIVE_STATES.includes(task.state)) repo.locks.set(task.area, task.id);
    }
    for (const offer of s.offers) {
      state.offers.set(offer.offer_id, offer);
      const w = state.mustWorker(offer.worker_id);
      w.holding.set(offer.task_id, state.mustTask(offer.task_id).effort);
      w.openOfferId = offer.offer_id;
    }
    for (const lease of s.leases) {
      state.leases.set(lease.lease_id, lease);
      state.mustWorker(lease.worker_id).holding.set(lease.task_id, state.mustTask(lease.task_id).effort);
    }
    for (const rec of s.idempotency) state.idempotency.set(idemKey(rec.scope, rec.key), rec);
    for (const [id, seq] of Object.entries(s.archived ?? {})) state.archived.set(id, seq);
    return state;
  }

  /** Everything a recovery must reproduce, in a comparable form (used by reliability checks). */
  durableView(): unknown {
    const snap = this.toSnapshot();
    return { ...snap, leases: snap.leases.map(({ expires_at: _e, ...rest }) => rest) };
  }

  liveLeaseCount(repo: RepoRuntime): number {
    return LEASED_STATES.reduce((n, s) => n + repo.counts[s], 0);
  }
}

export function idemKey(scope: string, key: string): string {
  return `${scope}\u0000${key}`;
}

function idNumber(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1)) || 0;
}

export type { GateEvidence };
