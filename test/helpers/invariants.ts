/**
 * The invariants OWP promises (README "Guarantees"), checked from a state and its journal. Used by
 * the property-based scheduler tests and the crash loops.
 */
import { ACTIVE_STATES, LEASED_STATES } from '../../protocol/states.ts';
import { State } from '../../coordinator/state/state.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import type { RepoSettings } from '../../protocol/model.ts';

export interface Violation {
  invariant: string;
  message: string;
}

/** How often the budget invariants were evaluated, and how often they were binding (the repo at its limit). */
export interface BudgetChecks {
  open_prs_checks: number;
  open_prs_at_limit: number;
  hourly_checks: number;
  hourly_at_limit: number;
}

export function budgetChecks(): BudgetChecks {
  return { open_prs_checks: 0, open_prs_at_limit: 0, hourly_checks: 0, hourly_at_limit: 0 };
}

const HOUR_MS = 3_600_000;

/** Invariants 2, 3, 5 and 8, replaying the journal event by event. */
export function checkJournal(journal: readonly StoredEvent[], live?: State, budget?: BudgetChecks): Violation[] {
  const out: Violation[] = [];
  const replay = new State();
  let expectedSeq = journal[0]?.seq ?? 1;
  if (expectedSeq !== 1) out.push({ invariant: 'journal-gapless', message: `journal starts at ${expectedSeq}` });
  for (const e of journal) {
    if (e.seq !== expectedSeq) {
      out.push({ invariant: 'journal-gapless', message: `expected seq ${expectedSeq}, got ${e.seq}` });
      return out;
    }
    expectedSeq += 1;
    try {
      replay.apply(e);
    } catch (error) {
      out.push({ invariant: 'journal-replays', message: `seq ${e.seq} (${e.type}): ${(error as Error).message}` });
      return out;
    }
    out.push(...checkState(replay, `after seq ${e.seq} (${e.type})`, e, budget));
    if (out.length > 0) return out;
  }
  if (live) {
    const a = JSON.stringify(replay.durableView());
    const b = JSON.stringify(live.durableView());
    if (a !== b) out.push({ invariant: 'state-equals-replay', message: `the live state differs from the journal replayed at ${firstDifference(replay.durableView(), live.durableView())}` });
    out.push(...checkKeptKeys(replay, live));
  }
  return out;
}

/**
 * durableView leaves the idempotency records out (a store may keep those a snapshot covers beside
 * it, so memory holds only the keys since); every record the live state does hold must still be
 * the one the journal made: same operation, payload hash, time and carrying event.
 */
function checkKeptKeys(replay: State, live: State): Violation[] {
  const out: Violation[] = [];
  for (const rec of live.idempotency.values()) {
    const want = replay.idempotency.get(rec.scope, rec.key);
    const same = want !== undefined && want.op === rec.op && want.hash === rec.hash && want.at === rec.at && (rec.seq === undefined || want.seq === rec.seq);
    if (!same) out.push({ invariant: 'state-equals-replay', message: `idempotency key ${rec.scope}/${rec.key} in memory is not the journal's record (${want ? `${want.op} at seq ${want.seq}` : 'none'})` });
  }
  return out;
}

/** The attempts each task had when a state was last checked (see STATE-002 below). */
const attemptsSeen = new WeakMap<State, Map<string, number>>();

/** Invariants that hold in every state: one lease per task, one active task per area, budget, attempts. */
export function checkState(state: State, where: string, cause?: StoredEvent, budget?: BudgetChecks): Violation[] {
  const out: Violation[] = [];
  const leasesByTask = new Map<string, number>();
  for (const lease of state.leases.values()) leasesByTask.set(lease.task_id, (leasesByTask.get(lease.task_id) ?? 0) + 1);
  for (const [task, n] of leasesByTask) if (n > 1) out.push({ invariant: 'one-lease-per-task', message: `${task} has ${n} live leases ${where}` });
  const areas = new Map<string, string>();
  for (const task of state.tasks.values()) {
    if (LEASED_STATES.includes(task.state) && !task.current_lease_id) out.push({ invariant: 'one-lease-per-task', message: `${task.id} is ${task.state} without a lease ${where}` });
    if (!ACTIVE_STATES.includes(task.state) || task.area === undefined) continue;
    const key = `${task.repo}\u0000${task.area}`;
    const other = areas.get(key);
    if (other) out.push({ invariant: 'one-task-per-area', message: `${task.id} and ${other} both hold ${task.repo} area ${task.area} ${where}` });
    areas.set(key, task.id);
  }
  out.push(...checkWorkerLoad(state, where, cause));
  for (const repo of state.repos.values()) {
    const s: RepoSettings = repo.settings;
    const inFlight = repo.counts.leased + repo.counts.in_progress + repo.counts.offered;
    const reserved = repo.counts.pr_opened + inFlight;
    // The adaptive budget (policy budget.adaptive) moves max_open_prs, never out of its bounds.
    const adaptive = s.policy?.budget?.adaptive;
    if (adaptive && (s.max_open_prs < adaptive.floor || s.max_open_prs > adaptive.ceiling)) {
      out.push({ invariant: 'adaptive-budget', message: `${s.repo} max_open_prs ${s.max_open_prs} is outside its adaptive floor ${adaptive.floor} and ceiling ${adaptive.ceiling} ${where}` });
    }
    // The budget may be lowered below what is already in flight; what must never happen is growth past it.
    const grew = cause && (cause.type === 'offer.created' || (cause.type === 'lease.granted' && cause.data.via !== 'offer')) && cause.repo === s.repo;
    if (!grew) continue;
    if (budget) {
      budget.open_prs_checks += 1;
      if (reserved === s.max_open_prs) budget.open_prs_at_limit += 1;
    }
    // A limit the repo policy puts in report mode lets growth past it through on purpose (and journals it).
    if (reserved > s.max_open_prs && s.policy?.modes?.max_open_prs !== 'report') out.push({ invariant: 'budget', message: `${s.repo} holds ${reserved} > max_open_prs ${s.max_open_prs} ${where}` });
    // The hourly limit counts PRs opened in the hour before the change plus live leases and open offers.
    const prsLastHour = repo.prTimes.filter((t) => t > cause.at - HOUR_MS).length;
    const hourly = prsLastHour + inFlight;
    if (budget) {
      budget.hourly_checks += 1;
      if (hourly === s.max_new_prs_per_hour) budget.hourly_at_limit += 1;
    }
    if (hourly > s.max_new_prs_per_hour && s.policy?.modes?.max_new_prs_per_hour !== 'report') {
      out.push({ invariant: 'hourly-budget', message: `${s.repo} holds ${hourly} (${prsLastHour} PRs this hour + ${inFlight} leases and offers) > max_new_prs_per_hour ${s.max_new_prs_per_hour} ${where}` });
    }
  }
  // STATE-002 applies when an attempt is counted, under the max_attempts in force then: a limit lowered
  // later (repo.configure) blocks at the task's next counted attempt, so only tasks whose attempts just
  // changed (or that this state shows for the first time) are checked.
  const seen = attemptsSeen.get(state) ?? new Map<string, number>();
  attemptsSeen.set(state, seen);
  for (const task of state.tasks.values()) {
    const counted = seen.get(task.id) !== task.attempts;
    seen.set(task.id, task.attempts);
    if (!counted) continue;
    const max = state.repos.get(task.repo)?.settings.max_attempts ?? Infinity;
    if (task.attempts >= max && !['blocked', 'merged', 'closed'].includes(task.state)) {
      out.push({ invariant: 'blocked-after-max-attempts', message: `${task.id} has ${task.attempts} attempts (max ${max}) but is ${task.state} ${where}` });
    }
  }
  return out;
}

/**
 * Capacity and the offer window count every open offer (SPEC OFFER-001, OFFER-009): after an offer
 * or a claim, the worker it went to holds no more open offers than its window (one unless its
 * profile declared `max_open_offers`), and the efforts of its open offers and live leases together
 * fit its capacity. Counted from the offer and lease records, not from the engine's own index.
 * (Capacity may be lowered below what is held; what must never happen is growth past it.)
 */
function checkWorkerLoad(state: State, where: string, cause?: StoredEvent): Violation[] {
  const grew = cause && (cause.type === 'offer.created' || (cause.type === 'lease.granted' && cause.data.via !== 'offer'));
  const w = grew && cause.worker_id ? state.workers.get(cause.worker_id) : undefined;
  if (!w) return [];
  const out: Violation[] = [];
  let offers = 0;
  let used = 0;
  let untouched = 0;
  for (const offer of state.offers.values()) {
    if (offer.worker_id !== w.record.id) continue;
    offers += 1;
    used += state.tasks.get(offer.task_id)?.effort ?? 0;
  }
  for (const lease of state.leases.values()) {
    if (lease.worker_id !== w.record.id) continue;
    const task = state.tasks.get(lease.task_id);
    used += task?.effort ?? 0;
    if (task?.state === 'leased' && task.pr === undefined) untouched += 1;
  }
  const window = w.record.max_open_offers ?? 1;
  if (offers > window) out.push({ invariant: 'offer-window', message: `${w.record.id} holds ${offers} open offers > its window ${window} ${where}` });
  // Direct leases (OFFER-011): granted only to an online worker that declared accept_offers "auto",
  // and its window bounds what it was handed and has not worked on yet (open offers and untouched leases).
  if (cause?.type === 'lease.granted' && cause.data.via === 'direct') {
    if (w.record.accept_offers !== 'auto') out.push({ invariant: 'direct-lease', message: `${w.record.id} was granted ${cause.data.lease_id} directly without accept_offers "auto" ${where}` });
    if (!w.online) out.push({ invariant: 'direct-lease', message: `${w.record.id} was granted ${cause.data.lease_id} directly while offline ${where}` });
    if (offers + untouched > window) out.push({ invariant: 'offer-window', message: `${w.record.id} holds ${offers} open offers and ${untouched} untouched leases > its window ${window} ${where}` });
  }
  if (used > w.record.capacity) out.push({ invariant: 'capacity', message: `${w.record.id} holds ${used} capacity points in offers and leases > its capacity ${w.record.capacity} ${where}` });
  return out;
}

/** Invariant 4: after a sweep at `now`, no lease or offer is past its deadline. */
export function checkDeadlines(state: State, now: number): Violation[] {
  const out: Violation[] = [];
  for (const lease of state.leases.values()) if (lease.expires_at <= now) out.push({ invariant: 'lease-deadline', message: `${lease.lease_id} expired at ${lease.expires_at}, now ${now}` });
  for (const offer of state.offers.values()) if (offer.deadline_at <= now) out.push({ invariant: 'offer-deadline', message: `${offer.offer_id} deadline ${offer.deadline_at}, now ${now}` });
  return out;
}

/** The path of the first difference between two JSON values, with both sides, for failure messages. */
export function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`);
      if (d) return d;
    }
  }
  return `${path || '/'}: replay ${JSON.stringify(a)?.slice(0, 200)} vs recovered ${JSON.stringify(b)?.slice(0, 200)}`;
}
