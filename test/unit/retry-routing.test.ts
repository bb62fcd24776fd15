/**
 * An expired lease's retry goes first to reliable volunteers (BOINC sends retries to hosts with a
 * good record): among the idle workers that could take it, the one with the best on-time record
 * (leases that ended in a PR against leases that expired) is offered it before the least recently
 * offered one. The record survives a snapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';
import { State } from '../../coordinator/state/state.ts';
import { onTimeScore } from '../../coordinator/engine/scheduler.ts';

const REPO = 'o/retry';
const HEARTBEAT_MS = 1000;
const GATES = [{ name: 'tests', passed: true }];

test('on-time score: a newcomer sits in the middle; PRs raise it, expiries lower it', () => {
  assert.equal(onTimeScore(undefined), 0.5);
  assert.ok(onTimeScore({ on_time: 2, late: 0 }) > 0.5);
  assert.ok(onTimeScore({ on_time: 0, late: 1 }) < 0.5);
});

test('a task whose lease expired is offered first to the most punctual idle worker, not the least recently offered', () => {
  const h = new EngineHarness();
  h.repo(REPO, { max_open_prs: 50, max_new_prs_per_hour: 50, heartbeat_timeout_ms: HEARTBEAT_MS, offer_timeout_ms: 60_000, max_attempts: 10 });
  // punctual opens a PR on its own task first: its record is one lease on time.
  const punctual = h.worker({ github_login: 'punctual', capacity: 1 });
  const own = h.task(REPO, { title: 'own' });
  const { lease } = h.ok(punctual, 'task.claim', { task_id: own });
  h.ok(punctual, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/o/retry/pull/1', gates: GATES } });
  // punctual is the most recently offered worker (an offer it declined), so without the routing the
  // retry would go to one of the others, never offered anything.
  const bait = h.task(REPO, { title: 'bait' });
  h.settle();
  const baitOffer = h.offerOf(punctual);
  assert.equal(baitOffer?.task_id, bait);
  h.ok(punctual, 'offer.decline', { offer_id: baitOffer?.offer_id });
  h.ok(h.admin, 'task.cancel', { task_id: bait });
  // holder takes the task that will expire; flaky lets a lease of its own expire at the same time
  // (that task is then cancelled). The retried task is older, so it is offered first.
  const holder = h.worker({ github_login: 'holder', capacity: 1 });
  const task = h.task(REPO, { title: 'retried' });
  h.ok(holder, 'task.claim', { task_id: task });
  const flaky = h.worker({ github_login: 'flaky', capacity: 1 });
  const lost = h.task(REPO, { title: 'lost' });
  h.ok(flaky, 'task.claim', { task_id: lost });
  h.advance(HEARTBEAT_MS + 1);
  h.ok(h.admin, 'task.cancel', { task_id: lost });
  assert.equal(h.engine.state.punctuality.get(flaky.id)?.late, 1);
  assert.equal(h.engine.state.punctuality.get(punctual.id)?.on_time, 1);
  const offered = [...h.engine.state.offers.values()].find((o) => o.task_id === task);
  assert.equal(offered?.worker_id, punctual.id, `the retry went to ${offered?.worker_id}, not the punctual worker ${punctual.id}`);
  assert.equal(h.engine.state.tasks.get(task)?.retry_after_expiry, true);
  assert.equal('retry_after_expiry' in h.ok(h.admin, 'task.get', { task_id: task }).task, false, 'the marker is not served');
  const restored = State.fromSnapshot(h.engine.state.toSnapshot());
  assert.deepEqual([...restored.punctuality], [...h.engine.state.punctuality], 'the record survives a snapshot');
  // Accepted, the task is no retry any more.
  h.ok(punctual, 'offer.accept', { offer_id: offered?.offer_id });
  assert.equal(h.engine.state.tasks.get(task)?.retry_after_expiry, undefined);
});
