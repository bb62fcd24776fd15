/**
 * The fold: what each journal event does to the state, one handler per event type. The handler
 * map is typed over every type in protocol/journal-events.ts, so a new event type does not
 * compile until it has a handler here, and each handler reads its event's data as declared there.
 * Handlers trust the engine's checks (it validated the command before writing the event) but not
 * the journal's references: an unknown task, worker or repo stops the fold with an error.
 */
import { ACTIVE_STATES, findTransition, isTerminal, type TaskState, type TransitionCause } from '../../protocol/states.ts';
import type { JournalEventType } from '../../protocol/journal-events.ts';
import { RepoRuntime, WorkerRuntime, dryRunKey, idNumber, loginKey, type LeaseRecord, type OfferRecord, type Stats, type TaskRecord } from './records.ts';
import type { StoredEventOf } from './stored-event.ts';
import type { State } from './state.ts';
import { cloneJson } from './clone-json.ts';

const LEAD_TIME_SAMPLES = 1000;
const HOUR_MS = 3_600_000;

export type FoldHandlers = { [K in JournalEventType]: (state: State, e: StoredEventOf<K>) => void };

export const FOLD: FoldHandlers = {
  'repo.configured': (state, e) => {
    const settings = e.data.settings;
    const existing = state.repos.get(settings.repo);
    if (existing) existing.settings = settings;
    else state.repos.set(settings.repo, new RepoRuntime(settings));
  },
  'maintainer.created': (state, { data: m }) => {
    // The same id again means its token was rotated: the old token stops working.
    const previous = state.maintainers.get(m.id);
    if (previous) state.tokenIndex.delete(previous.token_hash);
    state.maintainers.set(m.id, { id: m.id, name: m.name, repos: [...m.repos], token_hash: m.token_hash, ...(m.bootstrap ? { bootstrap: true } : {}) });
    state.tokenIndex.set(m.token_hash, { kind: 'maintainer', id: m.id });
    state.counters.maintainer = Math.max(state.counters.maintainer, idNumber(m.id));
  },
  'maintainer.revoked': (state, e) => {
    const m = state.maintainers.get(e.data.id);
    if (!m) throw new Error(`journal revokes unknown maintainer ${e.data.id}`);
    m.revoked = true;
    state.tokenIndex.delete(m.token_hash);
  },
  'worker.registered': (state, e) => {
    const rec = cloneJson(e.data.worker);
    state.addWorker(new WorkerRuntime(rec));
    state.tokenIndex.set(rec.token_hash, { kind: 'worker', id: rec.id });
    state.counters.worker = Math.max(state.counters.worker, idNumber(rec.id));
  },
  'worker.token_rotated': (state, e) => {
    const w = state.mustWorker(e.worker_id);
    state.tokenIndex.delete(w.record.token_hash);
    w.record.token_hash = e.data.token_hash;
    state.tokenIndex.set(w.record.token_hash, { kind: 'worker', id: w.record.id });
  },
  'worker.updated': (state, e) => {
    Object.assign(state.mustWorker(e.worker_id).record, cloneJson(e.data.changes));
  },
  'worker.trust_changed': (state, e) => {
    state.mustWorker(e.worker_id).record.trust = e.data.trust;
  },
  'worker.revoked': (state, e) => {
    const w = state.mustWorker(e.worker_id);
    w.record.revoked = true;
    state.tokenIndex.delete(w.record.token_hash);
  },
  'worker.connected': (state, e) => {
    const w = state.mustWorker(e.worker_id);
    state.setOnline(w, true);
    w.lastSeenAt = e.at;
  },
  'worker.disconnected': (state, e) => {
    const w = state.mustWorker(e.worker_id);
    state.setOnline(w, false);
    w.lastSeenAt = e.at;
  },
  'worker.heartbeat_lost': () => undefined,
  'coordinator.started': () => undefined,
  'task.created': (state, e) => {
    const task: TaskRecord = cloneJson(e.data.task);
    state.counters.task = Math.max(state.counters.task, idNumber(task.id));
    state.tasks.set(task.id, task);
    const repo = state.mustRepo(task.repo);
    repo.counts[task.state] += 1;
    if (task.state === 'ready') repo.insertReady(task);
    if (isTerminal(task.state)) state.finished.add(task);
  },
  'task.updated': (state, e) => {
    const task = state.mustTask(e.task_id);
    const repo = state.mustRepo(task.repo);
    const wasReady = task.state === 'ready';
    if (wasReady) repo.removeReady(task.id);
    Object.assign(task, cloneJson(e.data.changes));
    task.updated_at = e.at;
    if (wasReady) repo.insertReady(task);
  },
  'offer.created': (state, e) => {
    const task = state.mustTask(e.task_id);
    const offer: OfferRecord = { offer_id: e.data.offer_id, task_id: task.id, worker_id: e.worker_id, repo: task.repo, created_at: e.at, deadline_at: e.data.deadline_at };
    state.counters.offer = Math.max(state.counters.offer, idNumber(offer.offer_id));
    state.offers.set(offer.offer_id, offer);
    task.current_offer_id = offer.offer_id;
    const worker = state.mustWorker(offer.worker_id);
    worker.holding.set(task.id, task.effort);
    worker.openOffers.add(offer.offer_id);
    worker.lastOfferAt = e.at;
    setTaskState(state, task, 'offered', e.at, 'offer');
  },
  'offer.declined': (state, e) => {
    const task = state.mustTask(e.task_id);
    endOffer(state, task);
    task.attempts = e.data.attempts;
    returnTask(state, task, e.data.to, e.data.blocked_reason, e.at, 'decline');
  },
  'offer.expired': (state, e) => {
    const task = state.mustTask(e.task_id);
    endOffer(state, task);
    setTaskState(state, task, e.data.to, e.at, 'offer_expired');
  },
  'offer.withdrawn': (state, e) => {
    const task = state.mustTask(e.task_id);
    endOffer(state, task);
    setTaskState(state, task, e.data.to, e.at, 'offer_withdrawn');
  },
  'lease.granted': (state, e) => {
    const task = state.mustTask(e.task_id);
    delete task.retry_after_expiry;
    const via: TransitionCause = e.data.via === 'direct' ? 'direct' : task.state === 'offered' ? 'accept' : 'claim';
    endOffer(state, task);
    const lease: LeaseRecord = {
      lease_id: e.data.lease_id,
      task_id: task.id,
      worker_id: e.worker_id,
      repo: task.repo,
      epoch: e.data.epoch,
      granted_at: e.at,
      expires_at: e.data.expires_at,
      max_deadline_at: e.data.max_deadline_at,
    };
    state.counters.lease = Math.max(state.counters.lease, idNumber(lease.lease_id));
    state.leases.set(lease.lease_id, lease);
    task.current_lease_id = lease.lease_id;
    task.epoch = lease.epoch;
    const worker = state.mustWorker(lease.worker_id);
    worker.holding.set(task.id, task.effort);
    // A direct grant stands for an offer: the worker goes to the back of who is offered next.
    if (via === 'direct') worker.lastOfferAt = e.at;
    setTaskState(state, task, 'leased', e.at, via);
    bump(state, task.repo, (s) => (s.leases_granted += 1));
  },
  'task.started': (state, e) => {
    setTaskState(state, state.mustTask(e.task_id), 'in_progress', e.at, 'start');
  },
  'pr.opened': (state, e) => {
    const task = state.mustTask(e.task_id);
    endLease(state, task);
    task.pr = cloneJson(e.data.pr);
    task.pr_worker_id = e.worker_id;
    task.pr_counted_at = e.at;
    punctual(state, e.worker_id, 'on_time');
    setTaskState(state, task, 'pr_opened', e.at, 'pr_opened');
    // The hourly window only ever needs the last hour; pruning here (not on reads) keeps replays exact.
    const repo = state.mustRepo(task.repo);
    const stale = repo.prsUpTo(e.at - HOUR_MS);
    if (stale > 0) repo.prTimes.splice(0, stale);
    repo.prTimes.push(e.at);
    const lead = e.at - task.created_at;
    bump(state, task.repo, (s) => {
      s.prs_opened += 1;
      s.lead_times_ms.push(lead);
      if (s.lead_times_ms.length > LEAD_TIME_SAMPLES) s.lead_times_ms.shift();
    });
  },
  'pr.attached': (state, e) => {
    const task = state.mustTask(e.task_id);
    const lease = mustLease(state, e.data.lease_id);
    task.pr = cloneJson(e.data.pr);
    task.checks = cloneJson(e.data.checks);
    task.updated_at = e.at;
    waitForChecks(lease, e.data.checks.deadline_at);
  },
  'pr.checks_updated': (state, e) => {
    const task = state.mustTask(e.task_id);
    task.checks = cloneJson(e.data.checks);
    task.updated_at = e.at;
    if (e.data.restarted) waitForChecks(mustLease(state, e.data.lease_id), e.data.checks.deadline_at);
  },
  'pr.checks_timed_out': (state, e) => {
    const task = state.mustTask(e.task_id);
    const lease = mustLease(state, e.data.lease_id);
    delete lease.checks_deadline_at;
    lease.expires_at = e.data.expires_at;
    lease.max_deadline_at = e.data.max_deadline_at;
    // Replaced, not changed in place: answers already given (idempotency records) share the old object.
    if (task.checks) task.checks = { ...task.checks, timed_out_at: e.at };
    task.updated_at = e.at;
  },
  'lease.released': (state, e) => endLeaseAndReturn(state, e, 'release'),
  'lease.expired': (state, e) => {
    punctual(state, e.worker_id, 'late');
    endLeaseAndReturn(state, e, 'lease_expired');
    // Its retry goes first to a worker with a good on-time record (the scheduler reads this).
    if (e.data.to === 'ready') state.mustTask(e.task_id).retry_after_expiry = true;
  },
  'lease.cancelled': (state, e) => endLeaseAndReturn(state, e, 'lease_cancelled'),
  'task.blocked': (state, e) => {
    const task = state.mustTask(e.task_id);
    endOffer(state, task);
    endLease(state, task);
    detachPr(task);
    task.blocked_reason = e.data.reason;
    setTaskState(state, task, 'blocked', e.at, e.data.by === 'worker' ? 'worker_blocked' : 'maintainer_blocked');
  },
  'task.unblocked': (state, e) => {
    const task = state.mustTask(e.task_id);
    delete task.blocked_reason;
    task.attempts = 0;
    setTaskState(state, task, 'ready', e.at, 'unblock');
  },
  'task.merged': (state, e) => finish(state, e, 'merged'),
  'task.closed': (state, e) => finish(state, e, 'closed'),
  'contributor.standing_set': (state, e) => {
    const { login, status, reason, by } = e.data;
    state.mustRepo(e.repo).standings.set(loginKey(login), { login, status, by, at: e.at, ...(reason !== undefined ? { reason } : {}) });
  },
  'budget.adapted': (state, e) => {
    // The adaptive budget is the repo's max_open_prs itself, so every reader of the budget follows it.
    const repo = state.mustRepo(e.repo);
    repo.settings = { ...repo.settings, max_open_prs: e.data.to };
  },
  'policy.dry_run_hit': (state, e) => {
    const task = state.mustTask(e.task_id);
    (task.dry_run_seen ??= []).push(dryRunKey(e.worker_id, e.data.rule));
    bump(state, task.repo, (s) => (s.dry_run_hits[e.data.rule] = (s.dry_run_hits[e.data.rule] ?? 0) + 1));
  },
  'task.archived': (state, e) => {
    // Finished tasks leave the live state; the store keeps them in its archive.
    const task = state.mustTask(e.task_id);
    state.mustRepo(task.repo).counts[task.state] -= 1;
    state.tasks.delete(task.id);
    state.finished.delete(task);
    state.archived.set(task.id, e.seq);
  },
};

// ---- what several handlers share ---------------------------------------------------------------

function bump(state: State, repo: string, fn: (s: Stats) => void): void {
  fn(state.stats);
  const r = state.repos.get(repo);
  if (r) fn(r.stats);
}

/** The one place a task changes state; every change must be a row of the transition table. */
function setTaskState(state: State, task: TaskRecord, to: TaskState, at: number, cause: TransitionCause): void {
  const repo = state.mustRepo(task.repo);
  const from = task.state;
  if (!findTransition(from, to, cause)) throw new Error(`transition ${from} → ${to} (${cause}) of ${task.id} is not in the state machine`);
  if (from === 'ready') repo.removeReady(task.id);
  if (from === 'pr_opened' || to === 'pr_opened') trackOpenPr(state, repo, task, to === 'pr_opened');
  repo.counts[from] -= 1;
  repo.counts[to] += 1;
  task.state = to;
  task.updated_at = at;
  if (isTerminal(to)) state.finished.add(task);
  else if (isTerminal(from)) state.finished.delete(task);
  if (to === 'ready') repo.insertReady(task);
  if (isTerminal(to)) state.finished.add(task);
  else if (isTerminal(from)) state.finished.delete(task);
  const wasActive = ACTIVE_STATES.includes(from);
  const isActive = ACTIVE_STATES.includes(to);
  if (task.area !== undefined) {
    if (isActive) repo.locks.set(task.area, task.id);
    else if (wasActive && repo.locks.get(task.area) === task.id) repo.locks.delete(task.area);
  }
}

/** A declined offer or an ended lease sends the task back to ready, or to blocked once its attempts are used up. */
function returnTask(state: State, task: TaskRecord, to: 'ready' | 'blocked', blockedReason: string | undefined, at: number, cause: TransitionCause): void {
  setTaskState(state, task, to, at, to === 'blocked' ? 'max_attempts' : cause);
  if (to === 'blocked') task.blocked_reason = blockedReason ?? 'too many attempts';
}

function punctual(state: State, workerId: string, kind: 'on_time' | 'late'): void {
  const p = state.punctuality.get(workerId) ?? { on_time: 0, late: 0 };
  p[kind] += 1;
  state.punctuality.set(workerId, p);
}

function endLeaseAndReturn(state: State, e: StoredEventOf<'lease.released' | 'lease.expired' | 'lease.cancelled'>, cause: TransitionCause): void {
  const task = state.mustTask(e.task_id);
  endLease(state, task);
  detachPr(task);
  task.attempts = e.data.attempts;
  returnTask(state, task, e.data.to, e.data.blocked_reason, e.at, cause);
  bump(state, task.repo, (s) => (s.requeues += 1));
}

/** A task reaching merged or closed gives up any offer or lease, keeps the reason, and counts its PR's outcome. */
function finish(state: State, e: StoredEventOf<'task.merged' | 'task.closed'>, to: 'merged' | 'closed'): void {
  const task = state.mustTask(e.task_id);
  const wasPr = task.state === 'pr_opened';
  endOffer(state, task);
  endLease(state, task);
  if (e.data.reason !== undefined) task.closed_reason = e.data.reason;
  setTaskState(state, task, to, e.at, to);
  if (wasPr) bump(state, task.repo, (s) => (to === 'merged' ? (s.prs_merged += 1) : (s.prs_closed += 1)));
  const author = wasPr && to === 'merged' && task.pr_worker_id ? state.workers.get(task.pr_worker_id) : undefined;
  if (author) {
    const repo = state.mustRepo(task.repo);
    const key = loginKey(author.record.github_login);
    repo.mergedBy.set(key, (repo.mergedBy.get(key) ?? 0) + 1);
  }
}

/** Keeps the repo's index of open PRs by contributor (per-contributor caps count them). */
export function trackOpenPr(state: State, repo: RepoRuntime, task: TaskRecord, open: boolean): void {
  const author = task.pr_worker_id ? state.workers.get(task.pr_worker_id) : undefined;
  if (!author) return;
  const key = loginKey(author.record.github_login);
  let ids = repo.openPrsBy.get(key);
  if (open) {
    if (!ids) repo.openPrsBy.set(key, (ids = new Set()));
    ids.add(task.id);
  } else if (ids) {
    ids.delete(task.id);
    if (ids.size === 0) repo.openPrsBy.delete(key);
  }
}

function mustLease(state: State, id: string): LeaseRecord {
  const lease = state.leases.get(id);
  if (!lease) throw new Error(`journal refers to unknown lease ${id}`);
  return lease;
}

/** The lease waits for its PR's checks: no heartbeat needed until the deadline. */
function waitForChecks(lease: LeaseRecord, deadlineAt: number): void {
  lease.checks_deadline_at = deadlineAt;
  lease.expires_at = deadlineAt;
}

/** A task going back to the queue forgets the PR its last holder attached (the journal keeps it). */
function detachPr(task: TaskRecord): void {
  delete task.pr;
  delete task.checks;
}

function endOffer(state: State, task: TaskRecord): void {
  const id = task.current_offer_id;
  if (!id) return;
  const offer = state.offers.get(id);
  state.offers.delete(id);
  delete task.current_offer_id;
  if (offer) {
    const w = state.workers.get(offer.worker_id);
    if (w) {
      w.holding.delete(task.id);
      w.openOffers.delete(id);
    }
  }
}

function endLease(state: State, task: TaskRecord): void {
  const id = task.current_lease_id;
  if (!id) return;
  const lease = state.leases.get(id);
  state.leases.delete(id);
  delete task.current_lease_id;
  if (lease) state.workers.get(lease.worker_id)?.holding.delete(task.id);
}
