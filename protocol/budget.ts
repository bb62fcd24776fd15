/**
 * The review budget (SPEC BUDGET-001, BUDGET-002), one formula for the coordinator that enforces it
 * and every view that draws it (the dashboard): open PRs + live leases + open offers against
 * `max_open_prs`, and PRs opened in the last hour + live leases + open offers against
 * `max_new_prs_per_hour`. A repo is throttled when one more offer or claim would not fit.
 * Pure, with no imports at run time, so the dashboard bundle can use it.
 */
import type { Budget, RepoSettings } from './model.ts';

/** What the budget counts in a repo at one moment. */
export interface BudgetCounts {
  open_prs: number;
  live_leases: number;
  open_offers: number;
  prs_last_hour: number;
  /** When the oldest PR of the rolling hour leaves it (protocol/vocabulary.ts nextHourlySlotAt). */
  next_hourly_slot_at?: number;
}

export type BudgetLimits = Pick<RepoSettings, 'max_open_prs' | 'max_new_prs_per_hour'>;

/** Units held against each limit. */
export function budgetInUse(c: BudgetCounts): { open: number; hourly: number } {
  return { open: c.open_prs + c.live_leases + c.open_offers, hourly: c.prs_last_hour + c.live_leases + c.open_offers };
}

/** Which limits `extra` more units would exceed: 1 for a new offer or claim, 0 for a task already counted (an accept). */
export function budgetExceeded(c: BudgetCounts, limits: BudgetLimits, extra: 0 | 1): { open: boolean; hourly: boolean } {
  const use = budgetInUse(c);
  return { open: use.open + extra > limits.max_open_prs, hourly: use.hourly + extra > limits.max_new_prs_per_hour };
}

/** The budget as repo.get serves it and the dashboard draws it. */
export function reviewBudget(c: BudgetCounts, limits: BudgetLimits): Budget {
  const over = budgetExceeded(c, limits, 1);
  return {
    open_prs: c.open_prs,
    live_leases: c.live_leases,
    open_offers: c.open_offers,
    max_open_prs: limits.max_open_prs,
    prs_last_hour: c.prs_last_hour,
    max_new_prs_per_hour: limits.max_new_prs_per_hour,
    ...(c.next_hourly_slot_at !== undefined ? { next_hourly_slot_at: c.next_hourly_slot_at } : {}),
    throttled: over.open || over.hourly,
  };
}
