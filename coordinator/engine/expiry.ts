/**
 * Time: what the sweep ends when deadlines pass (offers, leases, idempotency keys, decline
 * cool-downs, finished tasks kept live), and the grace every live lease gets after a restart.
 * The runtime sweeps every `sweepIntervalMs`; tests move a manual clock and sweep by hand.
 */
import { idNumber, type TaskRecord } from '../state/records.ts';
import type { State } from '../state/state.ts';
import type { Command } from './command.ts';
import type { Scheduler } from './scheduler.ts';
import { IDEMPOTENCY_TTL_MS } from './idempotency.ts';
import { timeOutChecks } from './pr-checks.ts';
import { endLeaseAndRequeue, withdrawOffer } from './task-moves.ts';

const HOUR_MS = 3_600_000;
const DEFAULT_ARCHIVE_AFTER_MS = 10 * 60_000;

export interface SweepResult {
  expiredOffers: number;
  expiredLeases: number;
}

export class Expiry {
  /** When the last sweep ran, to see which PRs left the hourly window since. */
  private lastSweepAt = 0;

  /** Expires offers and leases whose deadline has passed, prunes idempotency keys, archives finished tasks. */
  sweep(cmd: Command): SweepResult {
    const { state, scheduler } = cmd;
    const now = cmd.now;
    let expiredOffers = 0;
    let expiredLeases = 0;
    for (const offer of [...state.offers.values()]) {
      if (offer.deadline_at > now) continue;
      const settings = state.repos.get(offer.repo)?.settings;
      withdrawOffer(cmd, offer.offer_id, 'offer deadline passed', 'offer.expired');
      scheduler.markPassed(offer.task_id, offer.worker_id, now + (settings?.offer_timeout_ms ?? 30_000));
      expiredOffers += 1;
    }
    for (const lease of [...state.leases.values()]) {
      if (lease.expires_at > now) continue;
      const task = state.tasks.get(lease.task_id);
      const repo = state.repos.get(lease.repo);
      if (!task || !repo) continue;
      if (lease.checks_deadline_at !== undefined) {
        // A PR waiting for CI past its deadline goes back to the volunteer, not to the queue.
        timeOutChecks(cmd, task, lease, repo.settings);
        continue;
      }
      const byMax = lease.expires_at >= lease.max_deadline_at;
      const end = { type: 'lease.expired', cause: byMax ? 'max_duration' : 'heartbeat_timeout', deadline_at: lease.expires_at, late_ms: now - lease.expires_at } as const;
      endLeaseAndRequeue(cmd, task, lease, repo, end, byMax ? 'lease reached its maximum duration' : 'no heartbeat before the deadline');
      expiredLeases += 1;
    }
    state.idempotency.forgetUntil(now - IDEMPOTENCY_TTL_MS);
    // Time alone can make a task offerable again: a decline cool-down ends, or PRs leave the hourly window.
    scheduler.endCoolDowns(now);
    for (const repo of state.repos.values()) {
      if (repo.prTimes.some((t) => t + HOUR_MS <= now && t + HOUR_MS > this.lastSweepAt)) scheduler.markAll();
    }
    this.lastSweepAt = now;
    const archiveAfter = cmd.options.archiveAfterMs ?? DEFAULT_ARCHIVE_AFTER_MS;
    // In task id order (creation order), as a walk over every task gave it.
    const due: TaskRecord[] = [];
    for (const task of state.finished) if (task.updated_at + archiveAfter <= now) due.push(task);
    due.sort((a, b) => idNumber(a.id) - idNumber(b.id));
    for (const task of due) cmd.emit({ type: 'task.archived', repo: task.repo, task_id: task.id, data: { task: state.taskView(task) } });
    return { expiredOffers, expiredLeases };
  }

  /**
   * After recovery: every live lease gets a fresh heartbeat window (its holder needs time to
   * reconnect), capped by the lease's maximum duration. Renewals are never journaled, so this is
   * the one field recovery may move. Offers keep their deadlines: one that passed while the
   * coordinator was down expires on the first sweep, in the journal like any other.
   */
  graceAfterRecovery(state: State, scheduler: Scheduler, now: number): void {
    for (const lease of state.leases.values()) {
      // A lease waiting for CI needs no heartbeat until its checks deadline, restart or not.
      if (lease.checks_deadline_at !== undefined) continue;
      const timeout = state.repos.get(lease.repo)?.settings.heartbeat_timeout_ms ?? 30_000;
      lease.expires_at = Math.min(Math.max(lease.expires_at, now + timeout), lease.max_deadline_at);
    }
    for (const w of state.workers.values()) {
      state.setOnline(w, false);
      w.sockets = 0;
    }
    scheduler.markAll();
  }
}
