/** Maintainer operations on tasks and repos, settings bounds and explain (SPEC §3, §5.6–§5.8). */
import type { Task } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { acceptedTask, claimedTask, openPr } from '../scenarios.ts';

type TaskAck = { task: Task };

export const SUITE: Suite = {
  area: 'maintainers',
  tests: [
    {
      requirement: 'MAINT-001',
      title: 'task.create makes a ready task; an unknown repo is NOT_FOUND',
      async run(world) {
        const repo = await world.repo();
        const task = await world.task(repo, { title: 'fix the docs', priority: 3 });
        check(/^T-[1-9]\d*$/.test(task.id), `task id ${task.id} is not T-<n>`);
        checkEqual([task.state, task.attempts, task.epoch, task.repo, task.priority], ['ready', 0, 0, repo, 3], 'new task (state, attempts, epoch, repo, priority)');
        expectError(await world.adminRaw('task.create', { repo: `${world.run.namespace}/missing-repo`, title: 'x' }), 'NOT_FOUND', 'task.create in an unknown repo');
      },
    },
    {
      requirement: 'MAINT-007',
      title: 'task.create_many creates every task in order or none, reports each refused item, and replays under its key',
      async run(world) {
        const repo = await world.repo();
        const item = (title: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ repo, title, skills: [world.skill], ...extra });
        const count = async (): Promise<number> => expectOk<{ tasks: Task[] }>(await world.adminRaw('task.list', { repo, limit: 1000 }), 'task.list').tasks.length;
        const key = `bulk-${world.skill}`;
        const made = expectOk<{ tasks: Task[] }>(await world.adminRaw('task.create_many', { tasks: [item('first'), item('second', { priority: 2 }), item('third')], idempotency_key: key }), 'task.create_many').tasks;
        const ids = made.map((t) => Number(t.id.slice(2)));
        checkEqual(made.map((t) => [t.title, t.state, t.repo]), [['first', 'ready', repo], ['second', 'ready', repo], ['third', 'ready', repo]], 'created tasks (title, state, repo), in order');
        checkEqual(ids.map((n) => n - (ids[0] as number)), [0, 1, 2], 'consecutive ids');
        const replay = expectOk<{ tasks: Task[] }>(await world.adminRaw('task.create_many', { tasks: [item('first'), item('second', { priority: 2 }), item('third')], idempotency_key: key }), 'replay').tasks;
        checkEqual(replay.map((t) => t.id), made.map((t) => t.id), 'a replay answers the same tasks');
        const invalid = expectError(await world.adminRaw('task.create_many', { tasks: [item('fine'), item('bad', { effort: 0 }), item('fine too')] }), 'VALIDATION_FAILED', 'a batch with an invalid item');
        checkEqual((invalid.details?.items as Array<{ index: number; code: string }> | undefined)?.map((i) => [i.index, i.code]), [[1, 'VALIDATION_FAILED']], 'details.items of the invalid batch');
        const unknown = expectError(await world.adminRaw('task.create_many', { tasks: [item('fine'), item('nowhere', { repo: `${world.run.namespace}/missing-repo` })] }), 'NOT_FOUND', 'a batch naming an unknown repo');
        checkEqual((unknown.details?.items as Array<{ index: number; code: string }> | undefined)?.map((i) => [i.index, i.code]), [[1, 'NOT_FOUND']], 'details.items of the batch with an unknown repo');
        checkEqual(await count(), 3, 'tasks in the repo after the refused batches (nothing of them was created)');
      },
    },
    {
      requirement: 'MAINT-002',
      title: 'scheduling fields change only while ready or blocked',
      async run(world) {
        const { repo, task } = await claimedTask(world);
        for (const [field, value] of [['area', 'ui'], ['tier', 1], ['effort', 2], ['skills', [world.skill, 'more']]] as const) {
          expectError(await world.adminRaw('task.update', { task_id: task.id, [field]: value }), 'INVALID_TRANSITION', `task.update ${field} while leased`);
        }
        checkEqual(expectOk<TaskAck>(await world.adminRaw('task.update', { task_id: task.id, title: 'renamed' }), 'title while leased').task.title, 'renamed', 'title');
        const ready = await world.task(repo);
        checkEqual(expectOk<TaskAck>(await world.adminRaw('task.update', { task_id: ready.id, effort: 2, area: 'ui' }), 'effort and area while ready').task.effort, 2, 'effort');
      },
    },
    {
      requirement: 'MAINT-003',
      title: 'task.cancel closes any non-terminal task and tells the holder (lease.cancelled / offer.withdrawn)',
      async run(world) {
        const leased = await acceptedTask(world, { settings: { offer_timeout_ms: 30_000 } });
        const offeredTask = await world.task(leased.repo);
        const offer = await leased.worker.nextOffer(offeredTask.id);
        checkEqual(expectOk<TaskAck>(await world.adminRaw('task.cancel', { task_id: leased.task.id, reason: 'duplicate' }), 'cancel leased').task.state, 'closed', 'state after cancel of a leased task');
        await leased.worker.socket.waitFor('lease.cancelled', (p) => p.lease_id === leased.lease.lease_id, 3000);
        checkEqual(expectOk<TaskAck>(await world.adminRaw('task.cancel', { task_id: offeredTask.id }), 'cancel offered').task.state, 'closed', 'state after cancel of an offered task');
        await leased.worker.socket.waitFor('offer.withdrawn', (p) => p.offer_id === offer.offer_id, 3000);
        const ready = await world.task(leased.repo, { skills: [`${world.skill}-nobody`] });
        checkEqual(expectOk<TaskAck>(await world.adminRaw('task.cancel', { task_id: ready.id }), 'cancel ready').task.state, 'closed', 'state after cancel of a ready task');
      },
    },
    {
      requirement: 'MAINT-004',
      title: 'lease.cancel ends the lease, counts an attempt, returns the task to ready and pushes lease.cancelled',
      async run(world) {
        const { worker, lease } = await acceptedTask(world);
        await worker.ok('worker.update', { skills: [`${world.skill}-gone`] });
        const after = expectOk<TaskAck>(await world.adminRaw('lease.cancel', { lease_id: lease.lease_id, reason: 'reassigning' }), 'lease.cancel').task;
        checkEqual([after.state, after.attempts], ['ready', 1], 'task after lease.cancel (state, attempts)');
        await worker.socket.waitFor('lease.cancelled', (p) => p.lease_id === lease.lease_id, 3000);
      },
    },
    {
      requirement: 'MAINT-005',
      title: 'task.unblock returns a blocked task to ready with its attempts reset',
      async run(world) {
        const { task, worker, lease } = await claimedTask(world);
        await worker.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch });
        checkEqual((await world.admin('task.block', { task_id: task.id, reason: 'waiting on design' })).task.state, 'blocked', 'after task.block');
        const unblocked = (await world.admin('task.unblock', { task_id: task.id })).task;
        checkEqual([unblocked.state, unblocked.attempts], ['ready', 0], 'after task.unblock (state, attempts)');
      },
    },
    {
      requirement: 'MAINT-006',
      title: 'task.complete records merged or closed only from pr_opened and frees the budget unit and area lock',
      async run(world) {
        const { repo, task, worker, lease } = await claimedTask(world, { task: { area: 'core' } });
        expectError(await world.adminRaw('task.complete', { task_id: task.id, outcome: 'merged' }), 'INVALID_TRANSITION', 'complete while leased');
        await openPr(worker, lease);
        checkEqual((await world.admin('task.complete', { task_id: task.id, outcome: 'merged' })).task.state, 'merged', 'after complete merged');
        const { budget, locks } = await world.admin('repo.get', { repo });
        check(locks.core === undefined, `area core still locked by ${locks.core}`);
        checkEqual(budget.open_prs, 0, 'open PRs after merge');
        const second = await claimedTask(world, { repo, task: { area: 'core' } });
        await openPr(second.worker, second.lease);
        checkEqual((await world.admin('task.complete', { task_id: second.task.id, outcome: 'closed', reason: 'not wanted' })).task.state, 'closed', 'after complete closed');
      },
    },
    {
      requirement: 'REPO-001',
      title: 'repo.configure creates with defaults and changes only what is given; repo.get reports budget and locks',
      async run(world) {
        const repo = `${world.run.namespace}/defaults-${world.skill}`;
        world.run.repos.push(repo);
        const created = await world.admin('repo.configure', { repo, max_open_prs: 4 });
        const s = created.settings;
        checkEqual([s.max_open_prs, s.max_new_prs_per_hour, s.heartbeat_timeout_ms, s.lease_max_duration_ms, s.offer_timeout_ms, s.max_attempts, s.required_gates, s.paused], [4, 2, 30000, 7200000, 30000, 3, ['tests'], false], 'settings of a new repo (defaults of SPEC §3)');
        const changed = (await world.admin('repo.configure', { repo, max_attempts: 5 })).settings;
        checkEqual([changed.max_open_prs, changed.max_attempts], [4, 5], 'after changing max_attempts only');
        const got = await world.admin('repo.get', { repo });
        for (const key of ['open_prs', 'live_leases', 'open_offers', 'prs_last_hour', 'throttled'] as const) check(key in got.budget, `repo.get budget lacks ${key}`);
        check(typeof got.locks === 'object', 'repo.get lacks locks');
        const listed = (await world.admin('repo.list', {})).repos.some((r) => r.settings.repo === repo);
        check(listed, 'repo.list does not include the new repo');
      },
    },
    {
      requirement: 'MODEL-001',
      title: 'settings outside their bounds are refused with VALIDATION_FAILED',
      async run(world) {
        const repo = await world.repo();
        const out: Array<[string, unknown]> = [['heartbeat_timeout_ms', 999], ['offer_timeout_ms', 600_001], ['max_attempts', 0], ['max_attempts', 21], ['max_open_prs', -1], ['lease_max_duration_ms', 4999], ['max_new_prs_per_hour', 1001]];
        for (const [key, value] of out) expectError(await world.adminRaw('repo.configure', { repo, [key]: value }), 'VALIDATION_FAILED', `${key} = ${String(value)}`);
        const gates = Array.from({ length: 17 }, (_v, i) => `gate${i}`);
        expectError(await world.adminRaw('repo.configure', { repo, required_gates: gates }), 'VALIDATION_FAILED', '17 required gates');
        checkEqual((await world.admin('repo.get', { repo })).settings.max_attempts, 3, 'max_attempts after the refusals');
      },
    },
    {
      requirement: 'EXPLAIN-001',
      title: 'task.explain says whether a task is offerable and names every reason (area holder, paused, missing skill)',
      async run(world) {
        const { repo, task: holder } = await claimedTask(world, { task: { area: 'search' } });
        const locked = await world.task(repo, { area: 'search', skills: [`${world.skill}-rust`] });
        const explained = await world.admin('task.explain', { task_id: locked.id });
        check(explained.offerable === false, 'a task whose area is held is explained as offerable');
        const text = JSON.stringify(explained.reasons);
        check(text.includes(holder.id), `the reasons do not name the area holder ${holder.id}: ${text}`);
        check(text.includes(`${world.skill}-rust`), `the reasons do not name the missing skill: ${text}`);
        await world.admin('repo.configure', { repo, paused: true });
        const paused = await world.admin('task.explain', { task_id: (await world.task(repo)).id });
        check(paused.offerable === false && /paus/i.test(JSON.stringify(paused.reasons)), `a task in a paused repo: ${JSON.stringify(paused)}`);
      },
    },
  ],
};
