/**
 * Eligibility (SPEC §5.13): why a task cannot be leased now, for its repo (paused, area lock,
 * review budget) and for one worker (capacity, skills, declared repos, trust, repo policy). Offers, claims, accepts
 * and task.explain all ask here, so they cannot disagree.
 *
 * The scheduler remembers, within a pass, which kinds of task no idle worker can take, keyed by
 * the task fields worker eligibility reads (its signature). Those fields are listed once, below:
 * worker eligibility and the policy hook see a task only through them, so a rule that reads
 * another field does not compile until the field is listed, and the signature is built from the
 * same list.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { Reasoned } from '../../protocol/model.ts';
import type { RepoRuntime, TaskRecord, WorkerRuntime } from '../state/records.ts';
import type { State } from '../state/state.ts';
import { budgetExceeded, budgetInUse } from '../../protocol/budget.ts';
import { formatHourlyBudget, formatNextHourlySlot, formatReservedBudget, nextHourlySlotAt, type BudgetFigures } from '../../protocol/vocabulary.ts';
import { repoAdmits } from './access.ts';
import { budgetCounts } from './budget.ts';
import { ruleMode } from '../../protocol/policy-schema.ts';
import type { PolicyCheck, PolicyExplain } from './options.ts';

/** A refusal a rule in report mode would have made, recorded instead (policy.dry_run_hit). */
export interface DryRunHit {
  rule: string;
  message: string;
}

/** The task fields worker eligibility reads (capacity, skills, trust, and the repo policy by repo, area and tier). */
export const ELIGIBILITY_FIELDS = ['repo', 'area', 'tier', 'effort', 'skills'] as const;
type EligibilityField = (typeof ELIGIBILITY_FIELDS)[number];

/**
 * A task as worker eligibility sees it. Its id is there for messages, for the capacity a worker
 * already holds for this very task (an accept), and so a policy can leave the task itself out when
 * it counts active tasks; a ready task holds nothing and is never among those, so for the ready
 * tasks the scheduler groups the id never changes the verdict.
 */
export type EligibilityTask = Pick<TaskRecord, 'id' | EligibilityField>;

/** How each eligibility field enters the signature: adding a field to the list does not compile until it has its line here. */
const SIGNATURE_PART: { readonly [F in EligibilityField]: (task: EligibilityTask) => string } = {
  repo: (t) => t.repo,
  area: (t) => t.area ?? '',
  tier: (t) => `${t.tier}`,
  effort: (t) => `${t.effort}`,
  skills: (t) => (t.skills.length < 2 ? t.skills.join(',') : [...t.skills].sort().join(',')),
};
const PARTS = ELIGIBILITY_FIELDS.map((field) => SIGNATURE_PART[field]);

/** Tasks with the same signature are eligible for exactly the same workers, at one moment of a scheduling pass. */
export function schedulingSignature(task: EligibilityTask): string {
  // A plain loop: the scheduler signs every ready task once per pass.
  let signature = '';
  for (let i = 0; i < PARTS.length; i += 1) signature += `${(PARTS[i] as (task: EligibilityTask) => string)(task)}\u0000`;
  return signature;
}

const limits = (s: RepoRuntime['settings']): Pick<BudgetFigures, 'max_open_prs' | 'max_new_prs_per_hour'> => ({ max_open_prs: s.max_open_prs, max_new_prs_per_hour: s.max_new_prs_per_hour });

/** "this hour 2/2: 1 PR opened · 1 lease · 0 offers; next hourly slot opens in 12 min", in the words every surface uses. */
function hourlyWords(figures: BudgetFigures, repo: RepoRuntime, now: number): string {
  const next = nextHourlySlotAt(repo.prTimes, now);
  const withSlot = next === undefined ? figures : { ...figures, next_hourly_slot_at: next };
  return `${formatHourlyBudget(withSlot)}; ${formatNextHourlySlot(withSlot, now)}`;
}

/** Whether a worker that declared `repos` can work on `repo` (SPEC MATCH-005): GitHub compares names case-insensitively. */
function worksOn(repos: readonly string[], repo: string): boolean {
  const wanted = repo.toLowerCase();
  return repos.some((r) => r.toLowerCase() === wanted);
}

export class Eligibility {
  constructor(
    private readonly state: State,
    private readonly policy: PolicyCheck | undefined,
    private readonly explainPolicy?: PolicyExplain,
  ) {}

  /** The review budget's verdicts for one more unit (none for a task already counted), each limit with its mode. */
  budgetVerdicts(repo: RepoRuntime, now: number, alreadyCounted: boolean): Array<{ rule: 'max_open_prs' | 'max_new_prs_per_hour'; over: boolean; report: boolean; reason: Reasoned }> {
    const s = repo.settings;
    const counts = budgetCounts(this.state, repo, now);
    const use = budgetInUse(counts);
    const over = budgetExceeded(counts, s, alreadyCounted ? 0 : 1);
    const adaptive = s.policy?.budget?.adaptive;
    // The reasons are words for a refusal: built only when read (a budget check runs on every offer).
    return [
      {
        rule: 'max_open_prs', over: over.open, report: ruleMode(s.policy, 'max_open_prs') === 'report',
        get reason(): Reasoned {
          const moving = adaptive ? ` (adaptive: moves between ${adaptive.floor} and ${adaptive.ceiling} with the review rate)` : '';
          return { code: 'budget_open_prs', message: `review budget full: ${formatReservedBudget({ ...counts, ...limits(s) })}${moving}`, details: { open_prs: counts.open_prs, live_leases: counts.live_leases, open_offers: counts.open_offers, max_open_prs: s.max_open_prs } };
        },
      },
      {
        rule: 'max_new_prs_per_hour', over: over.hourly, report: ruleMode(s.policy, 'max_new_prs_per_hour') === 'report',
        get reason(): Reasoned {
          return { code: 'budget_hourly', message: `hourly budget full: ${hourlyWords({ ...counts, ...limits(s) }, repo, now)}`, details: { prs_last_hour: counts.prs_last_hour, max_new_prs_per_hour: s.max_new_prs_per_hour } };
        },
      },
    ];
  }

  /**
   * Which limits one more unit (none for a task already counted) would exceed. The scheduler and
   * every accept ask this once per offer or lease: plain counts, no verdicts built (budgetVerdicts
   * builds them only for a repo over a limit, where a refusal or a dry-run hit needs their words).
   */
  private budgetOver(repo: RepoRuntime, now: number, alreadyCounted: boolean): { open: boolean; hourly: boolean } {
    return budgetExceeded(budgetCounts(this.state, repo, now), repo.settings, alreadyCounted ? 0 : 1);
  }

  /** True when the review budget refuses one more unit in the repo (a limit in report mode never does). */
  budgetThrottled(repo: RepoRuntime, now: number): boolean {
    const over = this.budgetOver(repo, now, false);
    if (!over.open && !over.hourly) return false;
    return this.budgetVerdicts(repo, now, false).some((v) => v.over && !v.report);
  }

  /** What the rules in report mode (policy rules and budget limits) would refuse if this task went to this worker now. */
  dryRunHits(task: TaskRecord, repo: RepoRuntime, w: WorkerRuntime, now: number): DryRunHit[] {
    const over = this.budgetOver(repo, now, false);
    const hits: DryRunHit[] = !over.open && !over.hourly ? [] : this.budgetVerdicts(repo, now, false).filter((v) => v.over && v.report).map((v) => ({ rule: v.rule, message: v.reason.message }));
    for (const v of this.explainPolicy?.({ task, worker: w.record, repo: repo.settings, state: this.state }) ?? []) {
      if (v.mode === 'report' && !v.passed) hits.push({ rule: v.rule, message: v.message });
    }
    return hits;
  }

  /** Repo-level reasons a task cannot be leased now (paused, area lock, budget). */
  repoReasons(task: TaskRecord, repo: RepoRuntime, now: number, opts: { alreadyCounted: boolean }): Reasoned[] {
    const reasons: Reasoned[] = [];
    const s = repo.settings;
    if (s.paused) reasons.push({ code: 'paused', message: `${s.repo} is paused by its maintainers` });
    if (task.area !== undefined) {
      const holder = repo.locks.get(task.area);
      if (holder !== undefined && holder !== task.id) {
        reasons.push({ code: 'area_locked', message: `area ${task.area} held by ${holder}`, details: { area: task.area, held_by: holder } });
      }
    }
    const over = this.budgetOver(repo, now, opts.alreadyCounted);
    if (over.open || over.hourly) for (const v of this.budgetVerdicts(repo, now, opts.alreadyCounted)) if (v.over && !v.report) reasons.push(v.reason);
    return reasons;
  }

  /** Worker-level reasons (capacity, skills, declared repos, trust, policy). */
  workerReasons(task: EligibilityTask, w: WorkerRuntime, opts: { holdingTask: boolean; forOffer?: boolean }): Reasoned[] {
    const reasons: Reasoned[] = [];
    const rec = w.record;
    if (rec.revoked) reasons.push({ code: 'revoked', message: `worker ${rec.id} is revoked` });
    if (opts.forOffer && !w.online) reasons.push({ code: 'offline', message: `worker ${rec.id} is offline` });
    const free = w.free + (opts.holdingTask ? (w.holding.get(task.id) ?? 0) : 0);
    if (free < task.effort) reasons.push({ code: 'capacity', message: `needs ${task.effort} free capacity points, worker has ${free}`, details: { effort: task.effort, free } });
    const missing = task.skills.filter((s) => !rec.skills.includes(s));
    if (missing.length > 0) reasons.push({ code: 'skills', message: `missing skill ${missing.join(', ')}`, details: { missing } });
    const repo = this.state.repos.get(task.repo);
    if (repo && !repoAdmits(repo.settings, rec.github_login)) reasons.push({ code: 'private_repo', message: `${task.repo} is private and its policy's logins.allow does not list worker ${rec.id}` });
    if (rec.repos !== undefined && rec.repos.length > 0 && !worksOn(rec.repos, task.repo)) {
      reasons.push({ code: 'repo', message: `${task.id} is in ${task.repo}; worker ${rec.id} works on ${rec.repos.join(', ')}`, details: { repo: task.repo, repos: rec.repos } });
    }
    if (rec.trust < task.tier) reasons.push({ code: 'trust', message: `tier ${task.tier} needs trust ≥ ${task.tier}, worker has ${rec.trust}`, details: { tier: task.tier, trust: rec.trust } });
    if (this.policy) {
      const refusal = repo ? this.policy({ task, worker: rec, repo: repo.settings, state: this.state }) : null;
      if (refusal) reasons.push({ ...refusal, code: refusal.code.startsWith('policy') ? refusal.code : `policy:${refusal.code}` });
    }
    return reasons;
  }

  /** Refuses a claim or an accept with the error code of its first reason. */
  assertEligible(task: TaskRecord, repo: RepoRuntime, w: WorkerRuntime, now: number, opts: { holdingTask: boolean }): void {
    const repoReasons = this.repoReasons(task, repo, now, { alreadyCounted: opts.holdingTask });
    const workerReasons = this.workerReasons(task, w, { holdingTask: opts.holdingTask });
    const first = repoReasons[0] ?? workerReasons[0];
    if (!first) return;
    const all = [...repoReasons, ...workerReasons];
    const details = { task_id: task.id, reasons: all };
    if (first.code === 'area_locked') throw new OwpError('AREA_LOCKED', `Task ${task.id} cannot be leased: ${first.message}. Pick a task in another area or wait.`, details);
    if (first.code.startsWith('budget')) throw new OwpError('BUDGET_EXHAUSTED', `${task.repo} is at its review budget: ${first.message}. Wait until PRs are reviewed.`, details);
    if (first.code.startsWith('policy')) throw new OwpError('POLICY_DENIED', `A policy rule of ${task.repo} refuses this: ${first.message}.`, { ...details, rule: first.details?.rule ?? first.code });
    throw new OwpError('NOT_ELIGIBLE', `You cannot take ${task.id}: ${all.map((r) => r.message).join('; ')}.`, details);
  }
}
