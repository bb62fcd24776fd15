/**
 * Gates proven by CI, on GitHub (SPEC §5.5, CHECKS-*): for every task whose verified PR waits for
 * the repo's required checks, the coordinator reads the PR's *current* head from GitHub, then the
 * check runs (`GET …/commits/{sha}/check-runs`, Checks: read) and the combined commit status
 * (`GET …/commits/{sha}/status`, Commit statuses: read) on that head, and reports them with
 * `task.report_checks`; the engine counts the PR once every required check succeeded there. A
 * new push changes the head and so restarts the wait. Webhooks (`check_run`, `check_suite`,
 * `status`, `pull_request` synchronize) only say *when* to look: what counts is always read back
 * from GitHub, so a forged delivery cannot make a PR count. Polling catches what webhooks miss.
 * A PR merged or closed while it waits ends the wait: merged completes the task, closed requeues it.
 */
import { createHash } from 'node:crypto';
import type { CheckStatus, CheckView } from '../../protocol/model.ts';
import type { TaskRecord } from '../state/records.ts';
import type { GitHubCheckRun, GitHubStatus } from './client.ts';
import { prNumberOf, type ConnectedRepo, type IntegrationContext } from './context.ts';

/** Conclusions GitHub's branch protection accepts as passing. */
const PASSING = new Set(['success', 'neutral', 'skipped']);

export function checkRunStatus(run: GitHubCheckRun): CheckStatus {
  if (run.status !== 'completed') return 'pending';
  return PASSING.has(run.conclusion ?? '') ? 'success' : 'failure';
}

export function commitStatusStatus(status: GitHubStatus): CheckStatus {
  if (status.state === 'success') return 'success';
  return status.state === 'failure' || status.state === 'error' ? 'failure' : 'pending';
}

function httpUrl(url: string | null | undefined): string | undefined {
  return url && /^https?:\/\//.test(url) && url.length <= 2000 ? url : undefined;
}

/** What GitHub shows on a commit, as check views: statuses first, then check runs (a check run wins a shared name). */
export function checkViews(runs: readonly GitHubCheckRun[], statuses: readonly GitHubStatus[]): CheckView[] {
  const out: CheckView[] = [];
  const view = (name: string, status: CheckStatus, url: string | undefined): CheckView => ({ name: name.slice(0, 255), status, ...(url ? { url } : {}) });
  // The combined status lists the latest status per context; check runs come newest first (the `latest` filter), so the first of a name is the one in force.
  for (const s of statuses) if (s.context) out.push(view(s.context, commitStatusStatus(s), httpUrl(s.target_url)));
  const seen = new Set<string>();
  for (const r of runs) {
    if (!r.name || seen.has(r.name)) continue;
    seen.add(r.name);
    out.push(view(r.name, checkRunStatus(r), httpUrl(r.details_url) ?? httpUrl(r.html_url)));
  }
  return out;
}

/** A task whose PR is attached to a live lease and waits for checks (also after its deadline passed). */
export function awaitingChecks(task: TaskRecord): boolean {
  return (task.state === 'leased' || task.state === 'in_progress') && task.pr !== undefined && task.checks !== undefined && task.current_lease_id !== undefined;
}

export class ChecksSync {
  constructor(
    private readonly repo: ConnectedRepo,
    private readonly ctx: IntegrationContext,
  ) {}

  /** The tasks of this repo waiting for checks, optionally only the one for PR `number`. */
  waiting(number?: number): TaskRecord[] {
    return this.ctx.tasksOf(this.repo.config.repo).filter((t) => awaitingChecks(t) && (number === undefined || prNumberOf(t, this.repo, this.ctx.config.web_url) === number));
  }

  /**
   * The PR was closed without merging before its checks passed: nobody will review it, so the
   * lease is cancelled (MAINT-004): the task goes back to ready, counting an attempt, and the
   * volunteer is told why through `lease.cancelled`. Waiting on would hold the budget unit and the
   * area lock until the checks deadline for a PR that cannot count.
   */
  private async closedWhileWaiting(task: TaskRecord, number: number): Promise<void> {
    const current = this.ctx.task(task.id);
    const leaseId = current?.current_lease_id;
    if (!current || !awaitingChecks(current) || !leaseId) return;
    const reason = `PR #${number} was closed on GitHub before its required checks passed; the task is offered again`;
    await this.ctx.call('lease.cancel', { lease_id: leaseId, reason, idempotency_key: `github:closed-waiting:${task.id}:${leaseId}` });
    this.ctx.log.info({ repo: this.repo.config.repo, task_id: task.id, pr: number, lease_id: leaseId }, `${this.repo.config.repo} ${task.id}: PR #${number} closed while waiting for checks; lease ${leaseId} cancelled, task back to ready`);
  }

  /**
   * The PR was merged before its checks passed: merging is the maintainers' decision, so the task
   * completes as merged (CHECKS-008): journaled, the volunteer told, trust as for any merge.
   * Waiting on would hold the task as "waiting for CI" until the checks deadline for a PR that is in.
   */
  private async mergedWhileWaiting(task: TaskRecord, number: number): Promise<void> {
    const current = this.ctx.task(task.id);
    if (!current || !awaitingChecks(current)) return;
    await this.ctx.call('task.complete', {
      task_id: task.id,
      outcome: 'merged',
      reason: `PR #${number} merged on GitHub before its required checks passed`,
      idempotency_key: `github:merged-waiting:${task.id}:${number}`,
    });
    this.ctx.log.info({ repo: this.repo.config.repo, task_id: task.id, pr: number }, `${this.repo.config.repo} ${task.id} merged (PR #${number}, before its required checks passed)`);
  }

  /** Reads the PR's head and its checks from GitHub and reports them (nothing when nothing changed). */
  async refresh(task: TaskRecord): Promise<void> {
    const { owner, name, client } = this.repo;
    const number = prNumberOf(task, this.repo, this.ctx.config.web_url);
    if (number === undefined) return;
    const pull = await client.pull(owner, name, number);
    if (!pull) return;
    if (pull.state === 'closed') return pull.merged_at ? this.mergedWhileWaiting(task, number) : this.closedWhileWaiting(task, number);
    const sha = pull.head.sha;
    const [runs, combined] = await Promise.all([client.checkRuns(owner, name, sha), client.combinedStatus(owner, name, sha)]);
    const checks = checkViews(runs, combined.statuses);
    const current = this.ctx.task(task.id);
    if (!current?.checks || !awaitingChecks(current)) return;
    const required = current.checks.checks.map((c) => c.name);
    const byName = new Map<string, CheckView>();
    for (const c of checks) if (required.includes(c.name)) byName.set(c.name, c);
    const relevant = [...byName.values()];
    // What the engine would record; when it is what it holds already, there is nothing to report.
    const expected = required.map((n) => byName.get(n) ?? { name: n, status: 'pending' });
    if (current.checks.head_sha === sha && JSON.stringify(current.checks.checks) === JSON.stringify(expected)) return;
    const digest = createHash('sha256').update(JSON.stringify([current.current_lease_id, current.checks.updated_at, sha, relevant])).digest('hex').slice(0, 24);
    await this.ctx.call('task.report_checks', { task_id: task.id, head_sha: sha, checks: relevant, idempotency_key: `github:checks:${task.id}:${digest}` });
    this.ctx.log.info({ repo: this.repo.config.repo, task_id: task.id, pr: number, head_sha: sha, checks: relevant }, `${this.repo.config.repo} ${task.id}: checks on PR #${number} (${sha.slice(0, 7)}) reported`);
  }
}
