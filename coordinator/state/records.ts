/**
 * What the coordinator's state is made of: the records it keeps for tasks, workers, maintainers,
 * offers, leases and idempotency keys, and the per-repo and per-worker runtime indexes the
 * scheduler reads (counts by state, area locks, the ready queue, what each worker holds).
 */
import { TASK_STATES, type TaskState } from '../../protocol/states.ts';
import { ReadyIndex } from './ready-queue.ts';
import type { ContributorStanding, Lease, Offer, RepoSettings, Task, Worker } from '../../protocol/model.ts';

export interface IdempotencyRecord {
  scope: string;
  key: string;
  op: string;
  hash: string;
  /**
   * The first answer. Absent on a record restored from a snapshot: snapshots keep only `seq`, the
   * event that carries the whole record, and the runtime reads the answer back from the journal
   * when the key is replayed (Runtime.call), so a snapshot stays the size of the live state.
   */
  result?: unknown;
  at: number;
  /** Seq of the event the record rides on (records journaled before it was kept have none). */
  seq?: number;
}

export type TaskRecord = Omit<Task, 'lease' | 'offer'> & {
  current_lease_id?: string;
  current_offer_id?: string;
  /** The worker whose lease opened the task's PR (kept while the task lives: per-contributor caps count by it). */
  pr_worker_id?: string;
  /** When the PR counted (pr.opened): the adaptive budget measures review time from here, not from a time the worker reported. */
  pr_counted_at?: number;
  /** Ready again because its last lease expired: offered first to workers with a good on-time record. */
  retry_after_expiry?: boolean;
  /** `worker_id rule` pairs a rule in report mode already recorded for this task: each is journaled once. */
  dry_run_seen?: string[];
};

/** How the per-contributor indexes name a contributor: GitHub logins are case-insensitive. */
export function loginKey(login: string): string {
  return login.toLowerCase();
}

export type WorkerRecord = Omit<Worker, 'online' | 'capacity_used'> & { token_hash: string };

export interface MaintainerRecord {
  id: string;
  name: string;
  repos: string[];
  token_hash: string;
  /** Made from the operator's token at start; a new operator token rotates this one. */
  bootstrap?: boolean;
  revoked?: boolean;
}

/** The admin made from the operator's token; journals from before the `bootstrap` flag name it "admin", scoped to `*`. */
export function isBootstrapAdmin(m: MaintainerRecord): boolean {
  return m.bootstrap === true || (m.name === 'admin' && m.repos.length === 1 && m.repos[0] === '*');
}

export type OfferRecord = Omit<Offer, 'task'>;
/** A lease as kept; its view adds the heartbeat interval and the attached PR with its checks (from the task). */
export type LeaseRecord = Omit<Lease, 'heartbeat_interval_ms' | 'pr' | 'checks'>;

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
  /** Rule id → offers and claims a rule in report mode would have refused (policy.dry_run_hit). */
  dry_run_hits: Record<string, number>;
}

export function emptyStats(): Stats {
  return { leases_granted: 0, requeues: 0, prs_opened: 0, prs_merged: 0, prs_closed: 0, lead_times_ms: [], dry_run_hits: {} };
}

/** The key of one dry-run hit within its task. */
export function dryRunKey(workerId: string, rule: string): string {
  return `${workerId} ${rule}`;
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
    required_checks: [],
    checks_timeout_ms: 2 * 3_600_000,
  };
}

/** What a repo needs at hand for scheduling: its counts by state, area locks, ready queue, PR times. */
export class RepoRuntime {
  readonly counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  readonly locks = new Map<string, string>();
  /** Ready tasks by kind (scheduling signature), each kind ordered by priority, then age, then id. */
  readonly ready = new ReadyIndex();
  /** Times of PRs opened within the last hour (pruned lazily), oldest first: appended as PRs open. */
  prTimes: number[] = [];
  readonly stats = emptyStats();
  /** Contributor (login key) → ids of their tasks with an open PR here. Rebuilt from the tasks on restore. */
  readonly openPrsBy = new Map<string, Set<string>>();
  /** Contributor (login key) → PRs of theirs merged here, ever (survives archiving: kept in snapshots). */
  readonly mergedBy = new Map<string, number>();
  /** Contributor (login key) → whether the maintainers vouched for or denounced them here (kept in snapshots). */
  readonly standings = new Map<string, ContributorStanding>();

  constructor(public settings: RepoSettings) {}

  /** How many of prTimes are at or before `at`: the first of them after it, found by bisection (a budget check runs per offer). */
  prsUpTo(at: number): number {
    const times = this.prTimes;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((times[mid] as number) > at) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  insertReady(task: TaskRecord): void {
    this.ready.insert(task);
  }

  removeReady(taskId: string): void {
    this.ready.remove(taskId);
  }
}

/** Per-worker runtime: what it holds (offers and leases, by task id → effort) and its connection. */
export class WorkerRuntime {
  /** Set only through State.setOnline, which keeps State.onlineWorkers in step. */
  online = false;
  /** Registration order (its index in State.workers): the scheduler's tie-break among equals. */
  order = 0;
  sockets = 0;
  lastOfferAt = 0;
  lastSeenAt: number | undefined;
  /** Its open offers, oldest first: at most its offer window (SPEC OFFER-001, OFFER-009). */
  readonly openOffers = new Set<string>();
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

  /** How many open offers it may hold at once: what its profile declared (offer pipelining), else one. */
  get offerWindow(): number {
    return this.record.max_open_offers ?? 1;
  }

  /** Whether it takes every offer (direct leases, SPEC OFFER-011): the scheduler grants it leases instead of offering. */
  get acceptsOffers(): boolean {
    return this.record.accept_offers === 'auto';
  }
}

export function idemKey(scope: string, key: string): string {
  return `${scope}\u0000${key}`;
}

/** The number of a coordinator-assigned id: `T-12` → 12. */
export function idNumber(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1)) || 0;
}
