/**
 * How the CLI says where a submitted PR stands with the repo's required CI checks: the check lines
 * (with links), what the volunteer does next, and marking the draft ready for review once it
 * counts. `owp submit` (and its --wait), `owp status` and `owp worker` share it.
 */
import type { Task } from '../protocol/model.ts';
import { checkLine, checksSummary } from '../client/pr-checks.ts';
import { evidenceLabel, markCountedReady, type PrProgress } from '../client/checks-wait.ts';
import { ReadyForReviewError } from '../client/ready-for-review.ts';
import type { Output } from './output.ts';

/** The lines under a task: each required check, with its link. */
export function checkLines(progress: PrProgress): string[] {
  return (progress.checks?.checks ?? []).map((c) => checkLine(c));
}

/** One paragraph for the phase, then the check lines. */
export function sayProgress(out: Output, taskId: string, progress: PrProgress): void {
  const pr = progress.pr?.url ?? 'the PR';
  const summary = progress.checks ? checksSummary(progress.checks.checks) : '';
  const lines = checkLines(progress);
  const data = { task_id: taskId, phase: progress.phase, lines, pr: progress.pr, checks: progress.checks };
  switch (progress.phase) {
    case 'waiting':
      out.info(`${taskId}: ${pr} waits for CI: ${summary}`, data);
      break;
    case 'failed':
      out.error(`${taskId}: a required check failed on ${pr}: ${summary}. Fix it, commit, and run \`owp submit\` again (the push restarts the wait); the task is still yours.`, data);
      break;
    case 'timed_out':
      out.warn(`${taskId}: CI did not finish on ${pr} before the checks deadline (${summary}). The PR still counts once they pass, but the lease needs heartbeats again: keep \`owp worker\` running.`, data);
      break;
    case 'counted':
      out.success(`${taskId}: ${pr} counts as opened, ${evidenceLabel(progress)}`, data);
      return;
    case 'gone':
      out.warn(`${taskId}: the task left you before ${pr} counted.`, data);
      return;
    case 'none':
      return;
  }
  if (!out.json) for (const line of lines) out.block(`    ${line}`);
}

/**
 * A PR that counts on CI is taken out of draft with the volunteer's token. Self-reported PRs stay
 * as opened: nothing proved them yet, so a maintainer (or the volunteer) decides.
 */
export async function readyWhenCounted(out: Output, task: Task, progress: PrProgress, github: { token: string | undefined; apiBaseUrl: string }): Promise<void> {
  if (progress.phase !== 'counted' || progress.evidence !== 'ci' || !progress.pr) return;
  if (!github.token) {
    out.info(`${task.id}: set GITHUB_TOKEN to have the draft marked ready for review, or press "Ready for review" on ${progress.pr.url}.`);
    return;
  }
  try {
    const ready = await markCountedReady(progress.pr, { token: github.token, apiBaseUrl: github.apiBaseUrl });
    if (ready.changed) out.success(`${task.id}: marked ${ready.url} ready for review`, { task_id: task.id, ready_for_review: ready.url });
  } catch (error) {
    if (!(error instanceof ReadyForReviewError) && !(error instanceof Error)) throw error;
    out.warn(`${task.id}: the PR counts, but it is still a draft: ${(error as Error).message}`, { task_id: task.id });
  }
}
