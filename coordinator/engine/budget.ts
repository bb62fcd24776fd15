/**
 * A repo's review budget (SPEC BUDGET-001/002): open PRs plus live leases plus open offers against
 * max_open_prs, and PRs of the last hour plus live leases plus open offers against
 * max_new_prs_per_hour. The counts come from the repo's runtime indexes.
 */
import type { Budget } from '../../protocol/model.ts';
import type { RepoRuntime } from '../state/records.ts';
import type { State } from '../state/state.ts';

const HOUR_MS = 3_600_000;

/** PRs opened in the rolling hour before now. A pure read: the list is pruned only by the fold. */
export function prsLastHour(repo: RepoRuntime, now: number): number {
  const since = now - HOUR_MS;
  let n = 0;
  for (let i = repo.prTimes.length - 1; i >= 0 && (repo.prTimes[i] as number) > since; i -= 1) n += 1;
  return n;
}

export function repoBudget(state: State, repo: RepoRuntime, now: number): Budget {
  const s = repo.settings;
  const c = repo.counts;
  const liveLeases = state.liveLeaseCount(repo);
  const lastHour = prsLastHour(repo, now);
  const reserved = c.pr_opened + liveLeases + c.offered;
  return {
    open_prs: c.pr_opened,
    live_leases: liveLeases,
    open_offers: c.offered,
    max_open_prs: s.max_open_prs,
    prs_last_hour: lastHour,
    max_new_prs_per_hour: s.max_new_prs_per_hour,
    throttled: reserved >= s.max_open_prs || lastHour + liveLeases + c.offered >= s.max_new_prs_per_hour,
  };
}
