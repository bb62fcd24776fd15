/**
 * My work's Submitted group (issue 16): the PRs this worker opened after their leases ended, each
 * with the maintainers' side (open, in review / merged / closed) and its required CI checks, as
 * `worker.prs` reads them. Titles, check names and reasons come from outside: plain text in the
 * labels, escaped in the tooltips, links only http(s).
 */
import type { SubmittedPr } from '../../protocol/model.ts';
import { checkLine } from '../../client/pr-checks.ts';
import { PR_STATE_WORDS, prName, submittedSummary } from '../../client/submitted-prs.ts';
import { TREE_ITEM_KINDS } from '../constants.ts';
import { escapeMarkdown, plainText, safeHttpUrl } from './markdown.ts';
import type { TreeItemView } from './view-models.ts';

/** The group's id; its rows' ids start with `submitted:`. */
export const SUBMITTED_GROUP_ID = 'submitted';

/** A submitted PR's row: a tree row with the PR's page, if it has a safe one. */
export type SubmittedItemView = TreeItemView & { url?: string };

const ICONS: Record<SubmittedPr['state'], string> = { pr_opened: 'git-pull-request', merged: 'git-merge', closed: 'git-pull-request-closed' };

/** "2 open · 1 merged · 1 closed": the group's description. */
function counts(prs: readonly SubmittedPr[]): string {
  const by = (state: SubmittedPr['state']): number => prs.filter((p) => p.state === state).length;
  return [`${by('pr_opened')} open`, `${by('merged')} merged`, `${by('closed')} closed`].join(' · ');
}

/** The group row, or none when this worker has no PR in the window. */
export function submittedGroup(prs: readonly SubmittedPr[]): TreeItemView | undefined {
  if (prs.length === 0) return undefined;
  return {
    id: SUBMITTED_GROUP_ID,
    label: 'Submitted',
    description: counts(prs),
    tooltip: 'The pull requests you opened through OWP: open (waiting for the maintainers\' review), merged or closed. You are told when one is merged or closed, and when your trust changes.',
    contextValue: TREE_ITEM_KINDS.submittedGroup,
    icon: 'git-pull-request-create',
    taskId: '',
  };
}

/** One row per PR, newest change first (the order `worker.prs` answers in). */
export function submittedItems(prs: readonly SubmittedPr[]): SubmittedItemView[] {
  return prs.map((pr) => {
    const url = safeHttpUrl(pr.pr.url);
    const lines = [
      `**${escapeMarkdown(pr.task_id)}** · ${escapeMarkdown(pr.repo)}`,
      '',
      `**${escapeMarkdown(pr.title)}**`,
      '',
      `${escapeMarkdown(prName(pr.pr))}: ${escapeMarkdown(PR_STATE_WORDS[pr.state])}${url ? ` · [open on GitHub](${url})` : ''}`,
    ];
    if (pr.checks) lines.push('', '**Required checks**', '', ...pr.checks.checks.map((c) => `- ${escapeMarkdown(checkLine({ name: c.name, status: c.status }))}`));
    if (pr.closed_reason) lines.push('', escapeMarkdown(pr.closed_reason));
    return {
      id: `submitted:${pr.task_id}`,
      label: `${pr.task_id} ${plainText(pr.title, 120)}`,
      description: plainText(submittedSummary(pr), 200),
      tooltip: lines.join('  \n'),
      contextValue: url ? TREE_ITEM_KINDS.submittedPr : TREE_ITEM_KINDS.submittedPrNoLink,
      icon: ICONS[pr.state],
      taskId: pr.task_id,
      ...(url ? { url } : {}),
    };
  });
}
