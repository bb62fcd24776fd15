/**
 * Evaluates a repo's policy (RepoSettings.policy, from `.owp/policy.yml`) for a task and a worker.
 * The scheduler calls `checkRepoPolicy` through the engine's `policy` hook for every offer and
 * claim and gets the first refusal, which names its rule; `explainRepoPolicy` gives every rule's
 * verdict for the dry run (`owp policy explain`). Budget rules are not here: the policy's budget
 * becomes the repo's max_open_prs / max_new_prs_per_hour settings, which the engine enforces.
 */
import type { Reasoned } from '../protocol/model.ts';
import { ruleMode, type PolicyRuleId, type RepoPolicy } from '../protocol/policy-schema.ts';
import type { PolicyCheck, PolicyContext, PolicyExplain, PolicyVerdict } from './engine/options.ts';
import { contributorCap, contributorInUse } from '../protocol/contributor-cap.ts';
import { contributorCounts } from './engine/contributors.ts';
import { loginKey } from './state/records.ts';
import { areaWithin } from '../protocol/area-inference.ts';

export const DEFAULT_SAFE_LANES: readonly string[] = ['docs', 'tests'];


interface Verdict {
  rule: PolicyRuleId;
  passed: boolean;
  message: string;
  details?: Record<string, unknown>;
}

/** Every applicable rule of the repo's policy, in evaluation order. A repo without a policy has none. */
export function evaluatePolicy(ctx: PolicyContext): Verdict[] {
  const policy: RepoPolicy | undefined = ctx.repo.policy;
  const { task, worker, state } = ctx;
  const login = worker.github_login;
  // Messages name the worker by id, never by login: task.explain answers any caller.
  const who = worker.id;
  // The maintainers' word on a contributor holds whether or not the repo has a policy file.
  const standings = state.repos.get(task.repo)?.standings;
  const standing = standings && standings.size > 0 ? standings.get(loginKey(login)) : undefined;
  // Most repos have no policy file and no denounced contributor: no verdicts, and nothing built to
  // find that out (the scheduler, each offer's dry run and each accept ask here, several times a transition).
  if (!policy && standing?.status !== 'denounced') return [];
  const out: Verdict[] = [];
  const verdict = (rule: PolicyRuleId, passed: boolean, failMessage: string, passMessage: string, details?: Record<string, unknown>): void => {
    out.push({ rule, passed, message: passed ? passMessage : failMessage, ...(details ? { details } : {}) });
  };

  if (standing?.status === 'denounced') verdict('denounced', false, `${who}'s contributor is denounced in ${task.repo}`, '');
  if (!policy) return out;
  if (policy.vouch && task.tier >= policy.vouch.from_tier) {
    const vouched = standing?.status === 'vouched';
    verdict('vouch_required', vouched, `tier ${task.tier} tasks in ${task.repo} need a contributor the maintainers vouched for; ${who}'s is not`, `${who}'s contributor is vouched for`);
  }

  const deny = policy.logins?.deny ?? [];
  const allow = policy.logins?.allow ?? [];
  const sameLogin = (list: readonly string[]): boolean => list.some((l) => l.toLowerCase() === login.toLowerCase());
  if (deny.length > 0) verdict('login_deny', !sameLogin(deny), `${who}'s login is on the deny list of ${ctx.repo.repo}`, `${who}'s login is not on the deny list`);
  if (allow.length > 0) verdict('login_allow', sameLogin(allow), `${who}'s login is not on the allow list of ${ctx.repo.repo}`, `${who}'s login is on the allow list`);

  if (policy.safe_lanes) {
    const lanes = policy.safe_lanes.lanes ?? DEFAULT_SAFE_LANES;
    const below = policy.safe_lanes.below_trust;
    const inLane = lanes.some((lane) => areaWithin(task.area, lane));
    verdict(
      'safe_lanes',
      worker.trust >= below || inLane,
      `workers below trust ${below} take only ${lanes.join('/')} tasks; ${task.id} is in ${task.area ?? 'no area'} and ${worker.id} has trust ${worker.trust}`,
      inLane ? `${task.id} is in the safe lane ${task.area}` : `trust ${worker.trust} ≥ ${below} may leave the safe lanes`,
    );
  }

  const tierRules = (policy.tiers ?? []).filter((r) => task.tier >= r.from_tier);
  if (tierRules.length > 0) {
    const needed = Math.max(...tierRules.map((r) => r.min_trust));
    verdict('tier_trust', worker.trust >= needed, `tier ${task.tier} tasks need trust ≥ ${needed}, ${worker.id} has ${worker.trust}`, `tier ${task.tier} needs trust ≥ ${needed}, worker has ${worker.trust}`);
  }

  if (policy.max_active_per_worker !== undefined) {
    const max = policy.max_active_per_worker;
    let active = 0;
    for (const taskId of state.workers.get(worker.id)?.holding.keys() ?? []) {
      const held = state.tasks.get(taskId);
      if (held && taskId !== task.id && held.repo === task.repo) active += 1;
    }
    verdict('max_active_per_worker', active < max, `${worker.id} already holds ${active} active task${active === 1 ? '' : 's'} in ${task.repo} (max_active_per_worker ${max})`, `${worker.id} holds ${active} of ${max} active tasks here`);
  }

  const cap = policy.contributor_cap;
  if (cap) {
    if (sameLogin(cap.bypass ?? [])) verdict('contributor_cap', true, '', `${who}'s login is on the contributor_cap bypass list`);
    else {
      const counts = contributorCounts(state, task.repo, login, task.id);
      const limit = contributorCap(cap, counts.merged_prs, worker.trust);
      const use = contributorInUse(counts, cap);
      const held = `${counts.open_prs - (cap.count_drafts === false ? counts.draft_prs : 0)} open PR(s)${cap.count_drafts === false && counts.draft_prs > 0 ? ` (+${counts.draft_prs} draft(s) not counted)` : ''}, ${counts.live_leases} lease(s), ${counts.open_offers} offer(s)`;
      const grown = `${counts.merged_prs} merged PR(s) here, trust ${worker.trust}`;
      verdict('contributor_cap', use < limit, `${who}'s contributor holds ${use} of their cap ${limit} in ${task.repo} (${held}; ${grown})`, `${who}'s contributor holds ${use} of their cap ${limit} (${grown})`, { in_use: use, cap: limit, ...counts });
    }
  }

  // Rules checked when the PR is reported, not at the offer: their verdict says what will be asked.
  if (policy.signed_commits && task.tier >= policy.signed_commits.from_tier) {
    verdict('signed_commits', true, '', `tier ${task.tier} tasks need every commit of the PR signed and verified by GitHub (checked when the PR is reported)`);
  }
  if (policy.pr_lane && policy.pr_lane !== 'allow' && task.area !== undefined) {
    verdict('pr_lane', true, '', `the PR must stay in area ${task.area} (${policy.pr_lane === 'refuse' ? 'refused' : 'flagged'} otherwise, checked when the PR is reported)`);
  }

  for (const [area, limits] of Object.entries(policy.areas ?? {})) {
    if (!areaWithin(task.area, area)) continue;
    const allowed = sameLogin(limits.allow ?? []);
    if (limits.max_active !== undefined) {
      // The repo's area locks hold exactly its active tasks that have an area (one per area), so
      // counting them stays cheap however many tasks the repo has.
      let active = 0;
      for (const [lockedArea, holder] of state.repos.get(task.repo)?.locks ?? []) {
        if (holder !== task.id && areaWithin(lockedArea, area)) active += 1;
      }
      verdict('area_max_active', active < limits.max_active, `area ${area} already has ${active} active task${active === 1 ? '' : 's'} (max_active ${limits.max_active})`, `area ${area} has ${active} of ${limits.max_active} active tasks`);
    }
    if (limits.risky) {
      const trusted = limits.min_trust !== undefined && worker.trust >= limits.min_trust;
      const grants = [
        ...(limits.min_trust !== undefined ? [`trust ≥ ${limits.min_trust} (${who} has ${worker.trust})`] : []),
        ...((limits.allow ?? []).length > 0 ? [`a login on its allow list (${who}'s is not)`] : []),
      ];
      verdict(
        'risky_area',
        allowed || trusted,
        grants.length === 0 ? `area ${area} is risky and open to no one (no min_trust or allow list)` : `area ${area} is risky: it needs ${grants.join(' or ')}`,
        allowed ? `${who}'s login is on the allow list of risky area ${area}` : `trust ${worker.trust} ≥ ${String(limits.min_trust)} for risky area ${area}`,
      );
    } else if (limits.min_trust !== undefined) {
      verdict('area_trust', allowed || worker.trust >= limits.min_trust, `area ${area} needs trust ≥ ${limits.min_trust}, ${worker.id} has ${worker.trust}`, allowed ? `${who}'s login is on the allow list of area ${area}` : `trust ${worker.trust} ≥ ${limits.min_trust} for area ${area}`);
    }
  }
  return out;
}

/** The scheduler's hook: the first rule that refuses, or null. A rule in report mode never refuses (the engine records it instead). */
export const checkRepoPolicy: PolicyCheck = (ctx) => {
  const refusal = evaluatePolicy(ctx).find((v) => !v.passed && ruleMode(ctx.repo.policy, v.rule) === 'enforce');
  if (!refusal) return null;
  const reason: Reasoned = { code: `policy:${refusal.rule}`, message: `policy rule ${refusal.rule}: ${refusal.message}`, details: { ...refusal.details, rule: refusal.rule } };
  return reason;
};

export const explainRepoPolicy: PolicyExplain = (ctx) =>
  evaluatePolicy(ctx).map(({ rule, passed, message }): PolicyVerdict => ({ rule, passed, message, ...(ruleMode(ctx.repo.policy, rule) === 'report' ? { mode: 'report' as const } : {}) }));

/** Runs the repo policy first, then an extra check a deployment passes in (both must allow). */
export function withRepoPolicy(extra: PolicyCheck | undefined): PolicyCheck {
  if (!extra) return checkRepoPolicy;
  return (ctx) => checkRepoPolicy(ctx) ?? extra(ctx);
}
