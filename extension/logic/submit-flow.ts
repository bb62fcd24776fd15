/**
 * The order of Submit PR, with every step passed in so the order itself is tested: gates first;
 * only when every required gate passed, push; only after a push, open the PR; only with a PR,
 * report pr_opened with the evidence. Each outcome names the step that stopped it, so the
 * message says what happened and the task is never reported further than it really got.
 */
import type { GateEvidence, PullRequestInfo } from '../../protocol/model.ts';

export interface SubmitSteps {
  runGates(): Promise<GateEvidence[]>;
  /** Gates the repo requires (contract gates ∪ the coordinator's required_gates). */
  requiredGates: readonly string[];
  push(): Promise<void>;
  openPullRequest(): Promise<{ url: string; number?: number }>;
  report(pr: PullRequestInfo): Promise<void>;
  branch: string;
  now?: () => number;
}

export type SubmitOutcome =
  | { step: 'gates'; evidence: GateEvidence[]; failed: GateEvidence[]; missing: string[] }
  | { step: 'push'; evidence: GateEvidence[]; error: Error }
  | { step: 'pull-request'; evidence: GateEvidence[]; error: Error }
  | { step: 'report'; evidence: GateEvidence[]; pr: PullRequestInfo; error: Error }
  | { step: 'done'; evidence: GateEvidence[]; pr: PullRequestInfo };

export async function submitPullRequest(steps: SubmitSteps): Promise<SubmitOutcome> {
  const evidence = await steps.runGates();
  const failed = evidence.filter((e) => !e.passed);
  const missing = steps.requiredGates.filter((name) => !evidence.some((e) => e.name === name && e.passed));
  if (failed.length > 0 || missing.length > 0) return { step: 'gates', evidence, failed, missing };
  try {
    await steps.push();
  } catch (error) {
    return { step: 'push', evidence, error: asError(error) };
  }
  let opened: { url: string; number?: number };
  try {
    opened = await steps.openPullRequest();
  } catch (error) {
    return { step: 'pull-request', evidence, error: asError(error) };
  }
  const pr: PullRequestInfo = { url: opened.url, branch: steps.branch, gates: evidence, opened_at: (steps.now ?? Date.now)() };
  if (opened.number !== undefined) pr.number = opened.number;
  try {
    await steps.report(pr);
  } catch (error) {
    return { step: 'report', evidence, pr, error: asError(error) };
  }
  return { step: 'done', evidence, pr };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** One sentence per failed or missing gate, for the notification. */
export function gateFailureMessage(outcome: Extract<SubmitOutcome, { step: 'gates' }>): string {
  const parts = outcome.failed.map((g) => {
    const firstLine = (g.summary ?? '').split('\n')[0] ?? '';
    return `${g.name} failed${firstLine ? `: ${firstLine}` : ''}`;
  });
  const notRun = outcome.missing.filter((name) => !outcome.failed.some((g) => g.name === name));
  if (notRun.length > 0) parts.push(`required gate${notRun.length === 1 ? '' : 's'} without a passing run: ${notRun.join(', ')}`);
  return parts.join('; ');
}
