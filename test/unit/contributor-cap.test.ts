/**
 * Policy rule contributor_cap: a contributor (a GitHub login, over every worker with it) holds at
 * most their cap of open PRs, live leases and offers in a repo, and the cap grows with their merged
 * PRs there and their trust. On the engine with the repo policy hook, as the coordinator runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRepoPolicy, explainRepoPolicy } from '../../coordinator/policy.ts';
import type { Principal } from '../../coordinator/auth.ts';
import { contributorCap, contributorInUse } from '../../protocol/contributor-cap.ts';
import { checkPolicyText, type ContributorCap } from '../../protocol/policy-schema.ts';
import { EngineHarness } from '../helpers/engine.ts';

const REPO = 'o/capped';
const ROOMY = { max_open_prs: 50, max_new_prs_per_hour: 50 };

function harness(cap: ContributorCap): EngineHarness {
  const h = new EngineHarness({ policy: checkRepoPolicy, explainPolicy: explainRepoPolicy });
  h.repo(REPO, { ...ROOMY, policy: { contributor_cap: cap } });
  return h;
}

function openPr(h: EngineHarness, w: Principal & { kind: 'worker' }, taskId: string, x_github?: Record<string, unknown>): void {
  const lease = [...h.engine.state.leases.values()].find((l) => l.task_id === taskId && l.worker_id === w.id);
  assert.ok(lease, `${w.id} holds a lease on ${taskId}`);
  h.ok(w, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/${REPO}/pull/1`, gates: [{ name: 'tests', passed: true }], ...(x_github ? { x_github } : {}) } });
}

function assertCapped(h: EngineHarness, w: Principal & { kind: 'worker' }, taskId: string): void {
  const outcome = h.run(w, 'task.claim', { task_id: taskId });
  assert.equal(outcome.error?.code, 'POLICY_DENIED', outcome.error?.message);
  assert.equal(outcome.error?.details?.rule, 'contributor_cap');
  assert.match(outcome.error?.message ?? '', /policy rule contributor_cap/);
  assert.equal(outcome.events.length, 0);
}

test('the cap arithmetic: base, plus per merge and per trust level, never past max; drafts count unless told not to', () => {
  const cap = { base: 2, per_merge: 3, per_trust: 1, max: 10 };
  assert.equal(contributorCap(cap, 0, 0), 2);
  assert.equal(contributorCap(cap, 1, 0), 5);
  assert.equal(contributorCap(cap, 1, 2), 7);
  assert.equal(contributorCap(cap, 5, 3), 10);
  assert.equal(contributorCap({ base: 5, per_merge: 5, max: 10 }, 1, 0), 10, 'TensorRT-LLM: 5, then 10 after the first merge');
  const counts = { open_prs: 3, draft_prs: 2, live_leases: 1, open_offers: 1, merged_prs: 0 };
  assert.equal(contributorInUse(counts, { base: 1 }), 5);
  assert.equal(contributorInUse(counts, { base: 1, count_drafts: false }), 3);
});

test('an open offer counts against the cap', () => {
  const h = harness({ base: 1 });
  const ada = h.worker({ github_login: 'ada', capacity: 5 });
  const first = h.task(REPO);
  const second = h.task(REPO);
  h.settle();
  assert.equal(h.offerOf(ada)?.task_id, first);
  h.ok(ada, 'offer.decline', { offer_id: h.offerOf(ada)?.offer_id });
  h.settle();
  // Declined, the first task cools down for ada; the second is offered, and now she holds 1 of 1.
  assert.equal(h.offerOf(ada)?.task_id, second);
  assertCapped(h, ada, first);
  const explained = h.ok(h.admin, 'task.explain', { task_id: first, worker_id: ada.id });
  const verdict = explained.policy.find((v: { rule: string }) => v.rule === 'contributor_cap');
  assert.equal(verdict.passed, false);
  assert.match(verdict.message, /holds 1 of their cap 1/);
});

test('a contributor with two workers is capped once, over both', () => {
  const h = harness({ base: 1 });
  const laptop = h.worker({ github_login: 'Ada', capacity: 5 });
  const desktop = h.worker({ github_login: 'ada', capacity: 5 });
  const bob = h.worker({ github_login: 'bob', capacity: 5 });
  const first = h.task(REPO);
  h.ok(desktop, 'task.claim', { task_id: first });
  const second = h.task(REPO);
  assertCapped(h, laptop, second);
  h.settle();
  assert.equal(h.offerOf(laptop), undefined, 'the other worker of the login is not offered past the cap');
  assert.equal(h.offerOf(bob)?.task_id, second, 'another contributor is');
});

test('an open PR holds the cap until it is merged, and the merge raises the cap', () => {
  const h = harness({ base: 1, per_merge: 1, max: 2 });
  const ada = h.worker({ github_login: 'ada', capacity: 5 });
  const tasks = [h.task(REPO), h.task(REPO), h.task(REPO), h.task(REPO)];
  h.ok(ada, 'task.claim', { task_id: tasks[0] });
  openPr(h, ada, tasks[0] as string);
  assertCapped(h, ada, tasks[1] as string);
  h.ok(h.admin, 'task.complete', { task_id: tasks[0], outcome: 'merged' });
  // One merged PR: a cap of 2, both free.
  h.ok(ada, 'task.claim', { task_id: tasks[1] });
  h.ok(ada, 'task.claim', { task_id: tasks[2] });
  assertCapped(h, ada, tasks[3] as string);
  // The merge count survives a restart from a snapshot.
  const restored = h.engine.state.toSnapshot();
  assert.deepEqual(restored.merged_by, { [REPO]: { ada: 1 } });
});

test('drafts count by default; with count_drafts: false a draft PR frees its unit', () => {
  for (const countDrafts of [true, false]) {
    const h = harness({ base: 1, count_drafts: countDrafts });
    const ada = h.worker({ github_login: 'ada', capacity: 5 });
    const first = h.task(REPO);
    const second = h.task(REPO);
    h.ok(ada, 'task.claim', { task_id: first });
    openPr(h, ada, first, { draft: true });
    if (countDrafts) assertCapped(h, ada, second);
    else h.ok(ada, 'task.claim', { task_id: second });
  }
});

test('with count_drafts: false, a PR that waited for CI as a draft and counted on its checks still counts', () => {
  const h = harness({ base: 1, count_drafts: false });
  h.ok(h.admin, 'repo.configure', { repo: REPO, required_checks: ['build'] });
  const ada = h.worker({ github_login: 'ada', capacity: 5 });
  const first = h.task(REPO);
  const second = h.task(REPO);
  h.ok(ada, 'task.claim', { task_id: first });
  const lease = [...h.engine.state.leases.values()].find((l) => l.task_id === first);
  h.ok(ada, 'lease.report', { lease_id: lease?.lease_id, epoch: lease?.epoch, state: 'pr_opened', pr: { url: `https://github.com/${REPO}/pull/1`, gates: [{ name: 'tests', passed: true }], head_sha: 'aaaaaaa', x_github: { draft: true } } });
  h.ok(h.admin, 'task.report_checks', { task_id: first, head_sha: 'aaaaaaa', checks: [{ name: 'build', status: 'success' }] });
  assert.equal(h.engine.state.tasks.get(first)?.state, 'pr_opened');
  assertCapped(h, ada, second);
});

test('logins on the bypass list are not capped; a policy with max below base gets a warning', () => {
  const h = harness({ base: 0, bypass: ['renovate-bot'] });
  const bot = h.worker({ github_login: 'Renovate-Bot', capacity: 5 });
  const ada = h.worker({ github_login: 'ada', capacity: 5 });
  const task = h.task(REPO);
  assertCapped(h, ada, task);
  h.ok(bot, 'task.claim', { task_id: task });
  const checked = checkPolicyText('contributor_cap:\n  base: 4\n  max: 2\n');
  assert.deepEqual(checked.diagnostics.map((d) => [d.severity, d.message]), [['warning', 'contributor_cap.max 2 is below base 4, so every contributor\'s cap is 2.']]);
});
