import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';

test('an offer expires at its deadline and moves on to another worker', () => {
  const h = new EngineHarness();
  h.repo('o/r', { offer_timeout_ms: 5000 });
  const t = h.task('o/r');
  const afk = h.worker();
  h.settle();
  const first = h.offerOf(afk)!;
  assert.equal(first.task_id, t);
  const other = h.worker();
  h.advance(4999);
  assert.equal(h.offerOf(other), undefined, 'still offered to the first worker');
  h.advance(1);
  assert.equal(h.offerOf(afk), undefined);
  assert.equal(h.offerOf(other)?.task_id, t);
  assert.equal(h.engine.state.tasks.get(t)?.attempts, 0, 'an expired offer counts no attempt');
  assert.ok(h.types().includes('offer.expired'));
});

test('a lease without heartbeats expires, its task is requeued with an attempt counted, and the holder is told', () => {
  const h = new EngineHarness();
  h.repo('o/r', { heartbeat_timeout_ms: 10_000 });
  const t = h.task('o/r', { area: 'docs' });
  const w = h.worker();
  h.settle();
  const { lease } = h.ok(w, 'offer.accept', { offer_id: h.offerOf(w)!.offer_id });
  h.clock.advance(9000);
  h.ok(w, 'lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch });
  h.clock.advance(9000);
  h.settle();
  assert.equal(h.state(t), 'leased', 'the heartbeat renewed it');
  h.clock.advance(1000);
  const tick = h.engine.tick();
  h.journal.push(...tick.events);
  assert.equal(tick.result?.expiredLeases, 1);
  assert.deepEqual(tick.notifications.map((n) => [n.workerId, n.name]), [[w.id, 'lease.cancelled']]);
  const expired = tick.events.find((e) => e.type === 'lease.expired')!;
  assert.equal(expired.data.late_ms, 0);
  const task = h.engine.state.tasks.get(t)!;
  assert.equal(task.state, 'ready');
  assert.equal(task.attempts, 1);
  assert.equal(h.engine.state.repos.get('o/r')?.locks.has('docs'), false, 'the area lock is freed');
});

test('a lease ends at its maximum duration even with heartbeats', () => {
  const h = new EngineHarness();
  h.repo('o/r', { heartbeat_timeout_ms: 10_000, lease_max_duration_ms: 25_000 });
  const t = h.task('o/r');
  const w = h.worker();
  h.settle();
  const { lease } = h.ok(w, 'offer.accept', { offer_id: h.offerOf(w)!.offer_id });
  for (let i = 0; i < 4; i += 1) {
    h.clock.advance(6000);
    const renewed = h.ok(w, 'lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }).lease;
    assert.ok(renewed.expires_at <= lease.max_deadline_at, 'never renewed past the max deadline');
  }
  h.clock.advance(1000);
  h.settle();
  assert.notEqual(h.state(t), 'leased');
  assert.equal(h.journal.find((e) => e.type === 'lease.expired')?.data.reason, 'lease reached its maximum duration');
});

test('attempts used up send the task to blocked; a maintainer unblocks it', () => {
  const h = new EngineHarness();
  h.repo('o/r', { heartbeat_timeout_ms: 1000, max_attempts: 2 });
  const t = h.task('o/r');
  const w = h.worker();
  for (let i = 0; i < 2; i += 1) {
    h.settle();
    const offer = h.offerOf(w);
    assert.ok(offer, `offer ${i + 1}`);
    h.ok(w, 'offer.accept', { offer_id: offer.offer_id });
    h.advance(1000);
  }
  assert.equal(h.state(t), 'blocked');
  assert.match(h.engine.state.tasks.get(t)!.blocked_reason!, /after 2 attempts/);
  h.ok(h.admin, 'task.unblock', { task_id: t });
  assert.equal(h.engine.state.tasks.get(t)!.attempts, 0);
});

test('the runtime sweeps every 250 ms by default: each expired lease is requeued less than 250 ms after its deadline, whatever the phase', async (t) => {
  const { Runtime } = await import('../../coordinator/runtime.ts');
  const { MemoryStore } = await import('../../coordinator/store/memory.ts');
  const { ManualClock } = await import('../../coordinator/clock.ts');
  // The sweep timer runs on mocked timers, in step with the manual clock: no real time passes.
  t.mock.timers.enable({ apis: ['setInterval'] });
  const clock = new ManualClock();
  const store = new MemoryStore();
  const rt = await Runtime.open({ store, clock, adminTokens: ['owpm_sweep'] });
  const step = async (ms: number): Promise<void> => {
    clock.advance(ms);
    t.mock.timers.tick(ms);
    await new Promise((r) => setImmediate(r));
    await rt.whenIdle();
  };
  try {
    const admin = rt.authenticate('owpm_sweep')!;
    const call = async (principal: Parameters<typeof rt.call>[0], name: Parameters<typeof rt.call>[1], params: Record<string, unknown>) => {
      const ack = await rt.call(principal, name, params);
      assert.ok(ack.ok, JSON.stringify(ack));
      return ack.data as Record<string, any>;
    };
    await call(admin, 'repo.configure', { repo: 'sweep/repo', heartbeat_timeout_ms: 1000, max_open_prs: 100, max_new_prs_per_hour: 100, idempotency_key: 'r' });
    const { worker } = await call({ kind: 'anonymous' }, 'worker.register', { github_login: 'phases', skills: [], capacity: 100, tools: [], capabilities: { can_run_tests: true, can_open_prs: true }, idempotency_key: 'w' });
    const me = { kind: 'worker' as const, id: worker.id as string };
    await rt.workerConnected(me.id);
    // Leases granted at 12 different phases of the sweep cycle.
    for (let i = 0; i < 12; i += 1) {
      await call(admin, 'task.create', { repo: 'sweep/repo', title: `phase ${i}`, idempotency_key: `t${i}` });
      await step(250);
      const { offers } = await call(me, 'offer.list', {});
      for (const o of offers) await call(me, 'offer.accept', { offer_id: o.offer_id, idempotency_key: `a${o.offer_id}` });
      await step(23);
    }
    for (let i = 0; i < 200 && rt.engine.state.leases.size > 0; i += 1) await step(10);
    const expired = (await store.readJournal(0, 10_000)).filter((e) => e.type === 'lease.expired');
    assert.equal(expired.length, 12, 'every lease expired');
    for (const e of expired) assert.ok((e.data.late_ms as number) >= 0 && (e.data.late_ms as number) < 250, `requeued ${String(e.data.late_ms)} ms after its deadline`);
  } finally {
    await rt.close();
  }
});
