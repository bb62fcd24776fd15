/**
 * The review budget (SPEC BUDGET-001, BUDGET-002), one formula for the coordinator that enforces it
 * and every view that draws it (the dashboard): open PRs + live leases + open offers against
 * `max_open_prs`, and PRs opened in the last hour + live leases + open offers against
 * `max_new_prs_per_hour`. A repo is throttled when one more offer or claim would not fit.
 * The adaptive budget (policy `budget.adaptive`) moves max_open_prs itself: `adaptBudget` is its
 * additive-increase, multiplicative-decrease step, one PR outcome at a time.
 * Pure, with no imports at run time, so the dashboard bundle can use it.
 */
import type { Budget, RepoSettings } from './model.ts';
import type { AdaptiveBudget } from './policy-schema.ts';

/** What the budget counts in a repo at one moment. */
export interface BudgetCounts {
  open_prs: number;
  live_leases: number;
  open_offers: number;
  prs_last_hour: number;
  /** When the oldest PR of the rolling hour leaves it (protocol/vocabulary.ts nextHourlySlotAt). */
  next_hourly_slot_at?: number;
}

export type BudgetLimits = Pick<RepoSettings, 'max_open_prs' | 'max_new_prs_per_hour'> & { policy?: RepoSettings['policy'] };

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
  // A limit in report mode refuses nothing, so it does not throttle the repo either.
  const modes = limits.policy?.modes;
  const adaptive = limits.policy?.budget?.adaptive;
  return {
    open_prs: c.open_prs,
    live_leases: c.live_leases,
    open_offers: c.open_offers,
    max_open_prs: limits.max_open_prs,
    prs_last_hour: c.prs_last_hour,
    max_new_prs_per_hour: limits.max_new_prs_per_hour,
    ...(c.next_hourly_slot_at !== undefined ? { next_hourly_slot_at: c.next_hourly_slot_at } : {}),
    throttled: (over.open && modes?.max_open_prs !== 'report') || (over.hourly && modes?.max_new_prs_per_hour !== 'report'),
    ...(adaptive ? { adaptive: { floor: adaptive.floor, ceiling: adaptive.ceiling } } : {}),
  };
}

/** Where an adaptive budget may be: `value` moved into [floor, ceiling] (a floor above the ceiling yields the ceiling). */
export function clampAdaptive(value: number, rule: Pick<AdaptiveBudget, 'floor' | 'ceiling'>): number {
  return Math.min(rule.ceiling, Math.max(rule.floor, value));
}

/** One reviewed PR, as the adaptive budget measures it. */
export interface ReviewOutcome {
  outcome: 'merged' | 'closed';
  /** From the PR counting (pr_opened) to its merge or close. */
  review_ms: number;
}

/** One step of the adaptive budget. */
export interface BudgetStep {
  from: number;
  to: number;
  change: 'increase' | 'decrease';
  reason: string;
}

const HOUR = 3_600_000;
const hours = (ms: number): string => `${Math.round((ms / HOUR) * 10) / 10} h`;

/**
 * Additive increase, multiplicative decrease (Zuul's window): a PR merged within the target review
 * time adds `increase`; one merged later or closed unmerged multiplies by `decrease_factor`,
 * rounded down. Over many PRs the budget settles where the share of failures (slow reviews and
 * rejections) balances the growth, which is what "follows the measured review rate" means. The
 * result is always within [floor, ceiling], whatever `current` was.
 */
export function adaptBudget(current: number, rule: AdaptiveBudget, o: ReviewOutcome): BudgetStep {
  const target = rule.target_review_hours * HOUR;
  const from = current;
  if (o.outcome === 'merged' && o.review_ms <= target) {
    const grown = current + (rule.increase ?? 1);
    const to = clampAdaptive(grown, rule);
    // Say which bound applied only when one did: "+1 up to the ceiling 6" read as a jump to 6.
    return { from, to, change: 'increase', reason: `PR merged after ${hours(o.review_ms)}, within the target ${hours(target)}: +${rule.increase ?? 1}${to < grown ? `, held at the ceiling ${rule.ceiling}` : ` (ceiling ${rule.ceiling})`}` };
  }
  const factor = rule.decrease_factor ?? 0.5;
  const shrunk = Math.floor(current * factor);
  const to = clampAdaptive(shrunk, rule);
  const why = o.outcome === 'closed' ? `PR closed unmerged after ${hours(o.review_ms)}` : `PR merged after ${hours(o.review_ms)}, past the target ${hours(target)}`;
  return { from, to, change: 'decrease', reason: `${why}: ×${factor}${to > shrunk ? `, held at the floor ${rule.floor}` : ` (floor ${rule.floor})`}` };
}
