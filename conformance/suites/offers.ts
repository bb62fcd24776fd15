/** Offers, their deadline and the ack/nack answers; direct claims (SPEC §5.4). */
import type { Lease, Offer, Task } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { sleep } from '../world.ts';
import { taskEvents } from '../scenarios.ts';

export const SUITE: Suite = {
  area: 'offers',
  tests: [
    {
      requirement: 'OFFER-001',
      title: 'a task is offered to one worker at a time; a worker holds at most one open offer',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const head = await world.journalHead();
        const a = await world.worker({ capacity: 5 });
        const b = await world.worker({ capacity: 5 });
        const first = await world.task(repo);
        const second = await world.task(repo);
        const third = await world.task(repo);
        const offerA = await a.nextOffer();
        const offerB = await b.nextOffer();
        check(offerA.task_id !== offerB.task_id, `both workers were offered ${offerA.task_id}`);
        // The third task stays for a third worker: a and b, with room for it, already hold an open offer each.
        const c = await world.worker({ capacity: 5 });
        const offerC = await c.nextOffer(undefined, 5000);
        checkEqual(new Set([offerA.task_id, offerB.task_id, offerC.task_id]).size, 3, 'distinct tasks offered to three workers');
        for (const w of [a, b, c]) checkEqual((await w.ok('offer.list')).offers.length, 1, `open offers of ${w.id}`);
        const created = (await world.journal(head, repo)).filter((e) => e.type === 'offer.created' && [first.id, second.id, third.id].includes(e.task_id ?? ''));
        const perTask = new Map<string, number>();
        const perWorker = new Map<string, number>();
        for (const e of created) {
          perTask.set(e.task_id as string, (perTask.get(e.task_id as string) ?? 0) + 1);
          perWorker.set(e.worker_id as string, (perWorker.get(e.worker_id as string) ?? 0) + 1);
        }
        check([...perTask.values()].every((n) => n === 1), `a task was offered more than once while its offer was open: ${JSON.stringify([...perTask])}`);
        check([...perWorker.values()].every((n) => n === 1), `a worker was offered a second task while its offer was open: ${JSON.stringify([...perWorker])}`);
      },
    },
    {
      requirement: 'OFFER-002',
      title: 'a task is offered only to an eligible worker',
      async run(world) {
        const repo = await world.repo();
        const head = await world.journalHead();
        const unskilled = await world.worker({ skills: [`${world.skill}-other`] });
        const task = await world.task(repo, { skills: [world.skill, `${world.skill}-rare`] });
        const skilled = await world.worker({ skills: [world.skill, `${world.skill}-rare`] });
        await skilled.nextOffer(task.id);
        const offers = (await taskEvents(world, head, task)).filter((e) => e.type === 'offer.created');
        check(offers.every((e) => e.worker_id === skilled.id), `offered to ${offers.map((e) => e.worker_id).join(', ')}; only ${skilled.id} is eligible (not ${unskilled.id})`);
      },
    },
    {
      requirement: 'OFFER-002',
      title: 'tasks above the worker\'s trust, above its free capacity or in a held area are never offered to it, whatever their priority',
      async run(world) {
        const repo = await world.repo();
        const holder = await world.worker({ connect: false });
        expectOk(await holder.http('task.claim', { task_id: (await world.task(repo, { area: 'held' })).id }), 'claim that holds the area');
        const held = await world.task(repo, { area: 'held', priority: 10 });
        const tier = await world.task(repo, { tier: 2, priority: 10 });
        const big = await world.task(repo, { effort: 4, priority: 10 });
        const head = await world.journalHead();
        const w = await world.worker({ trust: 0, capacity: 3 });
        const sentinel = await world.task(repo, { priority: 0 });
        const offer = await w.nextOffer(undefined, 5000);
        checkEqual(offer.task_id, sentinel.id, `the first offer to a trust-0 worker of capacity 3 (ineligible: ${held.id} area held, ${tier.id} tier 2, ${big.id} effort 4)`);
        for (const task of [held, tier, big]) {
          const offers = (await taskEvents(world, head, task)).filter((e) => e.type === 'offer.created');
          checkEqual(offers.length, 0, `offers of ${task.id}, for which no connected worker is eligible`);
        }
      },
    },
    {
      requirement: 'OFFER-003',
      title: 'an offer\'s deadline is its creation plus offer_timeout_ms; unanswered, it ends and the task goes to another worker',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 1000 });
        const a = await world.worker();
        const task = await world.task(repo);
        const offer = await a.nextOffer(task.id);
        checkEqual(offer.deadline_at - offer.created_at, 1000, 'deadline_at - created_at');
        const b = await world.worker();
        const next = await Promise.race([b.nextOffer(task.id, 6000), a.socket.waitFor('offer.created', (p) => (p.offer as { offer_id: string; task_id: string }).offer_id !== offer.offer_id && (p.offer as { task_id: string }).task_id === task.id, 6000).then(() => undefined)]);
        check(next, 'after the deadline the task was offered to the same worker again instead of the other eligible one');
        check(next.created_at >= offer.deadline_at, 'the second offer came before the first one\'s deadline');
      },
    },
    {
      requirement: 'OFFER-004',
      title: 'an offer that ended (expired, answered) cannot be accepted: OFFER_EXPIRED',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 1000 });
        const a = await world.worker();
        const task = await world.task(repo);
        const expiring = await a.nextOffer(task.id);
        await a.socket.waitFor('offer.withdrawn', (p) => p.offer_id === expiring.offer_id, 5000);
        expectError(await a.call('offer.accept', { offer_id: expiring.offer_id }), 'OFFER_EXPIRED', 'accept after the deadline');
        // From here on: a longer deadline, and the first worker gone so the task goes to the second.
        await world.admin('repo.configure', { repo, offer_timeout_ms: 10_000 });
        a.socket.close();
        const b = await world.worker();
        const answered = await b.nextOffer(task.id, 10_000);
        await b.accept(answered);
        expectError(await b.call('offer.accept', { offer_id: answered.offer_id }), 'OFFER_EXPIRED', 'accept of an offer already accepted (new key)');
      },
    },
    {
      requirement: 'OFFER-004',
      title: 'an accept that arrives after deadline_at is refused even before the coordinator has ended the offer',
      timeoutMs: 40_000,
      async run(world) {
        // As for FENCE-002: the deadline is the offer's deadline_at, not the sweep. Each round accepts just
        // after it by the coordinator's clock (offset measured on offer.created); an accepted lease's
        // granted_at says on which side of the deadline the accept landed.
        const repo = await world.repo({ offer_timeout_ms: 1000 });
        const w = await world.worker();
        let judged = 0;
        for (let round = 0; round < 6 && judged < 3; round += 1) {
          const task = await world.task(repo);
          const offer = await w.nextOffer(task.id, 5000);
          const offset = offer.created_at - Date.now();
          await sleep(Math.max(0, offer.deadline_at - offset - Date.now() + 20 + round * 15));
          const ack = await w.call('offer.accept', { offer_id: offer.offer_id });
          if (ack.ok) {
            const lease = (ack.data as { lease: Lease }).lease;
            check(lease.granted_at < offer.deadline_at, `an accept the coordinator took at ${lease.granted_at}, ${lease.granted_at - offer.deadline_at} ms after the offer's deadline_at ${offer.deadline_at}, granted a lease`);
          } else {
            checkEqual(ack.error.code, 'OFFER_EXPIRED', 'accept after deadline_at');
            judged += 1;
          }
          await world.admin('task.cancel', { task_id: task.id, reason: 'conformance' });
        }
        check(judged > 0, 'no accept landed after the deadline in six rounds');
      },
    },
    {
      requirement: 'OFFER-005',
      title: 'offer.accept grants a lease and answers with it',
      async run(world) {
        const repo = await world.repo();
        const w = await world.worker();
        const task = await world.task(repo);
        const { lease, task: leased } = await w.accept(await w.nextOffer(task.id));
        checkEqual([lease.task_id, lease.worker_id, leased.state], [task.id, w.id, 'leased'], 'lease task, holder and task state');
        checkEqual((await world.getTask(task.id)).lease?.lease_id, lease.lease_id, 'the task\'s lease');
      },
    },
    {
      requirement: 'OFFER-006',
      title: 'offer.decline returns the task to ready and counts an attempt',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const w = await world.worker();
        const task = await world.task(repo);
        const offer = await w.nextOffer(task.id);
        const declined = (await w.ok('offer.decline', { offer_id: offer.offer_id, reason: 'not now' })).task;
        checkEqual(declined.attempts, 1, 'attempts after decline');
        check(declined.state === 'ready', `task after decline is ${declined.state}`);
      },
    },
    {
      requirement: 'OFFER-006',
      title: 'a declined task is not offered to the same worker again within offer_timeout_ms',
      level: 'SHOULD',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 3000 });
        const w = await world.worker();
        const task = await world.task(repo);
        const offer = await w.nextOffer(task.id);
        await w.ok('offer.decline', { offer_id: offer.offer_id });
        await sleep(1500);
        check(!w.socket.has('offer.created', (p) => (p.offer as { offer_id: string; task_id: string }).offer_id !== offer.offer_id && (p.offer as { task_id: string }).task_id === task.id), 'the declined task was offered to the same worker again at once');
      },
    },
    {
      requirement: 'OFFER-007',
      title: 'ready tasks are offered by priority (higher first), then age (older first)',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const low = await world.task(repo, { priority: 0 });
        const high = await world.task(repo, { priority: 5 });
        const w = await world.worker({ capacity: 1 });
        checkEqual((await w.nextOffer()).task_id, high.id, `first offer (priority 5 ${high.id} vs priority 0 ${low.id})`);
        const skill = `${world.skill}-age`;
        const older = await world.task(repo, { priority: 1, skills: [skill] });
        const newer = await world.task(repo, { priority: 1, skills: [skill] });
        const v = await world.worker({ capacity: 1, skills: [skill] });
        checkEqual((await v.nextOffer()).task_id, older.id, `first offer among equal priorities (older ${older.id}, newer ${newer.id})`);
      },
    },
    {
      requirement: 'OFFER-009',
      capability: 'offer-pipelining',
      title: 'a worker that sets max_open_offers in its hello holds that many open offers at once, and no more',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const head = await world.journalHead();
        const piped = await world.worker({ capacity: 5, connect: false });
        const hello = await piped.reconnect({ profile: { max_open_offers: 3 } });
        checkEqual(hello.worker?.max_open_offers, 3, 'the window the hello declared, on the worker');
        const tasks = [await world.task(repo), await world.task(repo), await world.task(repo), await world.task(repo)];
        const offers = [await piped.nextOffer(), await piped.nextOffer(), await piped.nextOffer()];
        checkEqual(new Set(offers.map((o) => o.task_id)).size, 3, 'three distinct tasks offered without an answer');
        // The fourth task goes to another worker: the first is at its window, with capacity to spare.
        const other = await world.worker({ capacity: 5 });
        const fourth = await other.nextOffer(undefined, 5000);
        check(!offers.some((o) => o.task_id === fourth.task_id), `${fourth.task_id} was offered twice`);
        checkEqual((await piped.ok('offer.list')).offers.length, 3, `open offers of ${piped.id}`);
        const created = (await world.journal(head, repo)).filter((e) => e.type === 'offer.created' && e.worker_id === piped.id && tasks.some((t) => t.id === e.task_id));
        checkEqual(created.length, 3, `offers made to ${piped.id}`);
        // Each accept answers its own offer; the others stay open.
        const { lease } = await piped.accept(offers[1] as Offer);
        checkEqual(lease.task_id, offers[1]?.task_id, 'the lease is for the accepted offer');
        checkEqual((await piped.ok('offer.list')).offers.map((o) => o.offer_id).sort(), [offers[0], offers[2]].map((o) => o?.offer_id).sort(), 'the other offers stay open');
      },
    },
    {
      requirement: 'OFFER-009',
      capability: 'offer-pipelining',
      title: 'every open offer counts against the worker\'s capacity: a window larger than the capacity is held to the capacity',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const piped = await world.worker({ capacity: 3, connect: false });
        await piped.reconnect({ profile: { max_open_offers: 4 } });
        await world.task(repo, { effort: 2 });
        await world.task(repo, { effort: 1 });
        await world.task(repo, { effort: 1 });
        const a = await piped.nextOffer();
        const b = await piped.nextOffer();
        const held = [a, b].reduce((n, o) => n + o.task.effort, 0);
        checkEqual(held, 3, 'the efforts of the two open offers fill the capacity of 3');
        const other = await world.worker({ capacity: 3 });
        const third = await other.nextOffer(undefined, 5000);
        check(third.task_id !== a.task_id && third.task_id !== b.task_id, 'the third task went to the other worker');
        checkEqual((await piped.ok('worker.status')).worker.capacity_used, 3, 'capacity_used counts both open offers');
      },
    },
    {
      requirement: 'OFFER-010',
      title: 'after an accept, a worker with free capacity is offered its next task without any other change',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const w = await world.worker({ capacity: 2 });
        const first = await world.task(repo);
        const second = await world.task(repo);
        const offer = await w.nextOffer(first.id);
        await w.accept(offer);
        const next = await w.nextOffer(second.id, 5000);
        checkEqual(next.task_id, second.id, 'the next offer follows the accept');
      },
    },
    {
      requirement: 'OFFER-008',
      title: 'offer.created is pushed with the offer; offer.withdrawn when it ends unanswered',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 1000 });
        const w = await world.worker();
        const task = await world.task(repo);
        const offer = await w.nextOffer(task.id);
        check(offer.offer_id && offer.deadline_at && offer.task?.id === task.id, 'offer.created lacks offer_id, deadline_at or the task');
        const withdrawn = await w.socket.waitFor('offer.withdrawn', (p) => p.offer_id === offer.offer_id, 5000);
        checkEqual(withdrawn.task_id, task.id, 'offer.withdrawn task_id');
      },
    },
    {
      requirement: 'CLAIM-001',
      title: 'task.claim of a ready task passes the eligibility checks and grants a lease; other states are INVALID_TRANSITION',
      async run(world) {
        const repo = await world.repo();
        const task = await world.task(repo);
        const a = await world.worker({ connect: false });
        const b = await world.worker({ connect: false });
        const stranger = await world.worker({ connect: false, skills: [`${world.skill}-x`] });
        expectError(await stranger.http('task.claim', { task_id: task.id }), 'NOT_ELIGIBLE', 'claim by a worker without the skill');
        const { lease } = expectOk<{ lease: Lease; task: Task }>(await a.http('task.claim', { task_id: task.id }), 'claim of a ready task');
        checkEqual([lease.task_id, lease.worker_id], [task.id, a.id], 'claimed lease');
        const refused = expectError(await b.http('task.claim', { task_id: task.id }), 'INVALID_TRANSITION', 'claim of a leased task');
        checkEqual(refused.details?.from, 'leased', 'details.from');
        const online = await world.worker();
        const offered = await world.task(repo);
        await online.nextOffer(offered.id);
        const stolen = expectError(await b.http('task.claim', { task_id: offered.id }), 'INVALID_TRANSITION', 'claim of a task offered to another worker');
        checkEqual(stolen.details?.from, 'offered', 'details.from');
        checkEqual((await world.getTask(offered.id)).state, 'offered', 'state of the offered task after the refused claim');
      },
    },
    {
      requirement: 'CLAIM-002',
      title: 'a refused claim names every failed check in details.reasons',
      async run(world) {
        const repo = await world.repo();
        const task = await world.task(repo, { skills: [world.skill, `${world.skill}-rare`], tier: 2, effort: 5 });
        const w = await world.worker({ connect: false, capacity: 1 });
        const error = expectError(await w.http('task.claim', { task_id: task.id }), 'NOT_ELIGIBLE', 'claim failing skills, trust and capacity');
        const reasons = error.details?.reasons;
        check(Array.isArray(reasons) && reasons.length >= 3, `details.reasons ${JSON.stringify(reasons)} does not list the three failed checks (skill, trust, capacity)`);
      },
    },
  ],
};
