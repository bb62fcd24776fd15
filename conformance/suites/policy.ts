/**
 * Repo policy-as-code (SPEC §9.3), mandatory for a coordinator that declares the `policy`
 * capability (CAP-001). Every rule is tried on a direct claim (refused with POLICY_DENIED and the
 * rule id, and allowed for the worker the rule lets through) and on what the scheduler offers.
 */
import type { Lease, Task } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { ConformanceTest, Suite } from '../types.ts';
import type { KitWorker, World } from '../world.ts';
import { taskEvents } from '../scenarios.ts';

/** Budget wide enough that only the policy decides. */
const ROOMY = { max_open_prs: 50, max_new_prs_per_hour: 50 };

async function refusedBy(worker: KitWorker, taskId: string, rule: string, what: string): Promise<void> {
  const error = expectError(await worker.http('task.claim', { task_id: taskId }), 'POLICY_DENIED', what);
  checkEqual(error.details?.rule, rule, `${what}: details.rule`);
}

async function claims(worker: KitWorker, taskId: string, what: string): Promise<Lease> {
  return expectOk<{ lease: Lease; task: Task }>(await worker.http('task.claim', { task_id: taskId }), what).lease;
}

type Three<T> = [T, T, T];

/** A test of one rule: three registered workers (offline, trust 0), a repo with `policy` (which may name their logins), then `run`. */
function rule(requirement: string, title: string, policy: (logins: Three<string>) => Record<string, unknown>, run: (world: World, repo: string, workers: Three<KitWorker>) => Promise<void>): ConformanceTest {
  return {
    requirement,
    title,
    capability: 'policy',
    async run(world) {
      const kit: Three<KitWorker> = [await world.worker({ connect: false, capacity: 10 }), await world.worker({ connect: false, capacity: 10 }), await world.worker({ connect: false, capacity: 10 })];
      const repo = await world.repo({ ...ROOMY, policy: policy([kit[0].login, kit[1].login, kit[2].login]) });
      await run(world, repo, kit);
    },
  };
}

export const SUITE: Suite = {
  area: 'policy',
  tests: [
    rule('POL-001', 'login_deny: a denied login is refused, others claim', ([denied]) => ({ logins: { deny: [denied] } }), async (world, repo, [denied, other]) => {
      const task = await world.task(repo);
      await refusedBy(denied, task.id, 'login_deny', 'claim by a denied login');
      await claims(other, task.id, 'claim by a login not denied');
    }),
    rule('POL-001', 'login_allow: only allowed logins claim', ([allowed]) => ({ logins: { allow: [allowed] } }), async (world, repo, [allowed, stranger]) => {
      const task = await world.task(repo);
      await refusedBy(stranger, task.id, 'login_allow', 'claim by a login not on the allow list');
      await claims(allowed, task.id, 'claim by an allowed login');
    }),
    rule('POL-001', 'safe_lanes: workers below the trust stay in the lanes (a lane covers its sub-areas)', () => ({ safe_lanes: { below_trust: 1, lanes: ['docs'] } }), async (world, repo, [newcomer, veteran]) => {
      await world.admin('worker.set_trust', { worker_id: veteran.id, trust: 1 });
      const core = await world.task(repo, { area: 'core' });
      await refusedBy(newcomer, core.id, 'safe_lanes', 'trust-0 claim outside the safe lanes');
      await claims(newcomer, (await world.task(repo, { area: 'docs/api' })).id, 'trust-0 claim in a sub-area of a lane');
      await claims(veteran, core.id, 'trust-1 claim outside the lanes');
    }),
    rule('POL-001', 'tier_trust: a task of tier ≥ from_tier needs min_trust', () => ({ tiers: [{ from_tier: 1, min_trust: 2 }] }), async (world, repo, [one, two]) => {
      await world.admin('worker.set_trust', { worker_id: one.id, trust: 1 });
      await world.admin('worker.set_trust', { worker_id: two.id, trust: 2 });
      const task = await world.task(repo, { tier: 1 });
      await refusedBy(one, task.id, 'tier_trust', 'trust-1 claim of a tier-1 task that needs trust 2');
      await claims(one, (await world.task(repo, { tier: 0 })).id, 'trust-1 claim of a tier-0 task');
      await claims(two, task.id, 'trust-2 claim of the tier-1 task');
    }),
    rule('POL-001', 'max_active_per_worker: a worker holds at most that many tasks of the repo', () => ({ max_active_per_worker: 1 }), async (world, repo, [busy, other]) => {
      await claims(busy, (await world.task(repo)).id, 'first claim');
      const second = await world.task(repo);
      await refusedBy(busy, second.id, 'max_active_per_worker', 'second claim with max_active_per_worker 1');
      await claims(other, second.id, 'claim by another worker');
    }),
    rule('POL-001', 'area_max_active: an area and its sub-areas hold at most max_active active tasks', () => ({ areas: { core: { max_active: 1 } } }), async (world, repo, [a, b]) => {
      await claims(a, (await world.task(repo, { area: 'core/db' })).id, 'claim in core/db');
      const sibling = await world.task(repo, { area: 'core/net' });
      await refusedBy(b, sibling.id, 'area_max_active', 'claim in core/net while core/db is active and core allows 1');
      await claims(b, (await world.task(repo, { area: 'docs' })).id, 'claim in another area');
    }),
    rule('POL-001', 'area_trust: an area with min_trust needs that trust unless the login is allowed', ([, , allowed]) => ({ areas: { infra: { min_trust: 2, allow: [allowed] } } }), async (world, repo, [low, high, allowed]) => {
      await world.admin('worker.set_trust', { worker_id: high.id, trust: 2 });
      const task = await world.task(repo, { area: 'infra' });
      await refusedBy(low, task.id, 'area_trust', 'trust-0 claim in an area needing trust 2');
      await claims(allowed, task.id, 'claim by a login on the area\'s allow list');
      await claims(high, (await world.task(repo, { area: 'infra/ci' })).id, 'trust-2 claim in a sub-area');
    }),
    {
      requirement: 'POL-001',
      title: 'the scheduler never offers a task a rule refuses',
      capability: 'policy',
      async run(world) {
        const repo = await world.repo({ ...ROOMY, policy: { safe_lanes: { below_trust: 1, lanes: ['docs'] } } });
        const core = await world.task(repo, { area: 'core', priority: 10 });
        const head = await world.journalHead();
        const newcomer = await world.worker();
        const docs = await world.task(repo, { area: 'docs' });
        const offer = await newcomer.nextOffer(undefined, 5000);
        checkEqual(offer.task_id, docs.id, `the offer to a trust-0 worker (the core task outside the lanes is ${core.id})`);
        const offers = (await taskEvents(world, head, core)).filter((e) => e.type === 'offer.created');
        checkEqual(offers.length, 0, 'offers of a task the policy refuses');
      },
    },
    rule('POL-002', 'a risky area is denied to everyone not on its allow list and below its min_trust', ([, , allowed]) => ({ areas: { payments: { risky: true, min_trust: 3, allow: [allowed] } } }), async (world, repo, [trusted, expert, allowed]) => {
      await world.admin('worker.set_trust', { worker_id: trusted.id, trust: 2 });
      await world.admin('worker.set_trust', { worker_id: expert.id, trust: 3 });
      const task = await world.task(repo, { area: 'payments' });
      await refusedBy(trusted, task.id, 'risky_area', 'trust-2 claim in a risky area needing trust 3');
      await claims(allowed, task.id, 'claim by a login on the risky area\'s allow list');
      await claims(expert, (await world.task(repo, { area: 'payments/refunds' })).id, 'trust-3 claim in a sub-area of the risky area');
    }),
    rule('POL-002', 'a risky area without min_trust is denied to every worker not on its allow list, whatever the trust', () => ({ areas: { secrets: { risky: true } } }), async (world, repo, [maxed]) => {
      await world.admin('worker.set_trust', { worker_id: maxed.id, trust: 3 });
      await refusedBy(maxed, (await world.task(repo, { area: 'secrets' })).id, 'risky_area', 'trust-3 claim in a risky area with no allow list');
    }),
    {
      requirement: 'POL-003',
      title: 'a policy budget sets max_open_prs and max_new_prs_per_hour unless the same repo.configure sets them',
      capability: 'policy',
      async run(world) {
        const repo = await world.repo({ max_open_prs: undefined, max_new_prs_per_hour: undefined, policy: { budget: { max_open_prs: 1, max_new_prs_per_hour: 7 } } });
        const { settings } = await world.admin('repo.get', { repo });
        checkEqual([settings.max_open_prs, settings.max_new_prs_per_hour], [1, 7], 'settings from the policy budget');
        const a = await world.worker({ connect: false });
        const b = await world.worker({ connect: false });
        await claims(a, (await world.task(repo)).id, 'first claim');
        expectError(await b.http('task.claim', { task_id: (await world.task(repo)).id }), 'BUDGET_EXHAUSTED', 'claim beyond the policy\'s max_open_prs 1');
        const both = await world.repo({ max_open_prs: 4, max_new_prs_per_hour: 9, policy: { budget: { max_open_prs: 1, max_new_prs_per_hour: 7 } } });
        const explicit = (await world.admin('repo.get', { repo: both })).settings;
        checkEqual([explicit.max_open_prs, explicit.max_new_prs_per_hour], [4, 9], 'settings given next to a policy budget');
      },
    },
    rule('POL-004', 'task.explain with worker_id gives every applying rule\'s verdict, budget rules included', ([denied]) => ({
      logins: { deny: [denied] },
      safe_lanes: { below_trust: 1 },
      tiers: [{ from_tier: 1, min_trust: 1 }],
      max_active_per_worker: 2,
      areas: { core: { max_active: 3, min_trust: 1 } },
    }), async (world, repo, [denied, newcomer]) => {
      const task = await world.task(repo, { area: 'core/db', tier: 1 });
      const explained = await world.admin('task.explain', { task_id: task.id, worker_id: newcomer.id });
      const verdicts = Object.fromEntries((explained.policy ?? []).map((v) => [v.rule, v.passed]));
      const expected: Record<string, boolean> = { login_deny: true, safe_lanes: false, tier_trust: false, max_active_per_worker: true, area_max_active: true, area_trust: false, max_open_prs: true, max_new_prs_per_hour: true };
      for (const [name, passed] of Object.entries(expected)) checkEqual(verdicts[name], passed, `verdict of ${name} for a trust-0 worker on a tier-1 core/db task`);
      for (const v of explained.policy ?? []) check(typeof v.message === 'string' && v.message.length > 0, `rule ${v.rule} has no message`);
      const deniedVerdicts = (await world.admin('task.explain', { task_id: task.id, worker_id: denied.id })).policy ?? [];
      checkEqual(deniedVerdicts.find((v) => v.rule === 'login_deny')?.passed, false, 'verdict of login_deny for a denied login');
    }),
  ],
};
