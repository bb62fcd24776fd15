/**
 * How a submitted PR reads and what is announced between two reads of `worker.prs` (issue 16),
 * in the shared client module and in My work's Submitted group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubmittedPr } from '../../protocol/model.ts';
import { submittedNotices, submittedSummary } from '../../client/submitted-prs.ts';
import { submittedGroup, submittedItems } from '../../extension/logic/submitted-items.ts';

function pr(taskId: string, state: SubmittedPr['state'], fields: Partial<SubmittedPr> = {}): SubmittedPr {
  return { task_id: taskId, repo: 'acme/site', title: `Task ${taskId}`, state, pr: { url: `https://github.com/acme/site/pull/${taskId.slice(2)}`, number: Number(taskId.slice(2)), gates: [] }, updated_at: 1000, ...fields };
}

const CHECKS = { status: 'success' as const, checks: [{ name: 'build', status: 'success' as const }, { name: 'lint', status: 'failure' as const }], started_at: 1, deadline_at: 2, updated_at: 1 };

test('a PR reads with the maintainers\' side and its required checks', () => {
  assert.equal(submittedSummary(pr('T-12', 'pr_opened')), 'PR #12 open, in review · no required CI checks');
  assert.equal(submittedSummary(pr('T-12', 'merged', { checks: CHECKS })), 'PR #12 merged · 1 of 2 required checks passed; lint failed');
  assert.equal(submittedSummary(pr('T-3', 'closed', { pr: { url: 'https://github.com/acme/site/pull/77', gates: [] } })), 'PR #77 closed without merging · no required CI checks');
});

test('the first read announces nothing; later reads announce each merge, close and trust change once', () => {
  const open = { prs: [pr('T-1', 'pr_opened'), pr('T-2', 'pr_opened')], trust: 0 };
  assert.deepEqual(submittedNotices(undefined, { prs: [pr('T-1', 'merged')], trust: 2 }), []);
  assert.deepEqual(submittedNotices(open, open), []);
  const decided = { prs: [pr('T-1', 'merged'), pr('T-2', 'closed', { closed_reason: 'duplicate of #4' }), pr('T-5', 'merged')], trust: 1 };
  const notices = submittedNotices(open, decided);
  assert.deepEqual(notices.map((n) => n.kind), ['merged', 'closed', 'merged', 'trust']);
  assert.match(notices[0]!.text, /PR #1 for T-1 "Task T-1" in acme\/site was merged/);
  assert.match(notices[1]!.text, /closed without merging: duplicate of #4\.$/);
  assert.match(notices[3]!.text, /trust rose from 0 to 1: tasks up to tier 1/);
  assert.deepEqual(submittedNotices(decided, decided), [], 'nothing twice');
  assert.match(submittedNotices(decided, { ...decided, trust: 0 })[0]!.text, /went from 1 to 0: tasks above tier 0 are no longer offered/);
});

test('the Submitted group counts by state; rows keep outside text plain and links http(s) only', () => {
  assert.equal(submittedGroup([]), undefined);
  const hostile = pr('T-9', 'pr_opened', { title: 'Fix [this](command:workbench.action.terminal.new) <img src=x>', pr: { url: 'javascript:alert(1)', number: 9, gates: [] }, checks: { ...CHECKS, checks: [{ name: '**bold** [x](y)', status: 'pending' }] } });
  const group = submittedGroup([hostile, pr('T-1', 'merged'), pr('T-2', 'merged'), pr('T-3', 'closed')]);
  assert.equal(group?.description, '1 open · 2 merged · 1 closed');
  const [row, merged] = submittedItems([hostile, pr('T-1', 'merged')]);
  assert.equal(row?.url, undefined, 'no link but http(s)');
  assert.equal(row?.contextValue, 'submittedPrNoLink');
  assert.equal(row?.icon, 'git-pull-request');
  assert.equal(row?.label, 'T-9 Fix ‹this›(command:workbench.action.terminal.new) <img src=x>');
  assert.doesNotMatch(row?.tooltip ?? '', /\[this\]\(command|<img|\*\*bold\*\*/);
  assert.equal(merged?.url, 'https://github.com/acme/site/pull/1');
  assert.equal(merged?.icon, 'git-merge');
  assert.equal(merged?.description, 'PR #1 merged · no required CI checks');
});
