/**
 * A submitted PR's required CI checks as the volunteer sees them in VS Code: the rows under the
 * task in My work (one per check, its state and link), and the notification texts when a check
 * fails or the PR counts. Check names and links come from the code host: plain text here, the
 * links only http(s).
 */
import type { NotificationPayload } from '../../protocol/operations.ts';
import type { Task } from '../../protocol/model.ts';
import { checksSummary, newlyFailed, type CheckView } from '../../client/pr-checks.ts';
import { evidenceLabel, prProgress, type PrProgress } from '../../client/checks-wait.ts';
import { escapeMarkdown, plainText, safeHttpUrl } from './markdown.ts';
import type { TreeItemView } from './view-models.ts';

/** A check row: a tree row with the check's page, if it has one. */
export type CheckItemView = TreeItemView & { url?: string };

/** A check row's contextValue: "Open check" is offered on rows with a link. */
export const CHECK_ITEM_KIND = 'prCheck';

const ICONS: Record<CheckView['status'], string> = { pending: 'clock', success: 'pass', failure: 'error' };
const SAID: Record<CheckView['status'], string> = { pending: 'pending', success: 'passed', failure: 'failed' };

const PHASE_LABEL: Record<PrProgress['phase'], string> = {
  none: '',
  waiting: 'waiting for CI',
  failed: 'a required check failed',
  timed_out: 'CI missed its deadline',
  counted: 'counts',
  gone: '',
};

/** The line added to the task's description while its PR waits: "waiting for CI · 1 of 2 required checks passed". */
export function checksDescription(task: Pick<Task, 'state' | 'pr' | 'checks'> | undefined): string | undefined {
  if (!task) return undefined;
  const progress = prProgress(task);
  if (progress.phase === 'none' || progress.phase === 'gone' || !progress.checks) return undefined;
  return `${PHASE_LABEL[progress.phase]} · ${checksSummary(progress.checks.checks)}`;
}

/** The rows under a task in My work: one per required check, then the PR's evidence once it counts. */
export function checkItems(task: Pick<Task, 'id' | 'state' | 'pr' | 'checks'> | undefined, leaseId: string): CheckItemView[] {
  if (!task) return [];
  const progress = prProgress(task);
  if (progress.phase === 'none' || !progress.checks) return [];
  const rows: CheckItemView[] = progress.checks.checks.map((check) => {
    const url = check.url ? safeHttpUrl(check.url) : undefined;
    const name = plainText(check.name);
    return {
      id: `check:${leaseId}:${check.name}`,
      label: name,
      description: SAID[check.status],
      tooltip: [`Required check **${escapeMarkdown(name)}** ${SAID[check.status]}`, url ? `Details: ${escapeMarkdown(url)}` : 'No details link reported.'].join('  \n'),
      contextValue: url ? CHECK_ITEM_KIND : `${CHECK_ITEM_KIND}NoLink`,
      icon: ICONS[check.status],
      taskId: task.id,
      leaseId,
      ...(url ? { url } : {}),
    };
  });
  if (progress.phase === 'timed_out') {
    rows.push({ id: `check:${leaseId}:#deadline`, label: 'CI did not finish before the checks deadline', description: 'keep VS Code open', tooltip: 'The PR still counts once its checks pass; meanwhile the lease needs heartbeats again.', contextValue: `${CHECK_ITEM_KIND}NoLink`, icon: 'watch', taskId: task.id, leaseId });
  }
  return rows;
}

/** The warning for each check that failed since the last update (none when nothing newly failed). */
export function failureNotices(before: Pick<Task, 'checks'> | undefined, now: NotificationPayload<'pr.checks_updated'>, title: string): Array<{ text: string; url?: string }> {
  return newlyFailed(before?.checks?.checks, now.checks.checks).map((check) => {
    const url = check.url ? safeHttpUrl(check.url) : undefined;
    return {
      text: `OWP: ${now.task_id} ${plainText(title)}: the required check "${plainText(check.name)}" failed on your PR. Fix it, commit and Submit PR again: the push restarts the wait. The task stays yours.`,
      ...(url ? { url } : {}),
    };
  });
}

/** What the volunteer is told when the PR counts (and whether the draft was taken out of draft). */
export function countedNotice(payload: NotificationPayload<'pr.counted'>, ready: 'marked' | 'was-ready' | 'no-token' | { failed: string }): string {
  const evidence = evidenceLabel({ evidence: payload.pr.evidence ?? 'ci', checks: payload.checks });
  const base = `OWP: ${payload.task_id} counts as opened, ${evidence}.`;
  if (ready === 'marked') return `${base} Your draft PR is now ready for review.`;
  if (ready === 'was-ready') return base;
  if (ready === 'no-token') return `${base} Sign in to GitHub (or set a token) and press "Ready for review" on the PR.`;
  return `${base} It is still a draft: ${ready.failed}`;
}

/** The submit message's tail: waiting for CI, or how the evidence reads. */
export function submittedTail(task: Pick<Task, 'state' | 'pr' | 'checks'> | undefined): string {
  if (!task) return '';
  const progress = prProgress(task);
  if (progress.phase === 'counted') return ` Evidence: ${evidenceLabel(progress)}.`;
  if (progress.checks) return ` It counts once the required CI checks pass (${checksSummary(progress.checks.checks)}); My work shows them.`;
  return '';
}
