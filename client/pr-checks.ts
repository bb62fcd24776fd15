/**
 * How a PR's required CI checks read to the volunteer, one home for the CLI and the extension:
 * the coordinator reports each required check (a check run's name or a commit status's context
 * on the PR's head) as pending, success or failure with its link, and these turn that into the
 * lines, the summary and the "newly failed" set both clients show.
 */

export type CheckState = 'pending' | 'success' | 'failure';

export interface CheckView {
  name: string;
  status: CheckState;
  /** The check's page on GitHub (details_url / target_url), when it has one. */
  url?: string;
}

const MARK: Record<CheckState, string> = { pending: '…', success: '✓', failure: '✗' };

/** `✗ build failed — https://…` */
export function checkLine(check: CheckView): string {
  const said = check.status === 'pending' ? 'pending' : check.status === 'success' ? 'passed' : 'failed';
  return `${MARK[check.status]} ${check.name} ${said}${check.url ? ` — ${check.url}` : ''}`;
}

/** `1 of 3 required checks passed; build failed; lint pending` */
export function checksSummary(checks: readonly CheckView[]): string {
  if (checks.length === 0) return 'no required checks';
  const passed = checks.filter((c) => c.status === 'success').length;
  const failed = checks.filter((c) => c.status === 'failure').map((c) => c.name);
  const pending = checks.filter((c) => c.status === 'pending').map((c) => c.name);
  const parts = [`${passed} of ${checks.length} required check${checks.length === 1 ? '' : 's'} passed`];
  if (failed.length > 0) parts.push(`${failed.join(', ')} failed`);
  if (pending.length > 0) parts.push(`${pending.join(', ')} pending`);
  return parts.join('; ');
}

/** Checks that fail now but did not before (a notification each, once per failure). */
export function newlyFailed(before: readonly CheckView[] | undefined, now: readonly CheckView[]): CheckView[] {
  const was = new Map((before ?? []).map((c) => [c.name, c.status]));
  return now.filter((c) => c.status === 'failure' && was.get(c.name) !== 'failure');
}
