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
  assert.match(h.ok(h.admin, 'task.explain', { task_id: second }).reasons[0].message, /hourly budget full: this hour 1\/1: 1 PR opened · 0 leases · 0 offers; next hourly slot opens in /);
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

/** One PR opened and kept open, then `hold` (a live lease or an open offer) on a second task; returns the third task. */
function prPlus(h: EngineHarness, hold: 'lease' | 'offer', settings: Record<string, unknown>): { third: string; idle: { kind: 'worker'; id: string }; release: () => void } {
  h.repo('o/r', settings);
  h.task('o/r');
  const holder = h.worker({ capacity: 1 });
  h.settle();
  openPr(h, holder);
  const second = h.task('o/r');
  const worker = h.worker({ capacity: 1 });
  h.settle();
  const offer = h.offerOf(worker);
  assert.ok(offer, 'the second task is offered: the budget has room for it');
  if (hold === 'lease') h.ok(worker, 'offer.accept', { offer_id: offer.offer_id });
  const third = h.task('o/r');
  const idle = h.worker({ capacity: 1 });
  h.settle();
  // The maintainer cancels the second task: its lease or offer ends and the room is the third task's.
  return { third, idle, release: () => h.ok(h.admin, 'task.cancel', { task_id: second }) };
}

for (const hold of ['lease', 'offer'] as const) {
  test(`max_open_prs: with one PR open, a live ${hold} is what holds the next offer back`, () => {
    const h = new EngineHarness();
    const { third, idle, release } = prPlus(h, hold, { max_open_prs: 2, max_new_prs_per_hour: 100, max_attempts: 10 });
    assert.equal(h.state(third), 'ready', `1 PR + 1 ${hold} fill a budget of 2`);
    assert.equal(h.offerOf(idle), undefined);
    assert.match(h.ok(h.admin, 'task.explain', { task_id: third }).reasons[0].message, /review budget full: reserved 2\/2: /);
    assert.equal(h.refused(idle, 'task.claim', { task_id: third }), 'BUDGET_EXHAUSTED');
    release();
    h.settle();
    assert.notEqual(h.state(third), 'ready', `once the ${hold} ends, the budget has room again`);
  });

  test(`max_new_prs_per_hour: with one PR this hour, a live ${hold} is what holds the next offer back`, () => {
    const h = new EngineHarness();
    const { third, idle, release } = prPlus(h, hold, { max_open_prs: 100, max_new_prs_per_hour: 2, max_attempts: 10 });
    assert.equal(h.state(third), 'ready', `1 PR this hour + 1 ${hold} fill an hourly budget of 2`);
    assert.equal(h.offerOf(idle), undefined);
    assert.match(h.ok(h.admin, 'task.explain', { task_id: third }).reasons[0].message, /hourly budget full: this hour 2\/2: /);
    assert.equal(h.refused(idle, 'task.claim', { task_id: third }), 'BUDGET_EXHAUSTED');
    release();
    h.settle();
    assert.notEqual(h.state(third), 'ready', `once the ${hold} ends, the hour has room again`);
  });
}

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
