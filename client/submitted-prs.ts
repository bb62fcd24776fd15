/**
 * A volunteer's submitted PRs after the lease ended (issue 16): opening a PR ends the lease, so
 * without this the PR vanished from every client. One home for the CLI (`owp status`) and the
 * extension (My work's Submitted group and its notifications): how a PR reads ("PR #12 open, in
 * review · 2 of 2 required checks passed"), and what changed between two reads of `worker.prs`
 * that a person should hear about (merged, closed, trust). Pure: the callers do the reading.
 */
import { listAll } from '../protocol/list-pages.ts';
import type { SubmittedPr } from '../protocol/model.ts';
import type { Params, Result } from '../protocol/operations.ts';
import { checksSummary } from './pr-checks.ts';

/** The maintainers' side of a PR: still open (in review), merged or closed. */
export const PR_STATE_WORDS: Record<SubmittedPr['state'], string> = {
  pr_opened: 'open, in review',
  merged: 'merged',
  closed: 'closed without merging',
};

/** "PR #12" or, without a number, the URL's last part. */
export function prName(pr: Pick<SubmittedPr['pr'], 'url' | 'number'>): string {
  if (pr.number !== undefined) return `PR #${pr.number}`;
  const tail = /\/pull\/(\d+)/.exec(pr.url)?.[1];
  return tail ? `PR #${tail}` : 'PR';
}

/** "PR #12 open, in review · 2 of 2 required checks passed" (the checks part only where the repo requires some). */
export function submittedSummary(pr: SubmittedPr): string {
  const parts = [`${prName(pr.pr)} ${PR_STATE_WORDS[pr.state]}`];
  if (pr.checks) parts.push(checksSummary(pr.checks.checks));
  else if (pr.pr.evidence === 'self_reported' || pr.pr.evidence === undefined) parts.push('no required CI checks');
  return parts.join(' · ');
}

export type SubmittedNotice =
  | { kind: 'merged' | 'closed'; pr: SubmittedPr; text: string }
  | { kind: 'trust'; from: number; to: number; text: string };

/** What a read of `worker.prs`, compared with the one before it, is worth telling the volunteer. */
export interface SubmittedRead {
  prs: readonly SubmittedPr[];
  trust: number;
}

/** Every page of `worker.prs` (PAGE-001), newest first, with the trust the last page gave. */
export async function readSubmitted(send: (params: Params<'worker.prs'>) => Promise<Result<'worker.prs'>>): Promise<SubmittedRead> {
  let trust = 0;
  const prs = await listAll(async (params) => {
    const page = await send(params);
    trust = page.trust;
    return page;
  }, 'worker.prs', {});
  return { prs, trust };
}

/**
 * The notices between two reads: each PR seen open before and merged or closed now, and a trust
 * change. The first read (`before` undefined) tells nothing: those outcomes are old news, listed
 * in the group, not announced every time an editor starts. A PR first seen already merged (it
 * was opened and merged between two reads) is announced too, since the volunteer never saw it
 * decided.
 */
export function submittedNotices(before: SubmittedRead | undefined, now: SubmittedRead): SubmittedNotice[] {
  if (!before) return [];
  const was = new Map(before.prs.map((p) => [p.task_id, p.state]));
  const notices: SubmittedNotice[] = [];
  for (const pr of now.prs) {
    if (pr.state === 'pr_opened' || was.get(pr.task_id) === pr.state) continue;
    const title = oneLine(pr.title);
    const text = pr.state === 'merged'
      ? `OWP: your ${prName(pr.pr)} for ${pr.task_id} "${title}" in ${pr.repo} was merged. Thank you!`
      : `OWP: your ${prName(pr.pr)} for ${pr.task_id} "${title}" in ${pr.repo} was closed without merging${pr.closed_reason ? `: ${oneLine(pr.closed_reason)}` : ''}.`;
    notices.push({ kind: pr.state, pr, text });
  }
  if (now.trust !== before.trust) {
    const text = now.trust > before.trust
      ? `OWP: your trust rose from ${before.trust} to ${now.trust}: tasks up to tier ${now.trust} can now be offered to you.`
      : `OWP: your trust went from ${before.trust} to ${now.trust}: tasks above tier ${now.trust} are no longer offered to you.`;
    notices.push({ kind: 'trust', from: before.trust, to: now.trust, text });
  }
  return notices;
}

/** Untrusted text (titles, reasons) on one short line, without control characters. */
function oneLine(text: string, max = 100): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
