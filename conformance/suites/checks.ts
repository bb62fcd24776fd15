/**
 * Gates proven by CI (SPEC §5.5, capability `ci-checks`): a PR in a repo with required checks
 * waits on its lease until the checks pass on its head, a new head restarts the wait, a deadline
 * sends it back to the volunteer; and where settings came from (REPO-002).
 */
import type { Lease, PrChecks, Task } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { ConformanceTest, Suite } from '../types.ts';
import { acceptedTask, claimedTask, openPr, taskEvents, type Leased } from '../scenarios.ts';
import { sleep, type World } from '../world.ts';

type TaskAck = { task: Task };
const CI = { required_checks: ['build', 'lint'], checks_timeout_ms: 60_000 };
const HEAD = 'a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0';
const NEW_HEAD = 'f0e1d2c3b4a5f0e1d2c3b4a5f0e1d2c3b4a5f0e1';

function report(world: World, task: { id: string }, headSha: string, checks: Array<{ name: string; status: string; url?: string }>): Promise<TaskAck> {
  return world.admin('task.report_checks', { task_id: task.id, head_sha: headSha, checks }) as Promise<TaskAck>;
}

/** A connected worker's lease in a repo with required checks, its PR reported (and so attached). */
async function attached(world: World, settings: Record<string, unknown> = {}): Promise<Leased & { after: Task }> {
  const leased = await acceptedTask(world, { settings: { ...CI, ...settings } });
  const after = await openPr(leased.worker, leased.lease);
  return { ...leased, after };
}

function ciTest(t: Omit<ConformanceTest, 'capability'>): ConformanceTest {
  return { ...t, capability: 'ci-checks' };
}

export const SUITE: Suite = {
  area: 'checks',
  tests: [
    ciTest({
      requirement: 'CHECKS-001',
      title: 'pr_opened in a repo with required checks attaches the PR: the task stays with the worker, pending, as a live lease',
      async run(world) {
        const { repo, worker, lease, after } = await attached(world);
        check(after.state === 'leased' || after.state === 'in_progress', `the task must stay leased or in_progress, it is ${after.state}`);
        check(after.pr?.url, 'the answer\'s task has no pr');
        const checks = after.checks as PrChecks | undefined;
        check(checks, 'the answer\'s task has no checks');
        checkEqual(checks.status, 'pending', 'checks.status');
        checkEqual(checks.checks.map((c) => [c.name, c.status]), [['build', 'pending'], ['lint', 'pending']], 'one pending entry per required check');
        checkEqual(checks.deadline_at - checks.started_at, CI.checks_timeout_ms, 'deadline_at - started_at');
        const told = await worker.socket.waitFor('pr.checks_updated', (p) => p.task_id === after.id, 5000);
        checkEqual((told.lease as Lease).checks_deadline_at, checks.deadline_at, 'the notified lease\'s checks_deadline_at');
        const { budget } = await world.admin('repo.get', { repo });
        checkEqual([budget.open_prs, budget.live_leases], [0, 1], 'open PRs and live leases in the budget');
        const status = await worker.ok('worker.status');
        const live = status.leases.find((l) => l.lease_id === lease.lease_id);
        check(live?.checks_deadline_at === checks.deadline_at, `worker.status must show the lease waiting until ${checks.deadline_at}: ${JSON.stringify(live)}`);
      },
    }),
    ciTest({
      requirement: 'CHECKS-002',
      title: 'a lease waiting for checks does not expire for want of heartbeats, and a heartbeat does not shorten it',
      timeoutMs: 15_000,
      async run(world) {
        const { worker, lease, after } = await attached(world, { heartbeat_timeout_ms: 1000 });
        await sleep(2500);
        const task = await world.getTask(after.id);
        check(task.state === after.state && task.lease?.lease_id === lease.lease_id, `the lease ended without heartbeats while waiting for checks: the task is ${task.state}`);
        const beat = expectOk<{ lease: Lease }>(await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'heartbeat').lease;
        checkEqual(beat.expires_at, after.checks?.deadline_at, 'expires_at after a heartbeat');
      },
    }),
    ciTest({
      requirement: 'CHECKS-003',
      title: 'the PR counts only once every required check succeeded on its head; the worker is told pr.counted',
      async run(world) {
        const { repo, worker, after } = await attached(world);
        let task = (await report(world, after, HEAD, [{ name: 'build', status: 'success' }, { name: 'unrelated', status: 'failure' }])).task;
        checkEqual([task.state, task.checks?.status, task.checks?.checks.map((c) => c.status)], [after.state, 'pending', ['success', 'pending']], 'build passed, lint not reported');
        task = (await report(world, after, HEAD, [{ name: 'build', status: 'success' }, { name: 'lint', status: 'failure', url: 'https://ci.example/lint/1' }])).task;
        checkEqual([task.state, task.checks?.status], [after.state, 'failure'], 'lint failed');
        checkEqual(task.checks?.checks[1]?.url, 'https://ci.example/lint/1', 'the failed check\'s url');
        task = (await report(world, after, HEAD, [{ name: 'build', status: 'success' }, { name: 'lint', status: 'success' }])).task;
        checkEqual([task.state, task.checks?.status, task.pr?.evidence], ['pr_opened', 'success', 'ci'], 'state, checks and evidence once both passed');
        const counted = await worker.socket.waitFor('pr.counted', (p) => p.task_id === after.id, 5000);
        checkEqual((counted.pr as { url: string }).url, after.pr?.url, 'pr.counted names the PR');
        const { budget } = await world.admin('repo.get', { repo });
        checkEqual([budget.open_prs, budget.live_leases, budget.prs_last_hour], [1, 0, 1], 'the budget once the PR counts');
      },
    }),
    ciTest({
      requirement: 'CHECKS-004',
      title: 'a report on a new head restarts the wait with a new deadline',
      async run(world) {
        const { after } = await attached(world);
        const first = (await report(world, after, HEAD, [{ name: 'build', status: 'success' }, { name: 'lint', status: 'failure' }])).task.checks as PrChecks;
        await sleep(50);
        const second = (await report(world, after, NEW_HEAD, [{ name: 'build', status: 'pending' }])).task;
        checkEqual([second.state, second.checks?.status, second.checks?.head_sha], [after.state, 'pending', NEW_HEAD], 'after a new push');
        check((second.checks?.started_at ?? 0) > first.started_at, 'started_at did not move with the new head');
        checkEqual((second.checks?.deadline_at ?? 0) - (second.checks?.started_at ?? 0), CI.checks_timeout_ms, 'the new deadline');
        checkEqual(second.lease?.expires_at, second.checks?.deadline_at, 'the lease waits until the new deadline');
      },
    }),
    ciTest({
      requirement: 'CHECKS-005',
      title: 'past the checks deadline the task goes back to its worker (heartbeat mode), not to the queue; it still counts later',
      timeoutMs: 15_000,
      async run(world) {
        const { worker, lease, after } = await attached(world, { checks_timeout_ms: 1000, heartbeat_timeout_ms: 10_000 });
        const told = await worker.socket.waitFor('pr.checks_updated', (p) => (p.checks as PrChecks).timed_out_at !== undefined, 6000);
        const relet = told.lease as Lease;
        check(relet.checks_deadline_at === undefined, 'the lease still waits for checks after the deadline');
        checkEqual(relet.expires_at - (told.checks as PrChecks).timed_out_at!, 10_000, 'the fresh heartbeat window');
        const task = await world.getTask(after.id);
        checkEqual([task.state, task.lease?.lease_id], [after.state, lease.lease_id], 'state and lease after the deadline');
        expectOk(await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'heartbeat after the deadline');
        const counted = (await report(world, after, HEAD, [{ name: 'build', status: 'success' }, { name: 'lint', status: 'success' }])).task;
        checkEqual(counted.state, 'pr_opened', 'state once the checks pass after the deadline');
      },
    }),
    ciTest({
      requirement: 'CHECKS-006',
      title: 'task.report_checks without an attached PR is INVALID_TRANSITION; a worker may not call it',
      async run(world) {
        const { task, worker } = await claimedTask(world, { settings: CI });
        expectError(await world.adminRaw('task.report_checks', { task_id: task.id, head_sha: HEAD, checks: [] }), 'INVALID_TRANSITION', 'report on a lease without a PR');
        expectError(await worker.http('task.report_checks', { task_id: task.id, head_sha: HEAD, checks: [] }), 'FORBIDDEN', 'report by a worker');
      },
    }),
    ciTest({
      requirement: 'CHECKS-007',
      title: 'without required checks a PR counts at once as self_reported, whatever the worker says',
      async run(world) {
        const { worker, lease } = await claimedTask(world);
        const task = await openPr(worker, lease, { evidence: 'ci' });
        checkEqual([task.state, task.pr?.evidence], ['pr_opened', 'self_reported'], 'state and evidence');
      },
    }),
    ciTest({
      requirement: 'CHECKS-008',
      title: 'a PR merged while it waits for its checks counts (evidence maintainer) and is merged in one write; the worker is told pr.counted',
      async run(world) {
        const { repo, worker, lease, after } = await attached(world);
        const head = await world.journalHead();
        const merged = (await world.admin('task.complete', { task_id: after.id, outcome: 'merged', reason: 'merged before CI finished' }) as TaskAck).task;
        checkEqual([merged.state, merged.pr?.evidence, merged.lease], ['merged', 'maintainer', undefined], 'state, evidence and lease after the merge');
        const counted = await worker.socket.waitFor('pr.counted', (p) => p.task_id === after.id, 5000);
        checkEqual([counted.lease_id, (counted.pr as { evidence?: string }).evidence], [lease.lease_id, 'maintainer'], 'pr.counted names the lease and the evidence');
        const events = (await taskEvents(world, head, after)).map((e) => e.type);
        checkEqual(events, ['pr.opened', 'task.merged'], 'the journal records the PR counted, then merged');
        const { budget } = await world.admin('repo.get', { repo });
        checkEqual([budget.open_prs, budget.live_leases, budget.prs_last_hour], [0, 0, 1], 'the budget after the merge');
        const status = await worker.ok('worker.status');
        check(!status.leases.some((l) => l.lease_id === lease.lease_id), 'the worker still holds the lease of a merged task');
      },
    }),
    {
      requirement: 'REPO-002',
      title: 'repo.configure keeps a stored source but forgets the origin of a setting changed by hand',
      async run(world) {
        const repo = await world.repo();
        const source = { from: 'checkout', read_at: Date.now(), files: [{ path: '.owp.yml', present: true }], origins: { required_gates: 'contract', max_open_prs: 'config' } };
        await world.admin('repo.configure', { repo, required_gates: ['tests'], max_open_prs: 9, source });
        checkEqual((await world.admin('repo.get', { repo })).settings.source?.origins, source.origins, 'origins as stored');
        await world.admin('repo.configure', { repo, max_open_prs: 4 });
        const after = (await world.admin('repo.get', { repo })).settings;
        checkEqual([after.max_open_prs, after.source?.origins], [4, { required_gates: 'contract' }], 'after a change by hand');
      },
    },
  ],
};
