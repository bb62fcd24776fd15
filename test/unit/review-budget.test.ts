import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';
import { GATES } from '../helpers/coordinator.ts';
import { budgetExceeded, reviewBudget } from '../../protocol/budget.ts';

function openPr(h: EngineHarness, w: { kind: 'worker'; id: string }): string {
  const offer = h.offerOf(w)!;
  const { lease } = h.ok(w, 'offer.accept', { offer_id: offer.offer_id });
  h.ok(w, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/o/r/pull/${offer.task_id.slice(2)}`, gates: GATES } });
  return offer.task_id;
}

test('max_open_prs counts open PRs, live leases and open offers, so it is never exceeded', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_open_prs: 2, max_new_prs_per_hour: 100 });
  for (let i = 0; i < 6; i += 1) h.task('o/r');
  const workers = Array.from({ length: 4 }, () => h.worker({ capacity: 10 }));
  h.settle();
  assert.equal(workers.filter((w) => h.offerOf(w)).length, 2, 'two offers fill a budget of two');
  const budget = h.ok(h.admin, 'repo.get', { repo: 'o/r' }).budget;
  assert.equal(budget.throttled, true);
  const idle = workers.find((w) => !h.offerOf(w))!;
  assert.equal(h.refused(idle, 'task.claim', { task_id: 'T-6' }), 'BUDGET_EXHAUSTED');
  const prTask = openPr(h, workers.find((w) => h.offerOf(w))!);
  h.settle();
  const repo = h.ok(h.admin, 'repo.get', { repo: 'o/r' });
  assert.equal(repo.budget.open_prs + repo.budget.live_leases + repo.budget.open_offers, 2);
  h.ok(h.admin, 'task.complete', { task_id: prTask, outcome: 'merged' });
  h.settle();
  const after = h.ok(h.admin, 'repo.get', { repo: 'o/r' }).budget;
  assert.equal(after.open_prs + after.live_leases + after.open_offers, 2, 'a merge frees exactly one unit, refilled at once');
});

test('max_new_prs_per_hour holds over a rolling hour', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_open_prs: 100, max_new_prs_per_hour: 1 });
  h.task('o/r');
  const second = h.task('o/r');
  const w = h.worker({ capacity: 10 });
  h.settle();
  const first = openPr(h, w);
  h.ok(h.admin, 'task.complete', { task_id: first, outcome: 'merged' });
  h.settle();
  assert.equal(h.state(second), 'ready', 'one PR this hour already');
  assert.match(h.ok(h.admin, 'task.explain', { task_id: second }).reasons[0].message, /hourly budget 1\/1/);
  h.advance(60 * 60 * 1000 + 1);
  assert.equal(h.state(second), 'offered');
});

test('a paused repo makes no offers', () => {
  const h = new EngineHarness();
  h.repo('o/r', { paused: true });
  const t = h.task('o/r');
  h.worker();
  h.settle();
  assert.equal(h.state(t), 'ready');
  h.repo('o/r', { paused: false });
  h.settle();
  assert.equal(h.state(t), 'offered');
});

test('reading the hourly budget never changes the state (found by the property tests: a replay must equal the live state)', async () => {
  const { checkJournal } = await import('../helpers/invariants.ts');
  const h = new EngineHarness();
  h.repo('o/r');
  h.task('o/r');
  const w = h.worker();
  h.settle();
  openPr(h, w);
  h.advance(3_600_001);
  h.ok(h.admin, 'repo.get', { repo: 'o/r' });
  assert.deepEqual(checkJournal(h.journal, h.engine.state), []);
});

test('the budget arithmetic the coordinator and the dashboard share: throttled exactly when one more unit would not fit', () => {
  const limits = { max_open_prs: 3, max_new_prs_per_hour: 4 };
  const counts = (open_prs: number, live_leases: number, open_offers: number, prs_last_hour: number) => ({ open_prs, live_leases, open_offers, prs_last_hour });
  assert.equal(reviewBudget(counts(1, 0, 1, 0), limits).throttled, false, '2 of 3 open');
  assert.equal(reviewBudget(counts(1, 1, 1, 0), limits).throttled, true, '3 of 3 open: offers count');
  assert.equal(reviewBudget(counts(0, 1, 1, 2), limits).throttled, true, '4 of 4 this hour: leases and offers count');
  assert.equal(reviewBudget(counts(0, 1, 0, 2), limits).throttled, false, '3 of 4 this hour');
  // An accept takes a unit its offer already holds: a full budget still lets it through.
  assert.deepEqual(budgetExceeded(counts(1, 1, 1, 0), limits, 0), { open: false, hourly: false });
  assert.deepEqual(budgetExceeded(counts(1, 1, 1, 0), limits, 1), { open: true, hourly: false });
});
