import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock, type Clock } from '../../coordinator/clock.ts';
import { EngineHarness } from '../helpers/engine.ts';

test('the coordinator clock does not jump when the wall clock does', () => {
  const clock = new SystemClock();
  const before = clock.now();
  const realNow = Date.now;
  try {
    Date.now = () => realNow() + 3_600_000; // NTP, a VM resume or a person moves the wall clock an hour ahead
    const after = clock.now();
    assert.ok(after - before < 1000, `moved ${after - before} ms`);
    Date.now = () => realNow() - 3_600_000;
    assert.ok(clock.now() >= after, 'and never goes backwards');
  } finally {
    Date.now = realNow;
  }
});

test('a wall clock set back or forward while the coordinator is down neither lengthens nor cuts short a live lease', async () => {
  const { MemoryStore } = await import('../../coordinator/store/memory.ts');
  const { Runtime } = await import('../../coordinator/runtime.ts');
  const realNow = Date.now;
  const realPerf = performance.now;
  let wall = Date.UTC(2026, 2, 1);
  let mono = 50;
  const advance = (ms: number): void => {
    wall += ms;
    mono += ms;
  };
  try {
    Date.now = () => wall;
    performance.now = () => mono;
    for (const jumpMs of [-3_600_000, 3_600_000]) {
      const store = new MemoryStore();
      const first = await Runtime.open({ store, clock: new SystemClock(), timers: false, adminTokens: ['owpm_clock'] });
      const admin = first.authenticate('owpm_clock')!;
      const ok = async (principal: Parameters<typeof first.call>[0], name: Parameters<typeof first.call>[1], params: Record<string, unknown>) => {
        const ack = await first.call(principal, name, params);
        assert.ok(ack.ok, JSON.stringify(ack));
        return ack.data as Record<string, any>;
      };
      await ok(admin, 'repo.configure', { repo: 'clock/repo', heartbeat_timeout_ms: 10_000, lease_max_duration_ms: 4 * 3_600_000, idempotency_key: 'r' });
      await ok(admin, 'task.create', { repo: 'clock/repo', title: 'held across the restart', idempotency_key: 't' });
      const { worker } = await ok({ kind: 'anonymous' }, 'worker.register', { github_login: 'sleeper', skills: [], capacity: 1, tools: [], capabilities: { can_run_tests: true, can_open_prs: true }, idempotency_key: 'w' });
      const me = { kind: 'worker' as const, id: worker.id as string };
      await first.workerConnected(me.id);
      await first.sweep();
      const { offers } = await ok(me, 'offer.list', {});
      const { lease } = await ok(me, 'offer.accept', { offer_id: offers[0].offer_id, idempotency_key: 'a' });
      const lastAt = (await store.readJournal(0, 1000)).at(-1)!.at;
      advance(5000);
      await first.close();

      // The process restarts: its monotonic clock starts over, and the wall clock has jumped.
      wall += jumpMs;
      mono = 50;
      const clock = new SystemClock();
      const second = await Runtime.open({ store, clock, timers: false });
      assert.ok(clock.now() >= lastAt, 'time does not run behind the journal');
      const live = second.engine.state.leases.get(lease.lease_id);
      assert.ok(live, `jump ${jumpMs}: the lease survived the restart`);
      const remaining = live.expires_at - clock.now();
      assert.ok(remaining > 0 && remaining <= 10_000, `jump ${jumpMs}: the lease has ${remaining} ms left, not more than one heartbeat window`);
      advance(remaining - 1);
      await second.sweep();
      assert.ok(second.engine.state.leases.has(lease.lease_id), `jump ${jumpMs}: not expired before its deadline`);
      advance(1);
      await second.sweep();
      assert.equal(second.engine.state.leases.has(lease.lease_id), false, `jump ${jumpMs}: expired at its deadline`);
      const events = await store.readJournal(0, 1000);
      events.forEach((e, i) => assert.ok(i === 0 || e.at >= (events[i - 1]?.at ?? 0), `journal times never go back (seq ${e.seq})`));
      await second.close();
    }
  } finally {
    Date.now = realNow;
    performance.now = realPerf;
  }
});

/** A clock that moves on every read, as a busy machine's does between two reads in one command. */
class TickingClock implements Clock {
  constructor(private current: number) {}

  now(): number {
    this.current += 1;
    return this.current;
  }
}

test('a command reads the clock once: deadlines are exact even when the clock moves between reads', () => {
  const h = new EngineHarness({ clock: new TickingClock(Date.UTC(2026, 0, 1)) });
  h.repo('o/r', { heartbeat_timeout_ms: 4000, lease_max_duration_ms: 5000, offer_timeout_ms: 3000 });
  const w = h.worker({ capacity: 3 });
  const claimed = h.ok(w, 'task.claim', { task_id: h.task('o/r') }).lease;
  assert.equal(claimed.expires_at - claimed.granted_at, 4000, 'a claimed lease: expires_at − granted_at');
  assert.equal(claimed.max_deadline_at - claimed.granted_at, 5000, 'a claimed lease: max_deadline_at − granted_at');
  h.task('o/r');
  h.settle();
  const offer = h.ok(w, 'offer.list').offers[0];
  assert.ok(offer, 'the second task is offered');
  assert.equal(offer.deadline_at - offer.created_at, 3000, 'an offer: deadline_at − created_at');
  const accepted = h.ok(w, 'offer.accept', { offer_id: offer.offer_id }).lease;
  assert.equal(accepted.expires_at - accepted.granted_at, 4000, 'an accepted lease: expires_at − granted_at');
  assert.equal(accepted.max_deadline_at - accepted.granted_at, 5000, 'an accepted lease: max_deadline_at − granted_at');
});
