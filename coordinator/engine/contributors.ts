/**
 * What one contributor (a GitHub login, over every worker registered with it) holds in a repo now,
 * for the per-contributor cap (policy rule contributor_cap); the arithmetic is
 * protocol/contributor-cap.ts. Reads only the state's indexes: the scheduler asks for every
 * candidate worker, so this costs what the contributor holds, not what the repo holds.
 */
import { contributorCap, contributorInUse, type ContributorCounts } from '../../protocol/contributor-cap.ts';
import type { ContributorCapStanding } from '../../protocol/model.ts';
import { ruleMode, type ContributorCap } from '../../protocol/policy-schema.ts';
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

/**
 * Every contributor of a repo as the scheduler sees them (policy.standings): what each holds, the
 * cap the policy's contributor_cap gives them and how, and the maintainers' word on them. Listed:
 * logins that hold, opened or merged something here, or that the maintainers vouched for or
 * denounced. Counted by contributorCounts, the function the rule itself uses, so the view cannot
 * drift from what the scheduler enforces.
 */
export function contributorStandings(state: State, repo: string): ContributorCapStanding[] {
  const runtime = state.repos.get(repo);
  if (!runtime) return [];
  const shown = new Map<string, string>();
  const see = (key: string, login?: string): void => {
    if (!shown.has(key) || (login && shown.get(key) === key)) shown.set(key, login ?? state.workersByLogin.get(key)?.[0]?.record.github_login ?? key);
  };
  for (const [key, s] of runtime.standings) see(key, s.login);
  for (const key of runtime.mergedBy.keys()) see(key);
  for (const [key, open] of runtime.openPrsBy) if (open.size > 0) see(key);
  for (const [key, workers] of state.workersByLogin) {
    if (workers.some((w) => [...w.holding.keys()].some((id) => state.tasks.get(id)?.repo === repo))) see(key, workers[0]?.record.github_login);
  }
  const policy = runtime.settings.policy;
  const rule = policy?.contributor_cap;
  const out: ContributorCapStanding[] = [];
  for (const [key, login] of shown) {
    const counts = contributorCounts(state, repo, login);
    const trust = Math.max(0, ...(state.workersByLogin.get(key) ?? []).map((w) => w.record.trust));
    const standing = runtime.standings.get(key);
    const bypass = (rule?.bypass ?? []).some((l) => loginKey(l) === key);
    const inUse = rule ? contributorInUse(counts, rule) : counts.open_prs + counts.live_leases + counts.open_offers;
    if (inUse === 0 && counts.open_prs === 0 && counts.merged_prs === 0 && !standing) continue;
    const row: ContributorCapStanding = { login, ...counts, in_use: inUse, trust, at_cap: false, bypass };
    if (rule) {
      row.cap_rule = 'contributor_cap';
      row.mode = ruleMode(policy, 'contributor_cap');
      if (bypass) row.cap_reason = 'on the contributor_cap bypass list';
      else {
        row.cap = contributorCap(rule, counts.merged_prs, trust);
        row.cap_reason = capReason(rule, counts.merged_prs, trust, row.cap);
        row.at_cap = inUse >= row.cap;
      }
    }
    if (standing) {
      row.status = standing.status;
      if (standing.reason !== undefined) row.status_reason = standing.reason;
      row.status_by = standing.by;
      row.status_at = standing.at;
    }
    out.push(row);
  }
  return out;
}

/** "base 2 + 3 × 1 merged PR + 1 × trust 2 = 7", "… = 12, held at max 10": the arithmetic a maintainer can check. */
function capReason(rule: ContributorCap, merged: number, trust: number, cap: number): string {
  let text = `base ${rule.base}`;
  if (rule.per_merge) text += ` + ${rule.per_merge} × ${merged} merged PR${merged === 1 ? '' : 's'}`;
  if (rule.per_trust) text += ` + ${rule.per_trust} × trust ${trust}`;
  const grown = rule.base + (rule.per_merge ?? 0) * merged + (rule.per_trust ?? 0) * trust;
  text += ` = ${grown}`;
  if (rule.max !== undefined && grown > rule.max) text += `, held at max ${rule.max}`;
  return cap === grown || (rule.max !== undefined && grown > rule.max) ? text : `${text} → ${cap}`;
}
