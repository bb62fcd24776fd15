/**
 * What one contributor (a GitHub login, over every worker registered with it) holds in a repo now,
 * for the per-contributor cap (policy rule contributor_cap); the arithmetic is
 * protocol/contributor-cap.ts. Reads only the state's indexes: the scheduler asks for every
 * candidate worker, so this costs what the contributor holds, not what the repo holds.
 */
import type { ContributorCounts } from '../../protocol/contributor-cap.ts';
import { loginKey } from '../state/records.ts';
import type { State } from '../state/state.ts';

/** The contributor's open PRs, live leases and offers in `repo`, leaving out `exceptTask` (the task being decided). */
export function contributorCounts(state: State, repo: string, login: string, exceptTask?: string): ContributorCounts {
  const key = loginKey(login);
  const runtime = state.repos.get(repo);
  const counts: ContributorCounts = { open_prs: 0, draft_prs: 0, live_leases: 0, open_offers: 0, merged_prs: runtime?.mergedBy.get(key) ?? 0 };
  for (const taskId of runtime?.openPrsBy.get(key) ?? []) {
    if (taskId === exceptTask) continue;
    counts.open_prs += 1;
    // x_github is an extension the GitHub verification adds (pr-verify.ts), outside the typed PR.
    const pr = state.tasks.get(taskId)?.pr;
    const x = (pr as { x_github?: { draft?: unknown } } | undefined)?.x_github;
    // A PR that counted on its CI checks was verified while it waited for them, often as a draft the
    // volunteer's client marks ready once it counts: that draft flag is stale, so it is not a draft here.
    if (x?.draft === true && pr?.evidence !== 'ci') counts.draft_prs += 1;
  }
  for (const w of state.workersByLogin.get(key) ?? []) {
    for (const taskId of w.holding.keys()) {
      const task = state.tasks.get(taskId);
      if (!task || taskId === exceptTask || task.repo !== repo) continue;
      if (task.state === 'offered') counts.open_offers += 1;
      else counts.live_leases += 1;
    }
  }
  return counts;
}
