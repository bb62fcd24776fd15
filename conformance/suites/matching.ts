/** Eligibility: capacity, skills, trust, area locks, review budget, paused repos (SPEC §5.13). */
import type { Lease, Task } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import type { KitWorker } from '../world.ts';
import { openPr, taskEvents } from '../scenarios.ts';

async function claim(worker: KitWorker, taskId: string): Promise<Lease> {
  return expectOk<{ lease: Lease; task: Task }>(await worker.http('task.claim', { task_id: taskId }), `claim of ${taskId} by ${worker.id}`).lease;
}

const REFUSED_BUDGET = ['BUDGET_EXHAUSTED'];

export const SUITE: Suite = {
  area: 'matching',
  tests: [
    {
      requirement: 'MATCH-001',
      title: 'free capacity (capacity minus live leases and open offer) must cover the task\'s effort',
      async run(world) {
        const repo = await world.repo();
        const w = await world.worker({ capacity: 3, connect: false });
        const big = await world.task(repo, { effort: 4 });
        const error = expectError(await w.http('task.claim', { task_id: big.id }), 'NOT_ELIGIBLE', 'effort 4 with capacity 3');
        check(JSON.stringify(error.details?.reasons ?? []).includes('capacity'), `reasons do not mention capacity: ${JSON.stringify(error.details?.reasons)}`);
        await claim(w, (await world.task(repo, { effort: 2 })).id);
        const rest = await world.task(repo, { effort: 2 });
        expectError(await w.http('task.claim', { task_id: rest.id }), 'NOT_ELIGIBLE', 'effort 2 with 1 point free');
        await claim(w, (await world.task(repo, { effort: 1 })).id);
        const head = await world.journalHead();
        const online = await world.worker({ capacity: 1 });
        const fitting = await world.task(repo, { effort: 1 });
        await online.nextOffer(fitting.id);
        const offers = (await taskEvents(world, head, rest)).filter((e) => e.type === 'offer.created');
        checkEqual(offers.length, 0, `offers of an effort-2 task to a worker with capacity 1 (${online.id})`);
      },
    },
    {
      requirement: 'MATCH-001',
      title: 'an open offer holds its effort of the worker\'s capacity until it is answered',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const w = await world.worker({ capacity: 3 });
        const offered = await world.task(repo, { effort: 2 });
        const offer = await w.nextOffer(offered.id);
        const big = await world.task(repo, { effort: 2 });
        const error = expectError(await w.http('task.claim', { task_id: big.id }), 'NOT_ELIGIBLE', 'claim of effort 2 with capacity 3 and an open offer of effort 2');
        check(JSON.stringify(error.details?.reasons ?? []).includes('capacity'), `reasons do not mention capacity: ${JSON.stringify(error.details?.reasons)}`);
        await claim(w, (await world.task(repo, { effort: 1 })).id);
        // Going offline ends the offer (CONN-004) and frees its capacity; offline, nothing is offered in between.
        w.socket.close();
        await world.untilState(offer.task_id, 'ready');
        await claim(w, big.id);
      },
    },
    {
      requirement: 'MATCH-002',
      title: 'the worker\'s skills must include every skill of the task',
      async run(world) {
        const repo = await world.repo();
        const task = await world.task(repo, { skills: [world.skill, `${world.skill}-rust`] });
        const partial = await world.worker({ connect: false });
        const error = expectError(await partial.http('task.claim', { task_id: task.id }), 'NOT_ELIGIBLE', 'claim missing one skill');
        check(JSON.stringify(error.details?.reasons ?? []).includes(`${world.skill}-rust`), `reasons do not name the missing skill: ${JSON.stringify(error.details?.reasons)}`);
        const full = await world.worker({ connect: false, skills: [world.skill, `${world.skill}-rust`, 'extra'] });
        await claim(full, task.id);
      },
    },
    {
      requirement: 'MATCH-003',
      title: 'the worker\'s trust must be at least the task\'s tier',
      async run(world) {
        const repo = await world.repo();
        const task = await world.task(repo, { tier: 2 });
        const low = await world.worker({ connect: false, trust: 1 });
        expectError(await low.http('task.claim', { task_id: task.id }), 'NOT_ELIGIBLE', 'trust 1 on a tier-2 task');
        const high = await world.worker({ connect: false, trust: 2 });
        await claim(high, task.id);
      },
    },
    {
      requirement: 'MATCH-005',
      title: 'a worker that declared repos is offered, and may claim, only tasks of those repos (case-insensitive); an empty list means any repo',
      async run(world) {
        const mine = await world.repo();
        const other = await world.repo();
        const w = await world.worker({ connect: false, extra: { repos: [mine.toUpperCase()] } });
        const foreign = await world.task(other);
        const error = expectError(await w.http('task.claim', { task_id: foreign.id }), 'NOT_ELIGIBLE', `claim of a task of ${other} by a worker of ${mine}`);
        check(JSON.stringify(error.details?.reasons ?? []).includes('"repo"'), `reasons do not name the repo rule: ${JSON.stringify(error.details?.reasons)}`);
        await claim(w, (await world.task(mine)).id);
        const head = await world.journalHead();
        const online = await world.worker({ extra: { repos: [mine] } });
        const skipped = await world.task(other);
        const fitting = await world.task(mine);
        await online.nextOffer(fitting.id);
        const offers = (await taskEvents(world, head, skipped)).filter((e) => e.type === 'offer.created');
        checkEqual(offers.length, 0, `offers of a task of ${other} to a worker that declared ${mine}`);
        expectOk(await w.http('worker.update', { repos: [] }), 'worker.update clearing repos');
        await claim(w, foreign.id);
      },
    },
    {
      requirement: 'MATCH-003',
      title: 'a task of a higher tier than the worker\'s trust is never offered to it',
      async run(world) {
        const repo = await world.repo();
        const high = await world.task(repo, { tier: 2, priority: 10 });
        const head = await world.journalHead();
        const low = await world.worker({ trust: 0 });
        const sentinel = await world.task(repo);
        const offer = await low.nextOffer(undefined, 5000);
        checkEqual(offer.task_id, sentinel.id, `the offer to a trust-0 worker (the tier-2 task is ${high.id})`);
        const offers = (await taskEvents(world, head, high)).filter((e) => e.type === 'offer.created');
        checkEqual(offers.length, 0, 'offers of a tier-2 task to a trust-0 worker');
      },
    },
    {
      requirement: 'AREA-001',
      title: 'at most one active task per area per repo; tasks without an area take no lock',
      async run(world) {
        const repo = await world.repo();
        const otherRepo = await world.repo();
        const a = await world.worker({ connect: false });
        const b = await world.worker({ connect: false });
        const first = await world.task(repo, { area: 'docs/api' });
        const second = await world.task(repo, { area: 'docs/api' });
        await claim(a, first.id);
        const error = expectError(await b.http('task.claim', { task_id: second.id }), 'AREA_LOCKED', 'claim in a held area');
        check(JSON.stringify(error.details ?? {}).includes(first.id), `details do not name the holder ${first.id}`);
        checkEqual((await world.admin('repo.get', { repo })).locks['docs/api'], first.id, 'lock holder in repo.get');
        await claim(b, (await world.task(otherRepo, { area: 'docs/api' })).id);
        await claim(b, (await world.task(repo)).id);
        await claim(b, (await world.task(repo)).id);
        const head = await world.journalHead();
        const online = await world.worker();
        const free = await world.task(repo, { area: 'tests' });
        await online.nextOffer(free.id);
        const offers = (await taskEvents(world, head, second)).filter((e) => e.type === 'offer.created');
        checkEqual(offers.length, 0, 'offers of a task whose area is held');
      },
    },
    {
      requirement: 'AREA-001',
      title: 'an offered task holds its area lock while the offer is open',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const online = await world.worker();
        const offered = await world.task(repo, { area: 'core/api' });
        const offer = await online.nextOffer(offered.id);
        checkEqual((await world.admin('repo.get', { repo })).locks['core/api'], offered.id, 'lock holder of an offered task in repo.get');
        const rival = await world.task(repo, { area: 'core/api' });
        const other = await world.worker({ connect: false });
        const error = expectError(await other.http('task.claim', { task_id: rival.id }), 'AREA_LOCKED', 'claim in the area of an offered task');
        check(JSON.stringify(error.details ?? {}).includes(offered.id), `details do not name the holder ${offered.id}`);
        online.socket.close();
        await world.untilState(offer.task_id, 'ready');
        await claim(other, rival.id);
      },
    },
    {
      requirement: 'BUDGET-001',
      title: 'open PRs plus live leases plus open offers never exceed max_open_prs',
      async run(world) {
        const repo = await world.repo({ max_open_prs: 2 });
        const a = await world.worker({ connect: false });
        const b = await world.worker({ connect: false });
        const c = await world.worker({ connect: false });
        const leaseA = await claim(a, (await world.task(repo)).id);
        await openPr(a, leaseA);
        await claim(b, (await world.task(repo)).id);
        const third = await world.task(repo);
        expectError(await c.http('task.claim', { task_id: third.id }), REFUSED_BUDGET, 'claim with 1 open PR + 1 lease of max_open_prs 2');
        const online = await world.worker();
        const { budget } = await world.admin('repo.get', { repo });
        check(budget.open_prs + budget.live_leases + budget.open_offers <= 2, `budget in use ${JSON.stringify(budget)} exceeds 2`);
        check(budget.throttled === true, 'repo.get does not report the repo as throttled');
        check(!online.socket.has('offer.created', (p) => (p.offer as { task_id: string }).task_id === third.id), 'a task was offered over budget');
      },
    },
    {
      requirement: 'BUDGET-001',
      title: 'an open offer takes a unit of max_open_prs',
      async run(world) {
        const repo = await world.repo({ max_open_prs: 1, offer_timeout_ms: 30_000 });
        const online = await world.worker();
        const offered = await world.task(repo);
        const offer = await online.nextOffer(offered.id);
        const { budget } = await world.admin('repo.get', { repo });
        checkEqual([budget.open_offers, budget.live_leases, budget.open_prs], [1, 0, 0], 'open offers, live leases and open PRs in repo.get');
        const second = await world.task(repo);
        const other = await world.worker({ connect: false });
        expectError(await other.http('task.claim', { task_id: second.id }), REFUSED_BUDGET, 'claim while an open offer fills max_open_prs 1');
        online.socket.close();
        await world.untilState(offer.task_id, 'ready');
        await claim(other, second.id);
      },
    },
    {
      requirement: 'BUDGET-002',
      title: 'live leases and open offers count against max_new_prs_per_hour before any PR is opened',
      async run(world) {
        const repo = await world.repo({ max_new_prs_per_hour: 2, max_open_prs: 10, offer_timeout_ms: 30_000 });
        const a = await world.worker({ connect: false });
        await claim(a, (await world.task(repo)).id);
        const online = await world.worker();
        const offered = await world.task(repo);
        await online.nextOffer(offered.id);
        const { budget } = await world.admin('repo.get', { repo });
        checkEqual([budget.prs_last_hour, budget.live_leases, budget.open_offers], [0, 1, 1], 'PRs this hour, live leases and open offers');
        const third = await world.task(repo);
        expectError(await a.http('task.claim', { task_id: third.id }), REFUSED_BUDGET, 'claim with 1 lease + 1 offer of max_new_prs_per_hour 2');
      },
    },
    {
      requirement: 'BUDGET-002',
      title: 'PRs opened in the last hour plus live leases and open offers stay within max_new_prs_per_hour',
      async run(world) {
        const repo = await world.repo({ max_new_prs_per_hour: 2, max_open_prs: 10 });
        const w = await world.worker({ connect: false });
        for (let i = 0; i < 2; i += 1) {
          const task = await world.task(repo);
          await openPr(w, await claim(w, task.id));
          await world.admin('task.complete', { task_id: task.id, outcome: 'merged' });
        }
        const { budget } = await world.admin('repo.get', { repo });
        checkEqual([budget.prs_last_hour, budget.open_prs], [2, 0], 'PRs this hour and open PRs');
        const third = await world.task(repo);
        expectError(await w.http('task.claim', { task_id: third.id }), REFUSED_BUDGET, 'claim after 2 PRs this hour with max_new_prs_per_hour 2');
      },
    },
    {
      requirement: 'BUDGET-003',
      title: 'nothing is offered or claimed in a paused repo',
      async run(world) {
        const repo = await world.repo({ paused: true });
        const task = await world.task(repo);
        const w = await world.worker({ connect: false });
        expectError(await w.http('task.claim', { task_id: task.id }), ['NOT_ELIGIBLE', 'BUDGET_EXHAUSTED', 'POLICY_DENIED'], 'claim in a paused repo');
        const online = await world.worker();
        const active = await world.repo();
        const sentinel = await world.task(active);
        await online.nextOffer(sentinel.id);
        check(!online.socket.has('offer.created', (p) => (p.offer as { task_id: string }).task_id === task.id), 'a task of a paused repo was offered');
        await world.admin('repo.configure', { repo, paused: false });
        const other = await world.worker();
        await other.nextOffer(task.id, 5000);
      },
    },
  ],
};
