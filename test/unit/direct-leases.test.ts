/**
 * Direct leases (SPEC OFFER-011, OFFER-012) in the engine: a worker that declared accept_offers
 * "auto" is granted leases where it would be offered, under the rules of an offer and its accept
 * (window, capacity, budget, area, fairness, attempts), and the state a journal or snapshot rebuilds
 * decides the same. Time and scheduling are driven by hand (EngineHarness).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../coordinator/engine/engine.ts';
import { restoreSnapshot, snapshotOf } from '../../coordinator/state/snapshot.ts';
import { State } from '../../coordinator/state/state.ts';
import type { Notification } from '../../coordinator/engine/command.ts';
import type { Principal } from '../../coordinator/auth.ts';
import { EngineHarness } from '../helpers/engine.ts';
import { checkJournal } from '../helpers/invariants.ts';

const GATES = [{ name: 'tests', passed: true }];
const REPO = 'o/direct';

function harness(settings: Record<string, unknown> = {}): EngineHarness {
  const h = new EngineHarness();
  h.repo(REPO, { offer_timeout_ms: 30_000, heartbeat_timeout_ms: 60_000, max_open_prs: 50, max_new_prs_per_hour: 50, required_gates: ['tests'], ...settings });
  return h;
}

/** Runs one scheduling pass and returns what it pushed (the runtime sends these once the events are durable). */
function schedule(h: EngineHarness): Notification[] {
  const outcome = h.engine.schedule();
  h.journal.push(...outcome.events);
  return outcome.notifications;
}

function leasesOf(h: EngineHarness, w: Principal): Array<{ lease_id: string; task_id: string; epoch: number }> {
  return h.ok(w, 'worker.status').leases;
}

function assertJournalHolds(h: EngineHarness): void {
  const problems = checkJournal(h.journal, h.engine.state);
  assert.deepEqual(problems, [], problems[0]?.message);
}

test('a worker with accept_offers "auto" is granted the lease where it would be offered: one lease.granted via direct, pushed with the lease and the task', () => {
  const h = harness();
  const w = h.worker({ accept_offers: 'auto', capacity: 2, max_open_offers: 2 });
  const asker = h.worker({ capacity: 2 });
  const before = h.journal.length;
  const a = h.task(REPO);
  const pushed = schedule(h);
  const events = h.journal.slice(before).filter((e) => e.task_id === a);
  assert.deepEqual(events.map((e) => e.type), ['task.created', 'lease.granted'], 'one durable event for the grant, no offer.created');
  const granted = events[1];
  assert.ok(granted?.type === 'lease.granted');
  assert.equal(granted.data.via, 'direct');
  assert.equal(granted.data.offer_id, undefined);
  assert.equal(granted.worker_id, w.id, 'the auto worker, registered first, is the least recently offered');
  assert.equal(h.state(a), 'leased');
  assert.equal(h.engine.state.tasks.get(a)?.attempts, 0, 'a grant counts no attempt, as an accept does not');
  const push = pushed.find((n) => n.name === 'lease.granted');
  assert.ok(push && push.name === 'lease.granted', `pushed: ${pushed.map((n) => n.name).join(', ')}`);
  assert.equal(push.workerId, w.id);
  assert.equal(push.payload.lease.lease_id, granted.data.lease_id);
  assert.equal(push.payload.task.id, a);
  assert.equal(push.payload.task.state, 'leased');
  assert.ok(!pushed.some((n) => n.name === 'offer.created'), 'no offer is pushed');
  // The grant counts as the auto worker's latest offer: the next task goes to the worker offered
  // least recently, which did not declare accept_offers (an OWP 0.1 client) and is offered it as before.
  const b = h.task(REPO);
  schedule(h);
  assert.equal(h.state(b), 'offered');
  assert.equal(h.offerOf(asker)?.task_id, b);
  const c = h.task(REPO);
  schedule(h);
  assert.equal(h.state(c), 'leased', 'the auto worker is granted the next one (window 2)');
  const d = h.task(REPO);
  schedule(h);
  assert.equal(h.state(d), 'ready', 'the auto worker is at its window of 2, the other at its window of 1');
  assert.deepEqual(h.ok(w, 'offer.list').offers, [], 'the auto worker holds no offers');
  assertJournalHolds(h);
});

test('the offer window paces direct grants: tasks handed over and not yet worked on count, in_progress and pr_opened free a place', () => {
  const h = harness();
  const w = h.worker({ accept_offers: 'auto', capacity: 4, max_open_offers: 2 });
  const tasks = [h.task(REPO), h.task(REPO), h.task(REPO), h.task(REPO)];
  h.settle();
  assert.deepEqual(tasks.map((t) => h.state(t)), ['leased', 'leased', 'ready', 'ready'], 'two grants for a window of 2, with capacity for 4');
  const [first, second] = leasesOf(h, w);
  assert.ok(first && second);
  h.ok(w, 'lease.report', { lease_id: first.lease_id, epoch: first.epoch, state: 'in_progress' });
  h.settle();
  assert.deepEqual(tasks.map((t) => h.state(t)), ['in_progress', 'leased', 'leased', 'ready'], 'a task reported in_progress frees its place');
  h.ok(w, 'lease.report', { lease_id: second.lease_id, epoch: second.epoch, state: 'pr_opened', pr: { url: 'https://github.com/o/direct/pull/1', gates: GATES } });
  h.settle();
  assert.deepEqual(tasks.map((t) => h.state(t)), ['in_progress', 'pr_opened', 'leased', 'leased'], 'a reported PR frees its place and its capacity');
  assertJournalHolds(h);
});

test('direct grants keep the review budget, the area locks and capacity, and pass over a worker as offers do', () => {
  const h = harness({ max_open_prs: 3 });
  const w = h.worker({ accept_offers: 'auto', capacity: 3, max_open_offers: 8 });
  const a = h.task(REPO, { area: 'docs' });
  const b = h.task(REPO, { area: 'docs' });
  const big = h.task(REPO, { effort: 3 });
  const c = h.task(REPO);
  const d = h.task(REPO);
  h.settle();
  assert.deepEqual([a, b, big, c, d].map((t) => h.state(t)), ['leased', 'ready', 'ready', 'leased', 'leased'], 'one task per area; effort 3 does not fit the 2 points left; capacity 3 full');
  const other = h.worker({ capacity: 5, max_open_offers: 5 });
  h.settle();
  assert.equal(h.state(big), 'ready', 'the budget of 3 is full with the three leases: nothing more is offered or granted');
  assert.equal(h.offerOf(other), undefined);
  assertJournalHolds(h);
});

test('a direct lease is a lease: a disconnect keeps it until it expires, the expiry counts an attempt, the hello lists it', () => {
  const h = harness({ heartbeat_timeout_ms: 10_000 });
  const w = h.worker({ accept_offers: 'auto', capacity: 1 });
  const t = h.task(REPO);
  h.settle();
  const [lease] = leasesOf(h, w);
  assert.ok(lease);
  h.journal.push(...h.engine.disconnected(w.id).events);
  h.advance(9_000);
  assert.equal(h.state(t), 'leased', 'kept while offline, before its deadline');
  h.journal.push(...h.engine.connected(w.id).events);
  const wr = h.engine.state.workers.get(w.id);
  assert.ok(wr);
  assert.deepEqual(h.engine.leasesOf(wr).map((l) => l.lease_id), [lease.lease_id], 'what a reconnecting hello lists');
  h.journal.push(...h.engine.disconnected(w.id).events);
  h.advance(2_000);
  assert.equal(h.state(t), 'ready', 'expired at its deadline, as an accepted lease');
  assert.equal(h.engine.state.tasks.get(t)?.attempts, 1, 'the expiry counted one attempt');
  assertJournalHolds(h);
});

test('a state rebuilt from a snapshot counts the same window: the next grant waits for the same report', () => {
  const h = harness();
  const w = h.worker({ accept_offers: 'auto', capacity: 3, max_open_offers: 1 });
  h.task(REPO);
  h.settle();
  const restored = new State();
  restoreSnapshot(restored, structuredClone(snapshotOf(h.engine.state)));
  const engine = new Engine({ clock: h.clock, state: restored });
  engine.connected(w.id);
  const second = engine.execute(h.engine.authenticate('owpm_test_admin') as Principal, 'task.create', { repo: REPO, title: 'after restart', idempotency_key: 'snap-1' });
  const taskId = (second.result as { task: { id: string } }).task.id;
  assert.equal(engine.schedule().events.length, 0, 'the window of 1 is full with the untouched lease');
  const [lease] = engine.leasesOf(engine.state.workers.get(w.id) as never);
  assert.ok(lease);
  const report = engine.execute({ kind: 'worker', id: w.id }, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'in_progress', idempotency_key: 'snap-2' });
  assert.equal(report.error, undefined);
  const granted = engine.schedule().events;
  assert.deepEqual(granted.map((e) => [e.type, e.task_id, e.type === 'lease.granted' ? e.data.via : '']), [['lease.granted', taskId, 'direct']]);
});
