/**
 * Gates proven by CI (SPEC §5.5, CHECKS-001…): in a repo with `required_checks`, a verified
 * `pr_opened` report attaches the PR to the lease instead of counting it. The lease then needs no
 * heartbeat until the checks deadline (the volunteer may close the laptop while CI runs). The
 * code host's checks arrive through `task.report_checks` (the GitHub integration, or any CI bridge
 * with a maintainer token): once every required check succeeded on the PR's current head the PR
 * counts (`pr.opened`, the worker is told `pr.counted`); a new head restarts the wait; a deadline
 * that passes first sends the lease back to heartbeat mode with a fresh window, so a volunteer
 * who is gone loses the task by normal expiry, never silently to the maintainers.
 */
import type { CheckStatus, CheckView, PrChecks, PullRequestInfo, RepoSettings } from '../../protocol/model.ts';
import { REPO_SETTING_BOUNDS } from '../../protocol/model.ts';
import type { LeaseRecord, TaskRecord } from '../state/records.ts';
import type { Command } from './command.ts';

/** The repo's required checks ([] for repos configured before they existed). */
export function requiredChecks(settings: RepoSettings): string[] {
  return settings.required_checks ?? [];
}

function checksTimeoutMs(settings: RepoSettings): number {
  return settings.checks_timeout_ms ?? REPO_SETTING_BOUNDS.checks_timeout_ms.default;
}

/** success when every check succeeded (or none is required), failure when one failed, else pending. */
export function overallStatus(checks: readonly CheckView[]): CheckStatus {
  if (checks.some((c) => c.status === 'failure')) return 'failure';
  return checks.every((c) => c.status === 'success') ? 'success' : 'pending';
}

/** Attaches a verified PR to the task's lease: the wait for its required checks begins now. */
export function attachPr(cmd: Command, task: TaskRecord, lease: LeaseRecord, settings: RepoSettings, pr: PullRequestInfo): void {
  const now = cmd.now;
  const checks: CheckView[] = requiredChecks(settings).map((name) => ({ name, status: 'pending' }));
  const view: PrChecks = {
    status: 'pending',
    ...(pr.head_sha ? { head_sha: pr.head_sha } : {}),
    checks,
    started_at: now,
    deadline_at: now + checksTimeoutMs(settings),
    updated_at: now,
  };
  cmd.emit({ type: 'pr.attached', repo: task.repo, task_id: task.id, worker_id: lease.worker_id, data: { lease_id: lease.lease_id, pr, checks: view } });
  tellChecks(cmd, task, lease);
}

/**
 * What the code host shows on `headSha`: picks the required checks out of `reported` (the last
 * one of a name counts; a missing one is pending), writes the change, and counts the PR once
 * every required check succeeded. Writes nothing when nothing changed.
 */
export function recordChecks(cmd: Command, task: TaskRecord, lease: LeaseRecord, settings: RepoSettings, headSha: string, reported: readonly CheckView[]): void {
  const previous = task.checks as PrChecks;
  const now = cmd.now;
  const byName = new Map<string, CheckView>();
  for (const c of reported) byName.set(c.name, c);
  const checks: CheckView[] = requiredChecks(settings).map((name) => {
    const c = byName.get(name);
    return c ? { name, status: c.status, ...(c.url ? { url: c.url } : {}) } : { name, status: 'pending' };
  });
  // The first head a report names is the one the wait began on; only a different one restarts it.
  const restarted = previous.head_sha !== undefined && previous.head_sha !== headSha;
  const status = overallStatus(checks);
  const same = !restarted && previous.head_sha === headSha && previous.status === status && JSON.stringify(previous.checks) === JSON.stringify(checks);
  if (same) return;
  const next: PrChecks = {
    status,
    head_sha: headSha,
    checks,
    started_at: restarted ? now : previous.started_at,
    deadline_at: restarted ? now + checksTimeoutMs(settings) : previous.deadline_at,
    updated_at: now,
    ...(!restarted && previous.timed_out_at !== undefined ? { timed_out_at: previous.timed_out_at } : {}),
  };
  const refs = { repo: task.repo, task_id: task.id, worker_id: lease.worker_id };
  cmd.emit({ type: 'pr.checks_updated', ...refs, data: { lease_id: lease.lease_id, checks: next, restarted } });
  if (status !== 'success') {
    tellChecks(cmd, task, lease);
    return;
  }
  const pr: PullRequestInfo = { ...(task.pr as PullRequestInfo), head_sha: headSha, evidence: 'ci' };
  cmd.emit({ type: 'pr.opened', ...refs, data: { lease_id: lease.lease_id, pr } });
  cmd.notify({ workerId: lease.worker_id, name: 'pr.counted', payload: { task_id: task.id, lease_id: lease.lease_id, pr, checks: next } });
  cmd.scheduler.markWorker(lease.worker_id);
}

/**
 * A maintainer merged the PR while it still waited for its required checks (CHECKS-008): the merge
 * is the maintainers' decision, so the PR counts now (`pr.opened`, the lease ended, evidence
 * `maintainer`: neither CI nor the volunteer proved it) and the caller records the merge right
 * after, in the same write. The worker is told `pr.counted`, so its client lets the lease go.
 */
export function countMergedBeforeChecks(cmd: Command, task: TaskRecord, lease: LeaseRecord): void {
  const pr: PullRequestInfo = { ...(task.pr as PullRequestInfo), evidence: 'maintainer' };
  const checks = task.checks as PrChecks;
  cmd.emit({ type: 'pr.opened', repo: task.repo, task_id: task.id, worker_id: lease.worker_id, data: { lease_id: lease.lease_id, pr } });
  cmd.notify({ workerId: lease.worker_id, name: 'pr.counted', payload: { task_id: task.id, lease_id: lease.lease_id, pr, checks } });
  cmd.scheduler.markWorker(lease.worker_id);
}

/** The checks deadline passed: the lease goes back to heartbeat mode with a fresh window; the PR stays attached. */
export function timeOutChecks(cmd: Command, task: TaskRecord, lease: LeaseRecord, settings: RepoSettings): void {
  const now = cmd.now;
  const maxDeadline = now + settings.lease_max_duration_ms;
  cmd.emit({
    type: 'pr.checks_timed_out', repo: task.repo, task_id: task.id, worker_id: lease.worker_id,
    data: { lease_id: lease.lease_id, expires_at: Math.min(now + settings.heartbeat_timeout_ms, maxDeadline), max_deadline_at: maxDeadline },
  });
  tellChecks(cmd, task, lease);
}

/** Tells the holder where its attached PR stands (with the lease, which may have changed mode). */
function tellChecks(cmd: Command, task: TaskRecord, lease: LeaseRecord): void {
  if (!task.pr || !task.checks) return;
  cmd.notify({ workerId: lease.worker_id, name: 'pr.checks_updated', payload: { task_id: task.id, lease: cmd.state.leaseView(lease), pr: task.pr, checks: task.checks } });
}
