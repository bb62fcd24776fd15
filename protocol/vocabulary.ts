/**
 * The words every surface uses for the same figures (issue 16): the extension, the CLI, the
 * dashboard, the status comment and the coordinator's own messages all phrase the review
 * budget, a worker's capacity and a lease's time through here, so "1/1" never means an offer on
 * one surface and a PR on another. Pure, with no imports at run time, so the dashboard bundle can
 * use it.
 *
 * - The review budget: "reserved 4/5: 3 PRs · 1 lease · 0 offers" (open PRs, live leases and open
 *   offers against max_open_prs), the hourly window the same way, and when its next slot opens.
 * - Capacity: "2 used / 1 free", where used counts the effort of live leases and open offers alike
 *   (SPEC MATCH-001), with the parts in words: "(1 leased · 1 offered)".
 * - A lease's time: its hard deadline ("deadline in 1 h 59 min": the time a volunteer has), and
 *   apart from it the heartbeat's health ("heartbeat ok", or late and when the lease is lost
 *   without one), never one countdown standing for both.
 */
import type { Budget } from './model.ts';

const HOUR_MS = 3_600_000;

/** "1 lease", "0 offers", "3 PRs". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A span a person reads at a glance: "28 s", "4 min", "1 h 52 min"; zero or less reads "0 s". */
export function formatSpan(ms: number): string {
  if (ms <= 0) return '0 s';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

// ---- the review budget ------------------------------------------------------------------------

/** The budget's parts a surface needs (repo.get's `budget`, the dashboard's folded copy). */
export type BudgetFigures = Pick<Budget, 'open_prs' | 'live_leases' | 'open_offers' | 'max_open_prs' | 'prs_last_hour' | 'max_new_prs_per_hour'> & { next_hourly_slot_at?: number };

/** Units reserved against each limit: the same sums as protocol/budget.ts's budgetInUse. */
export function budgetReserved(b: BudgetFigures): { open: number; hourly: number } {
  return { open: b.open_prs + b.live_leases + b.open_offers, hourly: b.prs_last_hour + b.live_leases + b.open_offers };
}

/** "reserved 4/5: 3 PRs · 1 lease · 0 offers". */
export function formatReservedBudget(b: BudgetFigures): string {
  return `reserved ${budgetReserved(b).open}/${b.max_open_prs}: ${count(b.open_prs, 'PR')} · ${count(b.live_leases, 'lease')} · ${count(b.open_offers, 'offer')}`;
}

/** "this hour 3/4: 2 PRs opened · 1 lease · 0 offers". */
export function formatHourlyBudget(b: BudgetFigures): string {
  return `this hour ${budgetReserved(b).hourly}/${b.max_new_prs_per_hour}: ${count(b.prs_last_hour, 'PR')} opened · ${count(b.live_leases, 'lease')} · ${count(b.open_offers, 'offer')}`;
}

/**
 * When the hourly window lets one more offer in: now, when its oldest PR turns an hour old, or
 * (a window full of leases and offers alone) when one of them ends.
 */
export function formatNextHourlySlot(b: BudgetFigures, now: number): string {
  const { hourly } = budgetReserved(b);
  if (hourly < b.max_new_prs_per_hour) return 'an hourly slot is open';
  if (b.prs_last_hour > 0 && b.next_hourly_slot_at !== undefined) {
    const earliest = hourly > b.max_new_prs_per_hour ? ' at the earliest' : '';
    return `next hourly slot opens in ${formatSpan(b.next_hourly_slot_at - now)}${earliest}`;
  }
  return 'next hourly slot opens when a lease or offer ends';
}

/** The whole budget in one line: "reserved 4/5: … · this hour 3/4: … · next hourly slot opens in 12 min". */
export function formatBudget(b: BudgetFigures, now: number): string {
  return `${formatReservedBudget(b)} · ${formatHourlyBudget(b)} · ${formatNextHourlySlot(b, now)}`;
}

/** When the oldest PR of the rolling hour leaves it, from the PR times (ascending); undefined when none is in the hour. */
export function nextHourlySlotAt(prTimesAscending: readonly number[], now: number): number | undefined {
  for (const at of prTimesAscending) if (at > now - HOUR_MS) return at + HOUR_MS;
  return undefined;
}

// ---- capacity ---------------------------------------------------------------------------------

/** A worker's capacity points: its total, and the effort of its live leases and of its open offers. */
export interface CapacityFigures {
  capacity: number;
  leased: number;
  offered: number;
}

/** Used counts leases and offers alike, as the scheduler does (SPEC MATCH-001). */
export function capacityUse(c: CapacityFigures): { used: number; free: number } {
  const used = c.leased + c.offered;
  return { used, free: Math.max(0, c.capacity - used) };
}

/** "2 used / 1 free". */
export function formatCapacity(c: CapacityFigures): string {
  const { used, free } = capacityUse(c);
  return `${used} used / ${free} free`;
}

/** "2 used / 1 free (1 leased · 1 offered)". */
export function formatCapacityDetail(c: CapacityFigures): string {
  return `${formatCapacity(c)} (${c.leased} leased · ${c.offered} offered)`;
}

// ---- a lease's time ---------------------------------------------------------------------------

/** "deadline in 1 h 59 min": the lease's hard deadline (max_deadline_at), heartbeats or not. */
export function formatLeaseDeadline(maxDeadlineAt: number, now: number): string {
  return maxDeadlineAt > now ? `deadline in ${formatSpan(maxDeadlineAt - now)}` : 'past its deadline';
}

/** The deadline as a time of day in UTC, for text that is not redrawn (a comment): "deadline 2026-12-06 09:20 UTC". */
export function formatLeaseDeadlineAt(maxDeadlineAt: number): string {
  return `deadline ${new Date(maxDeadlineAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export type HeartbeatHealth = 'ok' | 'late' | 'lost';

/**
 * How the lease's heartbeats are doing. `expiresAt` moves with every heartbeat; a worker beats every
 * third of the timeout, so with more than half the timeout left it is on time, with less it missed
 * a beat, and past `expiresAt` the lease is lost.
 */
export function heartbeatHealth(expiresAt: number, heartbeatTimeoutMs: number, now: number): HeartbeatHealth {
  const left = expiresAt - now;
  if (left <= 0) return 'lost';
  return left > heartbeatTimeoutMs / 2 ? 'ok' : 'late';
}

/** "heartbeat ok", "heartbeat late: lease lost in 9 s without one", "heartbeat lost". */
export function formatHeartbeat(expiresAt: number, heartbeatTimeoutMs: number, now: number): string {
  const health = heartbeatHealth(expiresAt, heartbeatTimeoutMs, now);
  if (health === 'late') return `heartbeat late: lease lost in ${formatSpan(expiresAt - now)} without one`;
  return `heartbeat ${health}`;
}

/** The heartbeat timeout a worker's lease implies: it beats every third of it (coordinator/state leaseView). */
export function heartbeatTimeoutOf(lease: { heartbeat_interval_ms: number }): number {
  return lease.heartbeat_interval_ms * 3;
}
