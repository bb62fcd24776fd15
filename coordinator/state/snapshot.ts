/**
 * Snapshots: the whole state as one JSON document, so recovery replays only the journal after it.
 * Runtime indexes (counts, locks, the ready queue, what workers hold) are not stored; they are
 * rebuilt from the records when a snapshot is restored.
 */
import type { KeptIdempotency } from './idempotency-keys.ts';
import { ACTIVE_STATES, isTerminal } from '../../protocol/states.ts';
import type { ContributorStanding, RepoSettings } from '../../protocol/model.ts';
import {
  RepoRuntime, WorkerRuntime, emptyStats, loginKey, type Counters, type IdempotencyRecord, type LeaseRecord, type MaintainerRecord,
  type OfferRecord, type Stats, type TaskRecord, type WorkerRecord,
} from './records.ts';
import type { State } from './state.ts';
import { trackOpenPr } from './fold.ts';

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
  /** Kept keys with their answers as JSON text; snapshots written before that hold the answers as objects. */
  idempotency: Array<KeptIdempotency | IdempotencyRecord>;
  pr_times: Record<string, number[]>;
  stats: Record<string, Stats>;
  archived?: Record<string, number>;
  /** Repo → contributor (login key) → PRs of theirs merged there. */
  merged_by?: Record<string, Record<string, number>>;
  /** Repo → the contributors its maintainers vouched for or denounced. */
  standings?: Record<string, ContributorStanding[]>;
  /** Worker id → leases that ended in a PR and leases that expired. */
  punctuality?: Record<string, { on_time: number; late: number }>;
}

/** The parts of a snapshot other than the record lists, copied now: small, and changed in place by the fold. */
export type SnapshotHead = Omit<Snapshot, 'tasks' | 'workers' | 'offers' | 'leases' | 'idempotency' | 'archived'>;

export function snapshotHead(state: State, withPunctuality = true): SnapshotHead {
  const prTimes: Record<string, number[]> = {};
  const stats: Record<string, Stats> = { '*': structuredClone(state.stats) };
  const mergedBy: Record<string, Record<string, number>> = {};
  const standings: Record<string, ContributorStanding[]> = {};
  for (const [id, repo] of state.repos) {
    prTimes[id] = [...repo.prTimes];
    stats[id] = structuredClone(repo.stats);
    if (repo.mergedBy.size > 0) mergedBy[id] = Object.fromEntries(repo.mergedBy);
    if (repo.standings.size > 0) standings[id] = [...repo.standings.values()].map((s) => ({ ...s }));
  }
  return {
    format: 'owp-state/1',
    seq: state.seq,
    counters: { ...state.counters },
    repos: [...state.repos.values()].map((r) => structuredClone(r.settings)),
    maintainers: [...state.maintainers.values()].map((m) => structuredClone(m)),
    pr_times: prTimes,
    stats,
    ...(withPunctuality && state.punctuality.size > 0 ? { punctuality: Object.fromEntries([...state.punctuality].map(([id, p]) => [id, { ...p }])) } : {}),
    merged_by: mergedBy,
    standings,
  };
}

/**
 * The whole state as one object, copied now (tests and tools; the runtime writes its snapshots
 * through SnapshotCapture, snapshot-capture.ts, which does not stop the event loop for this).
 */
export function snapshotOf(state: State): Snapshot {
  return {
    ...snapshotHead(state),
    tasks: [...state.tasks.values()].map((t) => structuredClone(t)),
    workers: [...state.workers.values()].map((w) => structuredClone(w.record)),
    offers: [...state.offers.values()].map((o) => ({ ...o })),
    leases: [...state.leases.values()].map((l) => ({ ...l })),
    idempotency: [...state.idempotency.values()].map(compactRecord),
    archived: Object.fromEntries(state.archived),
  };
}

/**
 * A key's record as a snapshot keeps it: without its answer when the journal has the answer (the
 * record rides on event `seq`). The answers were most of a snapshot after a busy hour (a task view
 * per accept, report and merge, kept 24 h): 35 of 37 MB after 20,000 tasks' lives, so every
 * restart parsed them and every snapshot wrote them, though a replay needs one, rarely.
 */
export function compactRecord(rec: KeptIdempotency): KeptIdempotency {
  if (rec.seq === undefined) return rec;
  const { answer: _answer, ...rest } = rec;
  return rest;
}

/** Fills an empty state from a snapshot and rebuilds its indexes. */
export function restoreSnapshot(state: State, s: Snapshot): void {
  if (s.format !== 'owp-state/1') throw new Error(`unknown state format ${String(s.format)}`);
  state.seq = s.seq;
  state.counters = { ...s.counters };
  for (const settings of s.repos) {
    const repo = new RepoRuntime(settings);
    repo.prTimes = [...(s.pr_times[settings.repo] ?? [])];
    Object.assign(repo.stats, s.stats[settings.repo] ?? emptyStats());
    for (const [key, n] of Object.entries(s.merged_by?.[settings.repo] ?? {})) repo.mergedBy.set(key, n);
    for (const standing of s.standings?.[settings.repo] ?? []) repo.standings.set(loginKey(standing.login), { ...standing });
    state.repos.set(settings.repo, repo);
  }
  Object.assign(state.stats, s.stats['*'] ?? emptyStats());
  for (const m of s.maintainers) {
    state.maintainers.set(m.id, m);
    if (!m.revoked) state.tokenIndex.set(m.token_hash, { kind: 'maintainer', id: m.id });
  }
  for (const rec of s.workers) {
    state.addWorker(new WorkerRuntime(rec));
    if (!rec.revoked) state.tokenIndex.set(rec.token_hash, { kind: 'worker', id: rec.id });
  }
  for (const task of s.tasks) {
    state.tasks.set(task.id, task);
    state.mustRepo(task.repo).counts[task.state] += 1;
    if (isTerminal(task.state)) state.finished.add(task);
  }
  for (const task of s.tasks) {
    const repo = state.mustRepo(task.repo);
    if (task.state === 'ready') repo.insertReady(task);
    if (task.area !== undefined && ACTIVE_STATES.includes(task.state)) repo.locks.set(task.area, task.id);
    if (task.state === 'pr_opened') trackOpenPr(state, repo, task, true);
    if (isTerminal(task.state)) state.finished.add(task);
  }
  for (const offer of s.offers) {
    state.offers.set(offer.offer_id, offer);
    const w = state.mustWorker(offer.worker_id);
    w.holding.set(offer.task_id, state.mustTask(offer.task_id).effort);
    w.openOffers.add(offer.offer_id);
  }
  for (const lease of s.leases) {
    state.leases.set(lease.lease_id, lease);
    state.mustWorker(lease.worker_id).holding.set(lease.task_id, state.mustTask(lease.task_id).effort);
  }
  state.idempotency.restore(s.idempotency);
  for (const [id, seq] of Object.entries(s.archived ?? {})) state.archived.set(id, seq);
  for (const [id, p] of Object.entries(s.punctuality ?? {})) state.punctuality.set(id, { ...p });
}
