import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';
import { GATES } from '../helpers/coordinator.ts';

test('only one active task per area per repo; the lock is freed when the PR is merged', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_open_prs: 10, max_new_prs_per_hour: 10 });
  const first = h.task('o/r', { area: 'docs' });
  const second = h.task('o/r', { area: 'docs' });
  const other = h.task('o/r', { area: 'cli' });
  const a = h.worker();
  const b = h.worker();
  const c = h.worker();
  h.settle();
  const offered = [a, b, c].map((w) => h.offerOf(w)?.task_id).filter(Boolean).sort();
  assert.deepEqual(offered, [first, other].sort(), 'the second docs task is held back');
  const explain = h.ok(h.admin, 'task.explain', { task_id: second });
  assert.equal(explain.offerable, false);
  assert.match(explain.reasons[0].message, new RegExp(`area docs held by ${first}`));
  // Direct claims hit the same lock.
  assert.equal(h.refused(c, 'task.claim', { task_id: second }), 'AREA_LOCKED');

  const holder = [a, b].find((w) => h.offerOf(w)?.task_id === first)!;
  const { lease } = h.ok(holder, 'offer.accept', { offer_id: h.offerOf(holder)!.offer_id });
  h.ok(holder, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/o/r/pull/1', gates: GATES } });
  h.settle();
  assert.equal(h.state(second), 'ready', 'an open PR still holds its area');
  h.ok(h.admin, 'task.complete', { task_id: first, outcome: 'merged' });
  h.settle();
  assert.equal(h.state(second), 'offered');
});

test('tasks without an area take no lock', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_open_prs: 10, max_new_prs_per_hour: 10 });
  const x = h.task('o/r');
  const y = h.task('o/r');
  h.worker();
  h.worker();
  h.settle();
  assert.equal(h.state(x), 'offered');
  assert.equal(h.state(y), 'offered');
});

test('the same area in two repos is two locks', () => {
  const h = new EngineHarness();
  h.repo('o/a');
  h.repo('o/b');
  const a = h.task('o/a', { area: 'docs' });
  const b = h.task('o/b', { area: 'docs' });
  h.worker();
  h.worker();
  h.settle();
  assert.equal(h.state(a), 'offered');
  assert.equal(h.state(b), 'offered');
});
