/**
 * A repo's review budget: what it counts, from the repo's runtime indexes. The arithmetic (SPEC
 * BUDGET-001/002) is protocol/budget.ts, shared with the dashboard.
 */
import { reviewBudget, type BudgetCounts } from '../../protocol/budget.ts';
import { nextHourlySlotAt } from '../../protocol/vocabulary.ts';
import type { Budget } from '../../protocol/model.ts';
import type { RepoRuntime } from '../state/records.ts';
import type { State } from '../state/state.ts';

const HOUR_MS = 3_600_000;

/** PRs opened in the rolling hour before now. A pure read: the list is pruned only by the fold. */
export function prsLastHour(repo: RepoRuntime, now: number): number {
  return repo.prTimes.length - repo.prsUpTo(now - HOUR_MS);
}

/** Open PRs, live leases, open offers and PRs of the last hour in a repo, now. */
export function budgetCounts(state: State, repo: RepoRuntime, now: number): BudgetCounts {
  return { open_prs: repo.counts.pr_opened, live_leases: state.liveLeaseCount(repo), open_offers: repo.counts.offered, prs_last_hour: prsLastHour(repo, now) };
}

/** The budget as repo.get and repo.list serve it: the counts, the limits, and when the next hourly slot opens. */
export function repoBudget(state: State, repo: RepoRuntime, now: number): Budget {
  const next = nextHourlySlotAt(repo.prTimes, now);
  return reviewBudget({ ...budgetCounts(state, repo, now), ...(next !== undefined ? { next_hourly_slot_at: next } : {}) }, repo.settings);
}
