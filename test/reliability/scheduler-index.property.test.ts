/**
 * The indexed scheduler makes the same offers as the scan it replaced (issue 20): random runs of
 * task creation (several repos, areas, skills, tiers, efforts, priorities), workers coming and
 * going, accepts, declines and expiries (cool-downs), merges (full passes), re-prioritised, blocked
 * and unblocked tasks and budget changes, played on two engines at once, one with the real
 * scheduler and one with the old scan (test/helpers/scan-scheduler.ts). After every step both
 * journals must hold the same events for the same tasks and workers, in the same order.
 * OWP_PROPERTY_RUNS raises the number of runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EngineHarness } from '../helpers/engine.ts';
import { ScanScheduler } from '../helpers/scan-scheduler.ts';
import type { Principal } from '../../coordinator/auth.ts';
import type { OperationName } from '../../protocol/operations.ts';

const RUNS = Number(process.env.OWP_PROPERTY_RUNS ?? 100);
const REPOS = ['p/one', 'p/two', 'p/three'];
const AREAS = [undefined, 'docs', 'cli'];
const SKILLS = ['docs', 'ts', 'rust'];

type Step =
  | { op: 'task'; repo: number; area: number; tier: number; effort: number; skills: boolean[]; priority: number }
  | { op: 'worker'; skills: boolean[]; capacity: number; trust: number; window: number; auto: boolean }
  | { op: 'connect' | 'disconnect' | 'accept' | 'decline' | 'finish'; w: number }
  | { op: 'priority'; t: number; priority: number }
  | { op: 'block' | 'unblock'; t: number }
  | { op: 'budget'; repo: number; max: number }
  | { op: 'advance'; ms: number };

const idx = fc.nat({ max: 30 });
const skills = fc.oneof({ weight: 2, arbitrary: fc.constant<boolean[]>([false, false, false]) }, { weight: 1, arbitrary: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('task' as const), repo: fc.nat({ max: 2 }), area: fc.nat({ max: 2 }), tier: fc.nat({ max: 2 }), effort: fc.integer({ min: 1, max: 3 }), skills, priority: fc.integer({ min: -1, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('worker' as const), skills: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), capacity: fc.integer({ min: 1, max: 4 }), trust: fc.nat({ max: 2 }), window: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 3 })), auto: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constantFrom('connect' as const, 'disconnect' as const, 'accept' as const, 'accept' as const, 'decline' as const, 'finish' as const, 'finish' as const), w: idx }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('priority' as const), t: idx, priority: fc.integer({ min: -2, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('block' as const, 'unblock' as const), t: idx }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('budget' as const), repo: fc.nat({ max: 2 }), max: fc.nat({ max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constant(1600)) }) },
);

/** One engine of the pair; `scan` runs the old scheduler. */
function side(scan: boolean): EngineHarness {
  const h = new EngineHarness();
  if (scan) Object.assign(h.engine, { scheduler: new ScanScheduler(h.engine.state, h.engine.eligibility) });
  for (const repo of REPOS) h.repo(repo, { max_open_prs: 6, max_new_prs_per_hour: 50, offer_timeout_ms: 1500, heartbeat_timeout_ms: 60_000, max_attempts: 5 });
  return h;
}

/** What must agree: each event's type, task and worker. Keys and logins differ between the two harnesses. */
const shape = (h: EngineHarness): string[] => h.journal.map((e) => `${e.type} ${e.task_id ?? ''} ${e.worker_id ?? ''}`);

function play(h: EngineHarness, workers: Array<Principal & { kind: 'worker' }>, online: Set<string>, s: Step): void {
  const tasks = [...h.engine.state.tasks.keys()];
  const worker = (i: number) => workers[i % Math.max(1, workers.length)];
  const run = (p: Principal, name: OperationName, params: Record<string, unknown>) => void h.run(p, name, params);
  switch (s.op) {
    case 'task':
      run(h.admin, 'task.create', { repo: REPOS[s.repo], title: 't', tier: s.tier, effort: s.effort, priority: s.priority, skills: SKILLS.filter((_, i) => s.skills[i]), ...(AREAS[s.area] ? { area: AREAS[s.area] } : {}) });
      break;
    case 'worker': {
      const w = h.worker({ skills: SKILLS.filter((_, i) => s.skills[i]), capacity: s.capacity, ...(s.window > 1 ? { max_open_offers: s.window } : {}), ...(s.auto ? { accept_offers: 'auto' as const } : {}) }, s.trust);
      workers.push(w);
      online.add(w.id);
      break;
    }
    case 'connect':
    case 'disconnect': {
      const w = worker(s.w);
      if (!w || (s.op === 'connect') === online.has(w.id)) break;
      h.journal.push(...(s.op === 'connect' ? h.engine.connected(w.id) : h.engine.disconnected(w.id)).events);
      if (s.op === 'connect') online.add(w.id);
      else online.delete(w.id);
      break;
    }
    case 'accept':
    case 'decline': {
      const holders = workers.filter((x) => (h.engine.state.workers.get(x.id)?.openOffers.size ?? 0) > 0);
      const w = holders[s.w % Math.max(1, holders.length)];
      const open = w ? [...(h.engine.state.workers.get(w.id)?.openOffers ?? [])] : [];
      const offerId = open[s.w % Math.max(1, open.length)];
      if (w && offerId) run(w, s.op === 'accept' ? 'offer.accept' : 'offer.decline', { offer_id: offerId });
      break;
    }
    case 'finish': {
      // A lease runs to a merged PR: the full pass that follows frees its area and budget.
      const leases = [...h.engine.state.leases.values()];
      const lease = leases[s.w % Math.max(1, leases.length)];
      if (!lease) break;
      run({ kind: 'worker', id: lease.worker_id }, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/p/one/pull/1', gates: [{ name: 'tests', passed: true }] } });
      run(h.admin, 'task.complete', { task_id: lease.task_id, outcome: 'merged' });
      break;
    }
    case 'priority': {
      const t = tasks[s.t % Math.max(1, tasks.length)];
      if (t) run(h.admin, 'task.update', { task_id: t, priority: s.priority });
      break;
    }
    case 'block':
    case 'unblock': {
      const t = tasks[s.t % Math.max(1, tasks.length)];
      if (t) run(h.admin, s.op === 'block' ? 'task.block' : 'task.unblock', { task_id: t, ...(s.op === 'block' ? { reason: 'wait' } : {}) });
      break;
    }
    case 'budget':
      run(h.admin, 'repo.configure', { repo: REPOS[s.repo], max_open_prs: s.max });
      break;
    case 'advance':
      h.clock.advance(s.ms);
      break;
  }
  h.settle();
}

test(`the indexed scheduler makes the same offers as the old scan over ${RUNS} random runs`, () => {
  let offers = 0;
  let passesWithSkips = 0;
  fc.assert(
    fc.property(fc.array(step, { minLength: 20, maxLength: 120, size: 'large' }), (steps) => {
      const indexed = side(false);
      const scan = side(true);
      const pools = [indexed, scan].map(() => ({ workers: [] as Array<Principal & { kind: 'worker' }>, online: new Set<string>() }));
      steps.forEach((s, i) => {
        play(indexed, pools[0]!.workers, pools[0]!.online, s);
        play(scan, pools[1]!.workers, pools[1]!.online, s);
        assert.deepEqual(shape(indexed), shape(scan), `journals differ after step ${i} (${s.op})`);
      });
      offers += indexed.journal.filter((e) => e.type === 'offer.created').length;
      if (indexed.journal.some((e) => e.type === 'offer.declined' || e.type === 'offer.expired')) passesWithSkips += 1;
    }),
    { numRuns: RUNS },
  );
  assert.ok(offers > 5 * RUNS, `offers were made (${offers})`);
  console.log(`# ${offers} offers compared; ${passesWithSkips} runs with cool-downs`);
  assert.ok(passesWithSkips > 0, 'some runs had cool-downs to skip');
});
