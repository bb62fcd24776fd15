/** Registration, profile updates and trust (SPEC §5.3, §5.9). */
import type { Worker } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import { claimedTask, openPr } from '../scenarios.ts';
import type { Suite } from '../types.ts';

export const SUITE: Suite = {
  area: 'workers',
  tests: [
    {
      requirement: 'WORKER-001',
      title: 'worker.register creates a worker with trust 0 and returns its token',
      async run(world) {
        const { worker, token } = await world.register({ github_login: `cf${Date.now().toString(36)}w`, skills: [world.skill], capacity: 2, tools: ['aider'], capabilities: { can_run_tests: true, can_open_prs: true } });
        check(/^W-[1-9]\d*$/.test(worker.id), `worker id ${worker.id} is not W-<n>`);
        checkEqual(worker.trust, 0, 'trust of a new worker');
        check(typeof token === 'string' && token.length >= 16, 'no usable token returned');
        checkEqual(expectOk<{ worker: Worker }>(await world.http.call('worker.status', {}, token), 'worker.status with the new token').worker.id, worker.id, 'worker.status id');
      },
    },
    {
      requirement: 'WORKER-002',
      title: 'with registration closed, worker.register without an invite is refused with REGISTRATION_CLOSED',
      appliesTo: (world) => (world.info.registration === 'closed' ? undefined : 'registration is open on this coordinator'),
      async run(world) {
        const ack = await world.http.call('worker.register', { github_login: 'cfuninvited', skills: [], capacity: 1, tools: [], capabilities: { can_run_tests: false, can_open_prs: false } });
        expectError(ack, 'REGISTRATION_CLOSED', 'worker.register without an invite');
      },
    },
    {
      requirement: 'WORKER-003',
      title: 'worker.update changes only the caller, and withdraws an offer it no longer qualifies for',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const a = await world.worker({ capacity: 3 });
        const b = await world.worker({ capacity: 3, connect: false });
        const task = await world.task(repo, { effort: 2 });
        const offer = await a.nextOffer(task.id);
        checkEqual((await a.ok('worker.update', { capacity: 1 })).worker.capacity, 1, 'capacity after update');
        checkEqual(expectOk<{ worker: Worker }>(await b.http('worker.status'), 'status of the other worker').worker.capacity, 3, 'the other worker\'s capacity');
        const withdrawn = await a.socket.waitFor('offer.withdrawn', (p) => p.offer_id === offer.offer_id, 3000).catch(() => undefined);
        check(withdrawn, `offer ${offer.offer_id} (effort 2) was not withdrawn after capacity dropped to 1`);
      },
    },
    {
      requirement: 'WORKER-004',
      title: 'worker.prs lists the caller\'s own PRs with their state (open, merged, closed), newest first, with its trust',
      async run(world) {
        const mine = await claimedTask(world);
        const theirs = await claimedTask(world, { repo: mine.repo });
        const merged = await openPr(mine.worker, mine.lease);
        await openPr(theirs.worker, theirs.lease);
        await world.admin('task.complete', { task_id: merged.id, outcome: 'merged' });
        await world.admin('worker.set_trust', { worker_id: mine.worker.id, trust: 1 });
        type Prs = { prs: Array<{ task_id: string; state: string; repo: string; pr: { url: string } }>; trust: number };
        const own = expectOk<Prs>(await mine.worker.http('worker.prs', {}), 'worker.prs of the merged PR\'s author');
        checkEqual(own.prs.map((p) => [p.task_id, p.state, p.repo, p.pr.url]), [[merged.id, 'merged', mine.repo, merged.pr?.url]], 'the author\'s PRs');
        checkEqual(own.trust, 1, 'trust in worker.prs after worker.set_trust');
        const other = expectOk<Prs>(await theirs.worker.http('worker.prs', {}), 'worker.prs of the other worker');
        checkEqual(other.prs.map((p) => [p.task_id, p.state]), [[theirs.task.id, 'pr_opened']], 'the other worker\'s PRs');
        const later = expectOk<Prs>(await mine.worker.http('worker.prs', { since: Date.now() + 3_600_000 }), 'worker.prs since an hour from now');
        checkEqual(later.prs.length, 0, 'PRs that changed after `since`');
      },
    },
    {
      requirement: 'TRUST-001',
      title: 'a trust change applies to the next eligibility check and withdraws offers no longer allowed',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const w = await world.worker({ trust: 2 });
        const task = await world.task(repo, { tier: 2 });
        const offer = await w.nextOffer(task.id);
        await world.admin('worker.set_trust', { worker_id: w.id, trust: 1 });
        const withdrawn = await w.socket.waitFor('offer.withdrawn', (p) => p.offer_id === offer.offer_id, 3000).catch(() => undefined);
        check(withdrawn, `offer ${offer.offer_id} of a tier-2 task was not withdrawn when trust dropped to 1`);
        expectError(await w.call('task.claim', { task_id: task.id }), 'NOT_ELIGIBLE', 'claim of a tier-2 task with trust 1');
        await world.admin('worker.set_trust', { worker_id: w.id, trust: 2 });
        const again = await w.call('task.claim', { task_id: task.id });
        check(again.ok || (!again.ok && again.error.code === 'INVALID_TRANSITION'), `claim after trust went back to 2: ${again.ok ? 'ok' : again.error.code}`);
      },
    },
  ],
};
