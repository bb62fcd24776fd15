/**
 * The adaptive review budget (`.owp/policy.yml` `budget.adaptive`): the effective max_open_prs
 * follows how fast the maintainers review, between a floor and a ceiling — +increase on a PR merged
 * within the target review time, ×decrease_factor on one merged later or closed unmerged — and each
 * change is journaled (budget.adapted) with its reason. The arithmetic is protocol/budget.ts; the
 * engine runs it with the repo policy hooks, as the coordinator does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { adaptBudget, clampAdaptive, reviewBudget } from '../../protocol/budget.ts';
import { checkPolicyText, type AdaptiveBudget } from '../../protocol/policy-schema.ts';
import { checkRepoPolicy, explainRepoPolicy } from '../../coordinator/policy.ts';
import { State } from '../../coordinator/state/state.ts';
import { EngineHarness } from '../helpers/engine.ts';
import type { Principal } from '../../coordinator/auth.ts';

const REPO = 'o/adaptive';
const HOUR = 3_600_000;
const RULE: AdaptiveBudget = { floor: 2, ceiling: 6, target_review_hours: 24 };

test('adaptBudget: +increase on a PR merged in time, ×decrease_factor rounded down otherwise, always within floor and ceiling', () => {
  assert.deepEqual(adaptBudget(4, RULE, { outcome: 'merged', review_ms: 3 * HOUR }), { from: 4, to: 5, change: 'increase', reason: 'PR merged after 3 h, within the target 24 h: +1 (ceiling 6)' });
  assert.deepEqual(adaptBudget(6, RULE, { outcome: 'merged', review_ms: 0 }), { from: 6, to: 6, change: 'increase', reason: 'PR merged after 0 h, within the target 24 h: +1, held at the ceiling 6' }, 'the ceiling holds');
  assert.equal(adaptBudget(3, RULE, { outcome: 'closed', review_ms: 0 }).reason, 'PR closed unmerged after 0 h: ×0.5, held at the floor 2');
  assert.deepEqual(adaptBudget(5, RULE, { outcome: 'closed', review_ms: HOUR }), { from: 5, to: 2, change: 'decrease', reason: 'PR closed unmerged after 1 h: ×0.5 (floor 2)' });
  assert.equal(adaptBudget(6, RULE, { outcome: 'merged', review_ms: 30 * HOUR }).to, 3, 'a slow merge halves it');
  assert.equal(adaptBudget(3, { ...RULE, increase: 2, decrease_factor: 0.75 }, { outcome: 'merged', review_ms: 24 * HOUR }).to, 5, 'exactly on target is in time');
  assert.equal(adaptBudget(3, { ...RULE, decrease_factor: 0.75 }, { outcome: 'closed', review_ms: 0 }).to, 2);
  // Any history of outcomes, from any starting value, stays within the bounds.
  const rule = fc.record({ floor: fc.nat({ max: 20 }), span: fc.nat({ max: 20 }), target_review_hours: fc.double({ min: 0.01, max: 100, noNaN: true }), increase: fc.integer({ min: 1, max: 5 }), decrease_factor: fc.double({ min: 0.01, max: 0.99, noNaN: true }) })
    .map(({ span, ...r }) => ({ ...r, ceiling: r.floor + span }));
  const outcome = fc.record({ outcome: fc.constantFrom('merged' as const, 'closed' as const), review_ms: fc.nat({ max: 200 * HOUR }) });
  fc.assert(fc.property(rule, fc.nat({ max: 1000 }), fc.array(outcome, { maxLength: 50 }), (r, start, outcomes) => {
    let value = clampAdaptive(start, r);
    for (const o of outcomes) {
      const next = adaptBudget(value, r, o);
      assert.ok(next.to >= r.floor && next.to <= r.ceiling, `${next.to} outside [${r.floor}, ${r.ceiling}]`);
      assert.ok(next.change === 'increase' ? next.to >= value : next.to <= value, 'it moves only the way its change says');
      value = next.to;
    }
  }), { numRuns: 300 });
});

function setup(policy: Record<string, unknown>, maxOpen = 4): { h: EngineHarness; ada: Principal & { kind: 'worker' } } {
  const h = new EngineHarness({ policy: checkRepoPolicy, explainPolicy: explainRepoPolicy });
  h.repo(REPO, { max_open_prs: maxOpen, max_new_prs_per_hour: 100, max_attempts: 10, policy });
  return { h, ada: h.worker({ github_login: 'ada', capacity: 10 }) };
}

/** A task of the repo, claimed by `w` and reported with an open PR that counts now. */
function openPr(h: EngineHarness, w: Principal): string {
  const task = h.task(REPO);
  const { lease } = h.ok(w, 'task.claim', { task_id: task });
  h.ok(w, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/o/adaptive/pull/${task.slice(2)}`, gates: [{ name: 'tests', passed: true }] } });
  return task;
}

const moves = (h: EngineHarness) => h.journal.flatMap((e) => (e.type === 'budget.adapted' ? [{ task_id: e.task_id, from: e.data.from, to: e.data.to, outcome: e.data.outcome, review_ms: e.data.review_ms, reason: e.data.reason }] : []));

test('the engine moves max_open_prs after each PR outcome, journals each change with its reason, and the budget follows', () => {
  const { h, ada } = setup({ budget: { adaptive: RULE } });
  const quick = openPr(h, ada);
  h.advance(2 * HOUR);
  h.ok(h.admin, 'task.complete', { task_id: quick, outcome: 'merged' });
  const slow = openPr(h, ada);
  // The worker claims its PR opened two days ago: review time runs from when the PR counted, not from what the worker says.
  h.advance(30 * HOUR);
  h.ok(h.admin, 'task.complete', { task_id: slow, outcome: 'merged' });
  const rejected = openPr(h, ada);
  h.ok(h.admin, 'task.complete', { task_id: rejected, outcome: 'closed' });
  assert.deepEqual(moves(h), [
    { task_id: quick, from: 4, to: 5, outcome: 'merged', review_ms: 2 * HOUR, reason: 'PR merged after 2 h, within the target 24 h: +1 (ceiling 6)' },
    { task_id: slow, from: 5, to: 2, outcome: 'merged', review_ms: 30 * HOUR, reason: 'PR merged after 30 h, past the target 24 h: ×0.5 (floor 2)' },
  ], 'the rejection at the floor changes nothing, so it writes nothing');
  const { budget, settings } = h.ok(h.admin, 'repo.get', { repo: REPO });
  assert.equal(settings.max_open_prs, 2);
  assert.deepEqual({ max: budget.max_open_prs, adaptive: budget.adaptive }, { max: 2, adaptive: { floor: 2, ceiling: 6 } });
  // The budget now holds at 2: two claims fit, the third is refused, naming the adaptive bounds.
  openPr(h, ada);
  openPr(h, ada);
  const third = h.task(REPO);
  const refusal = h.run(ada, 'task.claim', { task_id: third });
  assert.equal(refusal.error?.code, 'BUDGET_EXHAUSTED');
  assert.match(refusal.error?.message ?? '', /reserved 2\/2.*adaptive: moves between 2 and 6/);
  // A restart replays to the same value.
  const restored = State.fromSnapshot(h.engine.state.toSnapshot());
  assert.equal(restored.repos.get(REPO)?.settings.max_open_prs, 2);
});

test('applying the policy again keeps the value the adaptive budget reached, within the new bounds; a max_open_prs set by hand restarts it', () => {
  const { h, ada } = setup({ budget: { adaptive: RULE, max_open_prs: 4 } });
  for (let i = 0; i < 2; i += 1) h.ok(h.admin, 'task.complete', { task_id: openPr(h, ada), outcome: 'merged' });
  assert.equal(h.engine.state.repos.get(REPO)?.settings.max_open_prs, 6);
  // The policy file pushed again, unchanged: its max_open_prs 4 is where the budget started, not where it is.
  h.ok(h.admin, 'repo.configure', { repo: REPO, policy: { budget: { adaptive: RULE, max_open_prs: 4 } } });
  assert.equal(h.engine.state.repos.get(REPO)?.settings.max_open_prs, 6);
  h.ok(h.admin, 'repo.configure', { repo: REPO, policy: { budget: { adaptive: { ...RULE, ceiling: 5 }, max_open_prs: 4 } } });
  assert.equal(h.engine.state.repos.get(REPO)?.settings.max_open_prs, 5, 'a lower ceiling pulls it down');
  h.ok(h.admin, 'repo.configure', { repo: REPO, paused: false });
  assert.equal(h.engine.state.repos.get(REPO)?.settings.max_open_prs, 5, 'other settings leave it alone');
  h.ok(h.admin, 'repo.configure', { repo: REPO, max_open_prs: 1 });
  assert.equal(h.engine.state.repos.get(REPO)?.settings.max_open_prs, 2, 'set by hand, it restarts there, within the floor');
  // The policy's keys never leak into the settings.
  assert.equal('adaptive' in (h.engine.state.repos.get(REPO)?.settings ?? {}), false);
  assert.equal(h.refused(h.admin, 'repo.configure', { repo: REPO, policy: { budget: { adaptive: { floor: 5, ceiling: 3, target_review_hours: 1 } } } }), 'VALIDATION_FAILED');
});

test('without budget.adaptive, PR outcomes leave max_open_prs alone', () => {
  const { h, ada } = setup({});
  h.ok(h.admin, 'task.complete', { task_id: openPr(h, ada), outcome: 'merged' });
  h.ok(h.admin, 'task.complete', { task_id: openPr(h, ada), outcome: 'closed' });
  assert.deepEqual(moves(h), []);
  assert.equal(h.engine.state.repos.get(REPO)?.settings.max_open_prs, 4);
  assert.equal(h.ok(h.admin, 'repo.get', { repo: REPO }).budget.adaptive, undefined);
});

test('owp policy validate: floor above ceiling is an error, a start outside the bounds a warning', () => {
  const bad = checkPolicyText('budget:\n  adaptive: { floor: 5, ceiling: 3, target_review_hours: 24 }\n');
  assert.equal(bad.value, undefined);
  assert.deepEqual(bad.diagnostics.map((d) => [d.severity, d.message, d.start.line]), [['error', 'budget.adaptive.floor 5 is above its ceiling 3.', 2]]);
  const outside = checkPolicyText('budget:\n  max_open_prs: 20\n  adaptive: { floor: 2, ceiling: 8, target_review_hours: 24 }\n');
  assert.deepEqual(outside.diagnostics.map((d) => [d.severity, d.start.line]), [['warning', 2]]);
  assert.match(outside.diagnostics[0]?.message ?? '', /starts at 8/);
  assert.ok(checkPolicyText('budget:\n  adaptive: { floor: 2, ceiling: 8, target_review_hours: 0 }\n').diagnostics.some((d) => d.severity === 'error'), 'a zero target is refused by the schema');
});

test('a budget limit in report mode does not make the repo throttled (repo.get, the dashboard)', () => {
  const counts = { open_prs: 3, live_leases: 0, open_offers: 0, prs_last_hour: 3 };
  const limits = { max_open_prs: 3, max_new_prs_per_hour: 3 };
  assert.equal(reviewBudget(counts, limits).throttled, true);
  assert.equal(reviewBudget(counts, { ...limits, policy: { modes: { max_open_prs: 'report' } } }).throttled, true, 'the hourly limit still holds');
  assert.equal(reviewBudget(counts, { ...limits, policy: { modes: { max_open_prs: 'report', max_new_prs_per_hour: 'report' } } }).throttled, false);
});
