/**
 * Property-based tests of the scheduler: random sequences of operations and clock moves against
 * the real engine, every invariant checked after every step, shrinking to a minimal failing case.
 * OWP_PROPERTY_RUNS raises the number of runs (npm run test:reliability does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EngineHarness } from '../helpers/engine.ts';
import { checkDeadlines, checkJournal, checkState } from '../helpers/invariants.ts';
import type { Principal } from '../../coordinator/auth.ts';
import { recordFigures } from '../helpers/figures.ts';

const RUNS = Number(process.env.OWP_PROPERTY_RUNS ?? 150);
const REPOS = ['p/one', 'p/two'];
const AREAS = [undefined, 'docs', 'cli', 'core'];
const SKILLS = ['docs', 'ts', 'rust'];

type Step =
  | { op: 'task'; repo: number; area: number; tier: number; effort: number; skills: boolean[]; priority: number }
  | { op: 'worker'; skills: boolean[]; capacity: number; trust: number }
  | { op: 'connect' | 'disconnect'; w: number }
  | { op: 'accept' | 'decline'; w: number }
  | { op: 'claim'; w: number; t: number }
  | { op: 'heartbeat' | 'release' | 'start'; w: number }
  | { op: 'pr'; w: number; gates: boolean }
  | { op: 'block-by-worker'; w: number }
  | { op: 'complete'; t: number; merged: boolean }
  | { op: 'cancel' | 'block' | 'unblock' | 'cancel-lease'; t: number }
  | { op: 'budget'; repo: number; max: number; hourly: number }
  | { op: 'advance'; ms: number }
  | { op: 'replay'; k: number };

const idx = fc.nat({ max: 20 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('task' as const), repo: fc.nat({ max: 1 }), area: fc.nat({ max: 3 }), tier: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 3 }) }), effort: fc.integer({ min: 1, max: 3 }), skills: fc.oneof({ weight: 4, arbitrary: fc.constant<boolean[]>([false, false, false]) }, { weight: 1, arbitrary: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) }), priority: fc.integer({ min: -1, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('worker' as const), skills: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), capacity: fc.integer({ min: 1, max: 6 }), trust: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('connect' as const, 'disconnect' as const), w: idx }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constantFrom('accept' as const, 'decline' as const), w: idx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('claim' as const), w: idx, t: idx }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('heartbeat' as const, 'release' as const, 'start' as const), w: idx }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('pr' as const), w: idx, gates: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('block-by-worker' as const), w: idx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('complete' as const), t: idx, merged: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('cancel' as const, 'block' as const, 'unblock' as const, 'cancel-lease' as const), t: idx }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('budget' as const), repo: fc.nat({ max: 1 }), max: fc.nat({ max: 4 }), hourly: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 3000, max: 70_000 }), fc.constant(3_600_001)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('replay' as const), k: idx }) },
);

function pick<T>(list: readonly T[], i: number): T | undefined {
  return list.length === 0 ? undefined : list[i % list.length];
}

function runScenario(steps: Step[]): void {
  const h = new EngineHarness();
  for (const repo of REPOS) h.repo(repo, { max_open_prs: 2, max_new_prs_per_hour: 3, heartbeat_timeout_ms: 2000, offer_timeout_ms: 1500, max_attempts: 3, lease_max_duration_ms: 60_000 });
  // A small pool from the start, so most runs contend for tasks, areas and budget.
  const workers: Array<Principal & { kind: 'worker' }> = [h.worker({ skills: SKILLS, capacity: 4 }, 3), h.worker({ skills: ['docs', 'ts'], capacity: 3 }, 1), h.worker({ skills: ['docs'], capacity: 2 }, 0)];
  const online = new Set<string>(workers.map((w) => w.id));
  const answered: Array<{ principal: Principal; params: Record<string, unknown>; name: 'task.create'; result: unknown }> = [];
  const tasks = (): string[] => [...h.engine.state.tasks.keys()];
  const leaseOf = (w: Principal & { kind: 'worker' }) => [...h.engine.state.leases.values()].find((l) => l.worker_id === w.id);
  const check = (where: string): void => {
    const problems = checkState(h.engine.state, where);
    assert.deepEqual(problems, [], problems[0]?.message);
  };

  for (const s of steps) {
    switch (s.op) {
      case 'task': {
        const params = {
          repo: REPOS[s.repo] as string,
          title: 'generated',
          tier: s.tier,
          effort: s.effort,
          skills: SKILLS.filter((_, i) => s.skills[i]),
          priority: s.priority,
          ...(AREAS[s.area] ? { area: AREAS[s.area] } : {}),
          idempotency_key: `create-${answered.length}`,
        };
        const outcome = h.engine.execute(h.admin, 'task.create', params);
        h.journal.push(...outcome.events);
        answered.push({ principal: h.admin, params, name: 'task.create', result: outcome.result });
        break;
      }
      case 'worker': {
        const w = h.worker({ skills: SKILLS.filter((_, i) => s.skills[i]), capacity: s.capacity }, s.trust);
        workers.push(w);
        online.add(w.id);
        break;
      }
      case 'connect': {
        const w = pick(workers, s.w);
        if (w && !online.has(w.id)) {
          h.journal.push(...h.engine.connected(w.id).events);
          online.add(w.id);
        }
        break;
      }
      case 'disconnect': {
        const w = pick(workers, s.w);
        if (w && online.has(w.id)) {
          h.journal.push(...h.engine.disconnected(w.id).events);
          online.delete(w.id);
        }
        break;
      }
      case 'accept':
      case 'decline': {
        // Pick among the workers that hold an offer, so answers actually happen.
        const holders = workers.filter((x) => h.engine.state.workers.get(x.id)?.openOfferId);
        const w = pick(holders, s.w);
        const offer = w && h.engine.state.offers.get(h.engine.state.workers.get(w.id)?.openOfferId ?? '');
        if (w && offer) h.run(w, s.op === 'accept' ? 'offer.accept' : 'offer.decline', { offer_id: offer.offer_id });
        break;
      }
      case 'claim': {
        const w = pick(workers, s.w);
        const t = pick(tasks(), s.t);
        if (w && t) h.run(w, 'task.claim', { task_id: t });
        break;
      }
      case 'heartbeat':
      case 'release':
      case 'start':
      case 'pr':
      case 'block-by-worker': {
        const w = pick(workers.filter((x) => leaseOf(x)), s.w);
        const lease = w && leaseOf(w);
        if (!w || !lease) break;
        const ref = { lease_id: lease.lease_id, epoch: lease.epoch };
        if (s.op === 'heartbeat') h.run(w, 'lease.heartbeat', ref);
        else if (s.op === 'release') h.run(w, 'lease.release', ref);
        else if (s.op === 'start') h.run(w, 'lease.report', { ...ref, state: 'in_progress' });
        else if (s.op === 'block-by-worker') h.run(w, 'lease.report', { ...ref, state: 'blocked', reason: 'stuck' });
        else if (s.op === 'pr') {
          const outcome = h.run(w, 'lease.report', { ...ref, state: 'pr_opened', pr: { url: 'https://github.com/p/one/pull/1', gates: s.gates ? [{ name: 'tests', passed: true }] : [] } });
          if (!s.gates) assert.equal(outcome.error?.code, 'GATES_MISSING');
        }
        break;
      }
      case 'complete': {
        const t = pick(tasks().filter((id) => h.engine.state.tasks.get(id)?.state === 'pr_opened'), s.t);
        if (t) h.run(h.admin, 'task.complete', { task_id: t, outcome: s.merged ? 'merged' : 'closed' });
        break;
      }
      case 'cancel':
      case 'block':
      case 'unblock':
      case 'cancel-lease': {
        const t = pick(tasks(), s.t);
        if (!t) break;
        if (s.op === 'cancel') h.run(h.admin, 'task.cancel', { task_id: t });
        else if (s.op === 'block') h.run(h.admin, 'task.block', { task_id: t, reason: 'maintainer says so' });
        else if (s.op === 'unblock') h.run(h.admin, 'task.unblock', { task_id: t });
        else {
          const lease = h.engine.state.tasks.get(t)?.current_lease_id;
          if (lease) h.run(h.admin, 'lease.cancel', { lease_id: lease });
        }
        break;
      }
      case 'budget':
        h.run(h.admin, 'repo.configure', { repo: REPOS[s.repo], max_open_prs: s.max, max_new_prs_per_hour: s.hourly });
        break;
      case 'advance':
        h.clock.advance(s.ms);
        h.settle();
        assert.deepEqual(checkDeadlines(h.engine.state, h.clock.now()), [], 'a deadline passed a sweep');
        break;
      case 'replay': {
        const first = pick(answered, s.k);
        if (first) {
          const again = h.engine.execute(first.principal, first.name, first.params);
          assert.deepEqual(again.result, first.result, 'an idempotent replay returns the first answer');
          assert.equal(again.events.length, 0);
          const other = h.engine.execute(first.principal, first.name, { ...first.params, title: 'different' });
          if (!again.error) assert.equal(other.error?.code, 'IDEMPOTENCY_KEY_REUSED');
        }
        break;
      }
    }
    h.settle();
    check(`after ${s.op}`);
  }
  const problems = checkJournal(h.journal, h.engine.state);
  assert.deepEqual(problems, [], problems[0]?.message);
}

test(`scheduler invariants hold over ${RUNS} random runs of operations and clock moves`, () => {
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => runScenario(steps)), { numRuns: RUNS });
  recordFigures('property', { property_runs: RUNS, max_steps_per_run: 80 });
});
