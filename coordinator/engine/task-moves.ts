/**
 * The moves a task makes that more than one caller needs: offered, leased, an offer withdrawn, a
 * lease ended and the task sent back, closed, a PR's outcome. Each writes its event, tells the
 * worker it concerns (once the event is durable) and marks what the scheduler must look at again.
 * Callers check first: these only write.
 */
import type { Lease, Task } from '../../protocol/model.ts';
import { adaptBudget, type BudgetStep } from '../../protocol/budget.ts';
import { dryRunKey, type LeaseRecord, type OfferRecord, type RepoRuntime, type TaskRecord, type WorkerRuntime } from '../state/records.ts';
import type { Command } from './command.ts';
import type { DryRunHit } from './eligibility.ts';

/** Offers a ready task to a worker until the repo's offer deadline. */
export function makeOffer(cmd: Command, task: TaskRecord, w: WorkerRuntime, repo: RepoRuntime): void {
  const offerId = `O-${cmd.state.counters.offer + 1}`;
  const hits = cmd.eligibility.dryRunHits(task, repo, w, cmd.now);
  cmd.emit({ type: 'offer.created', repo: task.repo, task_id: task.id, worker_id: w.record.id, data: { offer_id: offerId, deadline_at: cmd.now + repo.settings.offer_timeout_ms } });
  recordDryRunHits(cmd, task, w, hits, 'offer');
  const offer = cmd.state.offers.get(offerId);
  if (offer) cmd.notify({ workerId: w.record.id, name: 'offer.created', payload: { offer: cmd.state.offerView(offer) } });
}

/**
 * Leases a ready task to a worker that accepts every offer (direct leases, SPEC OFFER-011), where
 * the scheduler would have offered it: one event instead of offer.created and the accept's
 * lease.granted. The push goes out with the command's notifications, once the grant is durable.
 */
export function grantDirectLease(cmd: Command, task: TaskRecord, w: WorkerRuntime, repo: RepoRuntime): void {
  const granted = grantLease(cmd, task, w, repo, 'direct');
  cmd.notify({ workerId: w.record.id, name: 'lease.granted', payload: granted });
}

/** Leases a task to a worker (an accepted offer, a claim, or a direct grant): a new lease id and the task's next epoch. */
export function grantLease(cmd: Command, task: TaskRecord, w: WorkerRuntime, repo: RepoRuntime, via: 'offer' | 'claim' | 'direct', offerId?: string): { lease: Lease; task: Task } {
  const settings = repo.settings;
  const now = cmd.now;
  const maxDeadline = now + settings.lease_max_duration_ms;
  const leaseId = `L-${cmd.state.counters.lease + 1}`;
  // An accepted offer was recorded when it was made; a claim or a direct grant is recorded here, before its lease counts.
  const hits = via === 'offer' ? [] : cmd.eligibility.dryRunHits(task, repo, w, now);
  cmd.emit({
    type: 'lease.granted', repo: task.repo, task_id: task.id, worker_id: w.record.id,
    data: {
      lease_id: leaseId,
      epoch: task.epoch + 1,
      expires_at: Math.min(now + settings.heartbeat_timeout_ms, maxDeadline),
      max_deadline_at: maxDeadline,
      via,
      ...(offerId ? { offer_id: offerId } : {}),
    },
  });
  // A direct grant is the scheduler's offer, taken at once: its hits are an offer's.
  recordDryRunHits(cmd, task, w, hits, via === 'claim' ? 'claim' : 'offer');
  const lease = cmd.state.leases.get(leaseId);
  if (!lease) throw new Error(`lease ${leaseId} was granted but is not in the state`);
  return { lease: cmd.state.leaseView(lease), task: cmd.state.taskView(task) };
}

/**
 * Journals what rules in report mode would have refused, once per task, worker and rule: a task
 * offered to the same worker again after a cool-down adds nothing, so the journal grows with
 * distinct hits, at most rules × the offers and claims already journaled.
 */
function recordDryRunHits(cmd: Command, task: TaskRecord, w: WorkerRuntime, hits: readonly DryRunHit[], via: 'offer' | 'claim'): void {
  for (const hit of hits) {
    if (task.dry_run_seen?.includes(dryRunKey(w.record.id, hit.rule))) continue;
    cmd.emit({ type: 'policy.dry_run_hit', repo: task.repo, task_id: task.id, worker_id: w.record.id, data: { rule: hit.rule, via, message: hit.message.slice(0, 2000) } });
  }
}

/** Ends an open offer without an answer; the task goes back to ready and the worker is told. */
export function withdrawOffer(cmd: Command, offerId: string, reason: string, type: 'offer.withdrawn' | 'offer.expired' = 'offer.withdrawn'): void {
  const offer = cmd.state.offers.get(offerId);
  if (!offer) return;
  cmd.emit({ type, repo: offer.repo, task_id: offer.task_id, worker_id: offer.worker_id, data: { offer_id: offerId, reason, to: 'ready' } });
  cmd.notify({ workerId: offer.worker_id, name: 'offer.withdrawn', payload: { offer_id: offerId, task_id: offer.task_id, reason } });
  cmd.scheduler.markTask(offer.task_id);
  cmd.scheduler.markWorker(offer.worker_id);
}

/** How a lease ends from the coordinator's or the holder's side. */
export type LeaseEnd =
  | { type: 'lease.released' }
  | { type: 'lease.cancelled'; cause: 'lease_cancelled' }
  | { type: 'lease.expired'; cause: 'max_duration' | 'heartbeat_timeout'; deadline_at: number; late_ms: number };

/** Ends a task's lease and sends the task back to ready, or to blocked once its attempts are used up. */
export function endLeaseAndRequeue(cmd: Command, task: TaskRecord, lease: LeaseRecord, repo: RepoRuntime, end: LeaseEnd, reason: string): void {
  const settings = repo.settings;
  const attempts = task.attempts + 1;
  const blocked = attempts >= settings.max_attempts;
  const refs = { repo: task.repo, task_id: task.id, worker_id: lease.worker_id };
  const data = {
    lease_id: lease.lease_id,
    epoch: lease.epoch,
    reason,
    attempts,
    to: blocked ? ('blocked' as const) : ('ready' as const),
    ...(blocked ? { blocked_reason: `blocked after ${attempts} attempts (max_attempts ${settings.max_attempts}); last: ${reason}` } : {}),
  };
  if (end.type === 'lease.expired') cmd.emit({ type: end.type, ...refs, data: { ...data, deadline_at: end.deadline_at, late_ms: end.late_ms } });
  else cmd.emit({ type: end.type, ...refs, data });
  // The holder gave it back itself; anyone else's lease ending is news to its holder.
  if (end.type !== 'lease.released') {
    cmd.notify({ workerId: lease.worker_id, name: 'lease.cancelled', payload: { lease_id: lease.lease_id, task_id: task.id, epoch: lease.epoch, reason, cause: end.cause } });
  }
  cmd.scheduler.markWorker(lease.worker_id);
  cmd.scheduler.markTask(task.id);
}

/** Whoever holds a task now: the worker with its lease, or the worker it is offered to. */
type Holder = { workerId: string; lease: LeaseRecord } | { workerId: string; offer: OfferRecord };

export function holderOf(cmd: Command, task: TaskRecord): Holder | undefined {
  const lease = task.current_lease_id ? cmd.state.leases.get(task.current_lease_id) : undefined;
  if (lease) return { workerId: lease.worker_id, lease };
  const offer = task.current_offer_id ? cmd.state.offers.get(task.current_offer_id) : undefined;
  if (offer) return { workerId: offer.worker_id, offer };
  return undefined;
}

/** Tells the holder of a task that a maintainer ended its lease or offer (the task was closed or blocked). */
export function tellHolder(cmd: Command, holder: Holder | undefined, taskId: string, reason: string, cause: 'task_closed' | 'task_blocked'): void {
  if (!holder) return;
  if ('lease' in holder) {
    const { lease } = holder;
    cmd.notify({ workerId: holder.workerId, name: 'lease.cancelled', payload: { lease_id: lease.lease_id, task_id: taskId, epoch: lease.epoch, reason, cause } });
  } else {
    cmd.notify({ workerId: holder.workerId, name: 'offer.withdrawn', payload: { offer_id: holder.offer.offer_id, task_id: taskId, reason } });
  }
  cmd.scheduler.markWorker(holder.workerId);
}

/** Closes a task without a PR outcome; tells the holder of an offer or lease. */
export function closeTask(cmd: Command, task: TaskRecord, reason: string): void {
  const holder = holderOf(cmd, task);
  cmd.emit({
    type: 'task.closed', repo: task.repo, task_id: task.id, ...(holder ? { worker_id: holder.workerId } : {}),
    data: { reason, by: 'maintainer', ...(holder && 'lease' in holder ? { lease_id: holder.lease.lease_id } : {}) },
  });
  tellHolder(cmd, holder, task.id, reason, 'task_closed');
  cmd.scheduler.markAll();
}

/** A PR merged or closed: frees its budget unit and area lock, and moves an adaptive budget (budget.adapted). */
export function recordPrOutcome(cmd: Command, task: TaskRecord, outcome: 'merged' | 'closed', reason?: string): void {
  const refs = { repo: task.repo, task_id: task.id };
  const because = reason ? { reason } : {};
  const step = adaptiveStep(cmd, task, outcome);
  if (outcome === 'merged') cmd.emit({ type: 'task.merged', ...refs, data: { ...because, by: 'maintainer', outcome } });
  else cmd.emit({ type: 'task.closed', ...refs, data: { ...because, by: 'maintainer', outcome } });
  if (step && step.to !== step.from) {
    cmd.emit({ type: 'budget.adapted', ...refs, data: { from: step.from, to: step.to, change: step.change, outcome, review_ms: step.review_ms, reason: step.reason } });
  }
  cmd.scheduler.markAll();
}

/** The adaptive budget's step for this PR outcome, or undefined when the repo's policy has none. */
function adaptiveStep(cmd: Command, task: TaskRecord, outcome: 'merged' | 'closed'): (BudgetStep & { review_ms: number }) | undefined {
  const settings = cmd.state.repos.get(task.repo)?.settings;
  const rule = settings?.policy?.budget?.adaptive;
  if (!settings || !rule) return undefined;
  // Review time runs from when the PR counted; a journal written before that was recorded falls back to the PR's own time.
  const since = task.pr_counted_at ?? task.pr?.opened_at ?? task.updated_at;
  const review_ms = Math.max(0, cmd.now - since);
  return { ...adaptBudget(settings.max_open_prs, rule, { outcome, review_ms }), review_ms };
}

/**
 * Withdraws a worker's open offers it no longer qualifies for (its profile or trust changed), and
 * its newest offers past a window it lowered.
 */
export function withdrawIfIneligible(cmd: Command, w: WorkerRuntime): void {
  for (const offerId of [...w.openOffers]) {
    const offer = cmd.state.offers.get(offerId);
    const task = offer ? cmd.state.tasks.get(offer.task_id) : undefined;
    if (!offer || !task) continue;
    const reasons = cmd.eligibility.workerReasons(task, w, { holdingTask: true, forOffer: true });
    if (reasons.length > 0) withdrawOffer(cmd, offer.offer_id, `worker no longer eligible: ${reasons[0]?.message}`);
  }
  const extra = [...w.openOffers].slice(w.offerWindow);
  for (const offerId of extra) withdrawOffer(cmd, offerId, `worker holds at most ${w.offerWindow} open offer${w.offerWindow === 1 ? '' : 's'} now`);
}
