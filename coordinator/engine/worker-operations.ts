/**
 * What workers do (SPEC §5.3–5.5): register and change their profile, answer offers, claim tasks,
 * and heartbeat, release and report on their leases. Every check runs before the first event.
 */
import { OwpError } from '../../protocol/errors.ts';
import { assertWorkerExtensions } from '../../protocol/validate.ts';
import type { OperationHandlers } from './operations.ts';
import { hashToken, newToken } from '../auth.ts';
import type { WorkerRecord } from '../state/records.ts';
import { heldLease, knownRepo, liveTask, me, readableTask } from './access.ts';
import type { Command } from './command.ts';
import { leasesOf, offersOf, prsOf, SUBMITTED_WINDOW_MS } from './reads.ts';
import { cursorKey, idNumber, orderBy, page } from './pagination.ts';
import { attachPr, requiredChecks } from './pr-checks.ts';
import { endLeaseAndRequeue, grantLease, withdrawIfIneligible } from './task-moves.ts';

export const WORKER_OPERATIONS = {
  'worker.register': (cmd, _p, params) => {
    const { options } = cmd;
    if (options.registration === 'closed') {
      const invited = params.invite !== undefined && (options.invites ?? []).includes(params.invite);
      if (!invited) throw new OwpError('REGISTRATION_CLOSED', 'This coordinator only accepts invited workers. Ask its maintainers for an invite code.');
    }
    const { idempotency_key: _k, invite: _i, ...profile } = params;
    assertWorkerExtensions(profile);
    const token = newToken('worker');
    const record: WorkerRecord = { ...profile, id: `W-${cmd.state.counters.worker + 1}`, trust: 0, registered_at: cmd.now, token_hash: hashToken(token) };
    cmd.emit({ type: 'worker.registered', worker_id: record.id, data: { worker: record } });
    return { worker: cmd.state.workerView(cmd.state.mustWorker(record.id)), token };
  },

  'worker.status': (cmd, p) => {
    const w = me(cmd.state, p);
    return { worker: cmd.state.workerView(w), offers: offersOf(cmd.state, w), leases: leasesOf(cmd.state, w) };
  },

  'worker.prs': (cmd, p, params) => {
    const w = me(cmd.state, p);
    const filters = { since: params.since };
    // The default window starts when the walk starts: its start rides in the cursor (the key's third
    // part, which the order ignores), so a later page answers the same window, not one moved on.
    const started = params.cursor === undefined ? undefined : cursorKey(params.cursor, 'worker.prs', filters)[2];
    const since = params.since ?? (typeof started === 'number' ? started : cmd.now - SUBMITTED_WINDOW_MS);
    const { items, next_cursor } = page(prsOf(cmd.state, w, since), {
      list: 'worker.prs', filters, key: (pr) => [pr.updated_at, idNumber(pr.task_id), since], order: orderBy('desc', 'desc'),
      limit: params.limit, defaultLimit: 100, cursor: params.cursor,
    });
    return { prs: items, trust: w.record.trust, ...(next_cursor ? { next_cursor } : {}) };
  },

  'worker.update': (cmd, p, params) => {
    const w = me(cmd.state, p);
    const { idempotency_key: _k, ...changes } = params;
    assertWorkerExtensions(changes, w.record);
    cmd.emit({ type: 'worker.updated', worker_id: w.record.id, data: { changes } });
    cmd.scheduler.markWorker(w.record.id);
    withdrawIfIneligible(cmd, w);
    return { worker: cmd.state.workerView(w) };
  },

  'offer.list': (cmd, p) => ({ offers: offersOf(cmd.state, me(cmd.state, p)) }),

  'offer.accept': (cmd, p, params) => accept(cmd, me(cmd.state, p).record.id, params.offer_id),

  'offer.decline': (cmd, p, params) => {
    const w = me(cmd.state, p);
    const offer = cmd.state.offers.get(params.offer_id);
    if (!offer) throw new OwpError('OFFER_EXPIRED', `Offer ${params.offer_id} is no longer open.`, { offer_id: params.offer_id });
    if (offer.worker_id !== w.record.id) throw new OwpError('NOT_HOLDER', `Offer ${params.offer_id} was made to another worker.`);
    const task = liveTask(cmd.state, offer.task_id);
    const settings = knownRepo(cmd.state, task.repo).settings;
    const attempts = task.attempts + 1;
    const blocked = attempts >= settings.max_attempts;
    cmd.emit({
      type: 'offer.declined', repo: task.repo, task_id: task.id, worker_id: w.record.id,
      data: {
        offer_id: offer.offer_id,
        attempts,
        to: blocked ? 'blocked' : 'ready',
        ...(params.reason ? { reason: params.reason } : {}),
        ...(blocked ? { blocked_reason: `blocked after ${attempts} attempts (max_attempts ${settings.max_attempts})` } : {}),
      },
    });
    cmd.scheduler.markPassed(task.id, w.record.id, cmd.now + settings.offer_timeout_ms);
    cmd.scheduler.markWorker(w.record.id);
    cmd.scheduler.markTask(task.id);
    return { task: cmd.state.taskView(task) };
  },

  'task.claim': (cmd, p, params) => {
    const w = me(cmd.state, p);
    const task = readableTask(cmd.state, p, params.task_id);
    // Claiming the task one was offered is accepting the offer.
    if (task.state === 'offered' && task.current_offer_id && cmd.state.offers.get(task.current_offer_id)?.worker_id === w.record.id) {
      return accept(cmd, w.record.id, task.current_offer_id);
    }
    if (task.state !== 'ready') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}, not ready; only ready tasks can be claimed.`, { from: task.state, to: 'leased' });
    }
    const repo = knownRepo(cmd.state, task.repo);
    cmd.eligibility.assertEligible(task, repo, w, cmd.now, { holdingTask: false });
    return grantLease(cmd, task, w, repo, 'claim');
  },

  'lease.heartbeat': (cmd, p, params) => {
    const w = me(cmd.state, p);
    const now = cmd.now;
    const { lease } = heldLease(cmd.state, w, params.lease_id, params.epoch, now);
    const settings = knownRepo(cmd.state, lease.repo).settings;
    // Renewal is not journaled: after a restart every live lease gets a fresh heartbeat window (SPEC §5.5).
    // A lease waiting for its PR's checks runs to the checks deadline; a heartbeat must not shorten it.
    if (lease.checks_deadline_at === undefined) lease.expires_at = Math.min(now + settings.heartbeat_timeout_ms, lease.max_deadline_at);
    w.lastSeenAt = now;
    return { lease: cmd.state.leaseView(lease) };
  },

  'lease.release': (cmd, p, params) => {
    const w = me(cmd.state, p);
    const { lease, task } = heldLease(cmd.state, w, params.lease_id, params.epoch, cmd.now);
    endLeaseAndRequeue(cmd, task, lease, knownRepo(cmd.state, task.repo), { type: 'lease.released' }, params.reason ?? 'released by worker');
    cmd.scheduler.markWorker(w.record.id);
    return { task: cmd.state.taskView(task) };
  },

  'lease.report': (cmd, p, params) => {
    const w = me(cmd.state, p);
    const { lease, task } = heldLease(cmd.state, w, params.lease_id, params.epoch, cmd.now);
    const refs = { repo: task.repo, task_id: task.id, worker_id: w.record.id };
    switch (params.state) {
      case 'in_progress':
        if (task.state !== 'leased') {
          throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is already ${task.state}; in_progress is reported once, after leased.`, { from: task.state, to: 'in_progress' });
        }
        cmd.emit({ type: 'task.started', ...refs, data: { lease_id: lease.lease_id } });
        // A started task leaves the offer window of a worker granted leases directly (OFFER-011).
        if (w.acceptsOffers) cmd.scheduler.markWorker(w.record.id);
        break;
      case 'pr_opened': {
        if (!params.pr) throw new OwpError('VALIDATION_FAILED', 'pr_opened needs pr: { url, gates } describing the pull request and its gate evidence.', { errors: [{ path: '/pr', message: 'required for pr_opened' }] });
        const settings = knownRepo(cmd.state, task.repo).settings;
        const required = settings.required_gates;
        const passed = new Set(params.pr.gates.filter((g) => g.passed).map((g) => g.name));
        const missing = required.filter((g) => !passed.has(g));
        if (missing.length > 0) {
          throw new OwpError('GATES_MISSING', `${task.repo} requires passing evidence for ${missing.join(', ')} before a PR counts as opened. Run the repo's gates and report their results.`, { missing, required });
        }
        // The evidence label is the coordinator's to write, never the worker's.
        const { evidence: _said, ...reported } = params.pr;
        const pr = { ...reported, opened_at: params.pr.opened_at ?? cmd.now };
        if (requiredChecks(settings).length > 0) {
          // Counted only once CI proves it: the PR waits on the lease (again, for a second report).
          attachPr(cmd, task, lease, settings, pr);
          break;
        }
        cmd.emit({ type: 'pr.opened', ...refs, data: { lease_id: lease.lease_id, pr: { ...pr, evidence: 'self_reported' } } });
        cmd.scheduler.markWorker(w.record.id);
        break;
      }
      case 'blocked': {
        const reason = params.reason?.trim();
        if (!reason) throw new OwpError('VALIDATION_FAILED', 'blocked needs a reason the maintainer can act on.', { errors: [{ path: '/reason', message: 'required for blocked' }] });
        cmd.emit({ type: 'task.blocked', ...refs, data: { reason, by: 'worker', lease_id: lease.lease_id } });
        cmd.scheduler.markWorker(w.record.id);
        break;
      }
    }
    return { task: cmd.state.taskView(task) };
  },
} satisfies Partial<OperationHandlers>;

/** Accepts an offer made to this worker, before its deadline, if the worker and the repo still allow it. */
function accept(cmd: Command, workerId: string, offerId: string): ReturnType<typeof grantLease> {
  const w = cmd.state.mustWorker(workerId);
  const offer = cmd.state.offers.get(offerId);
  if (!offer) throw new OwpError('OFFER_EXPIRED', `Offer ${offerId} is no longer open (it expired, was withdrawn or was already answered). Wait for the next offer or claim a ready task.`, { offer_id: offerId });
  if (offer.worker_id !== workerId) throw new OwpError('NOT_HOLDER', `Offer ${offerId} was made to another worker.`);
  if (offer.deadline_at <= cmd.now) throw new OwpError('OFFER_EXPIRED', `Offer ${offerId} passed its deadline.`, { offer_id: offer.offer_id, deadline_at: offer.deadline_at });
  const task = liveTask(cmd.state, offer.task_id);
  const repo = knownRepo(cmd.state, task.repo);
  cmd.eligibility.assertEligible(task, repo, w, cmd.now, { holdingTask: true });
  const granted = grantLease(cmd, task, w, repo, 'offer', offer.offer_id);
  // The answer frees a place in its offer window: the next offer follows the acknowledgement (a
  // worker with no capacity left is not looked at: a pass costs a walk over every worker).
  if (w.free > 0) cmd.scheduler.markWorker(workerId);
  return granted;
}
