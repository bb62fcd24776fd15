/** Leases: ids and epochs, deadlines, heartbeats, expiry and requeue, fencing, release, reports (SPEC §3, §5.5). */
import type { Lease, Task, Worker } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { PASSING_GATES, sleep } from '../world.ts';
import { acceptedTask, claimedTask, openPr, taskEvents } from '../scenarios.ts';

type LeaseAck = { lease: Lease };
type TaskAck = { task: Task };

export const SUITE: Suite = {
  area: 'leases',
  tests: [
    {
      requirement: 'MODEL-002',
      title: 'a task\'s epoch starts at 0 and goes up by one with every lease',
      async run(world) {
        const repo = await world.repo();
        const task = await world.task(repo);
        checkEqual(task.epoch, 0, 'epoch of a new task');
        const w = await world.worker({ connect: false });
        for (let n = 1; n <= 3; n += 1) {
          const { lease } = expectOk<{ lease: Lease }>(await w.http('task.claim', { task_id: task.id }), `claim ${n}`);
          checkEqual([lease.epoch, (await world.getTask(task.id)).epoch], [n, n], `lease and task epoch after lease ${n}`);
          expectOk(await w.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), `release ${n}`);
          checkEqual((await world.getTask(task.id)).epoch, n, `epoch after release ${n}`);
        }
      },
    },
    {
      requirement: 'LEASE-001',
      title: 'every lease has a unique lease_id and the task\'s new epoch',
      async run(world) {
        const { task, worker, lease } = await claimedTask(world);
        expectOk(await worker.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), 'release');
        const second = expectOk<{ lease: Lease }>(await worker.http('task.claim', { task_id: task.id }), 'second claim').lease;
        check(second.lease_id !== lease.lease_id, `the second lease reused ${lease.lease_id}`);
        checkEqual(second.epoch, lease.epoch + 1, 'epoch of the second lease');
      },
    },
    {
      requirement: 'LEASE-002',
      title: 'expires_at is the earlier of renewal + heartbeat_timeout_ms and max_deadline_at (grant + lease_max_duration_ms)',
      async run(world) {
        const { worker, lease } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 4000, lease_max_duration_ms: 5000 } });
        checkEqual(lease.expires_at - lease.granted_at, 4000, 'expires_at - granted_at');
        checkEqual(lease.max_deadline_at - lease.granted_at, 5000, 'max_deadline_at - granted_at');
        // A renewal more than 1 s after the grant would reach past max_deadline_at, so it must be capped there.
        await sleep(1500);
        const renewed = expectOk<LeaseAck>(await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'heartbeat').lease;
        checkEqual(renewed.expires_at, lease.max_deadline_at, 'expires_at capped by max_deadline_at');
      },
    },
    {
      requirement: 'LEASE-002',
      title: 'a new lease expires at max_deadline_at when lease_max_duration_ms is shorter than heartbeat_timeout_ms',
      async run(world) {
        const { lease } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 20_000, lease_max_duration_ms: 5000 } });
        checkEqual(lease.max_deadline_at - lease.granted_at, 5000, 'max_deadline_at - granted_at');
        checkEqual(lease.expires_at, lease.max_deadline_at, 'expires_at of a lease whose max duration is shorter than the heartbeat timeout');
      },
    },
    {
      requirement: 'LEASE-003',
      title: 'an expired lease ends: attempt counted, task ready, area lock and budget freed, lease.cancelled pushed',
      async run(world) {
        const { repo, task, worker, lease } = await acceptedTask(world, { settings: { heartbeat_timeout_ms: 4000 }, task: { area: 'expiry' } });
        // Stop qualifying for the task so it stays ready after the expiry instead of being offered back.
        await worker.ok('worker.update', { skills: [`${world.skill}-gone`] });
        const cancelled = await worker.socket.waitFor('lease.cancelled', (p) => p.lease_id === lease.lease_id, 10_000);
        checkEqual(cancelled.task_id, task.id, 'lease.cancelled task_id');
        const after = await world.untilState(task.id, 'ready', 3000);
        checkEqual(after.attempts, 1, 'attempts after expiry');
        const { budget, locks } = await world.admin('repo.get', { repo });
        check(!Object.values(locks).includes(task.id), `area lock still held by ${task.id}: ${JSON.stringify(locks)}`);
        checkEqual(budget.live_leases, 0, 'live leases in the budget after expiry');
        const events = await taskEvents(world, 0, task);
        check(events.some((e) => e.type === 'lease.expired'), 'no lease.expired event in the journal');
      },
    },
    {
      requirement: 'LEASE-004',
      title: 'the requeue after an expiry happens within 1 s of the deadline',
      async run(world) {
        const head = await world.journalHead();
        const { task, lease } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 1000 } });
        await world.untilState(task.id, 'ready', 5000);
        const expired = (await taskEvents(world, head, task)).find((e) => e.type === 'lease.expired');
        check(expired, 'no lease.expired event');
        const late = expired.at - lease.expires_at;
        check(late >= 0 && late <= 1000, `requeued ${late} ms after the deadline (must be 0–1000)`);
      },
    },
    {
      requirement: 'LEASE-005',
      title: 'a lease is never renewed past max_deadline_at, and ends there',
      timeoutMs: 30_000,
      async run(world) {
        const { task, worker, lease } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 2000, lease_max_duration_ms: 5000 } });
        let refused: string | undefined;
        while (Date.now() < lease.max_deadline_at + 1500) {
          const ack = await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch });
          if (!ack.ok) {
            refused = ack.error.code;
            break;
          }
          const renewed = (ack.data as LeaseAck).lease;
          check(renewed.expires_at <= lease.max_deadline_at, `renewed to ${renewed.expires_at}, past max_deadline_at ${lease.max_deadline_at}`);
          await sleep(300);
        }
        checkEqual(refused, 'LEASE_EXPIRED', 'heartbeat after max_deadline_at');
        // LEASE-004 gives the requeue up to 1 s after the deadline.
        await world.until(async () => (await world.getTask(task.id)).lease?.lease_id !== lease.lease_id, `lease ${lease.lease_id} ends after max_deadline_at`, 2000);
      },
    },
    {
      requirement: 'HB-001',
      title: 'a heartbeat by the holder with the current epoch, without an idempotency key, moves expires_at forward',
      async run(world) {
        const { worker, lease } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 5000 } });
        await sleep(200);
        const renewed = expectOk<LeaseAck>(await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'heartbeat without a key').lease;
        check(renewed.expires_at > lease.expires_at, `expires_at did not move: ${lease.expires_at} → ${renewed.expires_at}`);
        checkEqual(renewed.lease_id, lease.lease_id, 'renewed lease id');
      },
    },
    {
      requirement: 'HB-002',
      title: 'leases tell workers to heartbeat well within the timeout (heartbeat_interval_ms about a third)',
      async run(world) {
        const { lease } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 3000 } });
        check(lease.heartbeat_interval_ms > 0 && lease.heartbeat_interval_ms <= 1500, `heartbeat_interval_ms ${lease.heartbeat_interval_ms} for a 3000 ms timeout`);
      },
    },
    {
      requirement: 'FENCE-001',
      title: 'updates naming a stale epoch are refused with STALE_EPOCH and change nothing',
      async run(world) {
        const { task, worker, lease: first } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 10_000 } });
        expectOk(await worker.http('lease.release', { lease_id: first.lease_id, epoch: first.epoch }), 'release');
        const current = expectOk<{ lease: Lease }>(await worker.http('task.claim', { task_id: task.id }), 'second claim').lease;
        const stale = { lease_id: current.lease_id, epoch: first.epoch };
        const before = await world.getTask(task.id);
        expectError(await worker.http('lease.heartbeat', stale), 'STALE_EPOCH', 'heartbeat with the old epoch');
        expectError(await worker.http('lease.report', { ...stale, state: 'in_progress' }), 'STALE_EPOCH', 'report with the old epoch');
        expectError(await worker.http('lease.release', stale), 'STALE_EPOCH', 'release with the old epoch');
        const after = await world.getTask(task.id);
        checkEqual([after.state, after.attempts, after.epoch, after.lease?.expires_at], [before.state, before.attempts, before.epoch, before.lease?.expires_at], 'task after the stale updates');
      },
    },
    {
      requirement: 'FENCE-002',
      title: 'updates on a lease that has ended are refused with LEASE_EXPIRED',
      async run(world) {
        const { worker, lease } = await claimedTask(world);
        expectOk(await worker.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), 'release');
        const ref = { lease_id: lease.lease_id, epoch: lease.epoch };
        expectError(await worker.http('lease.heartbeat', ref), 'LEASE_EXPIRED', 'heartbeat after release');
        expectError(await worker.http('lease.report', { ...ref, state: 'in_progress' }), 'LEASE_EXPIRED', 'report after release');
        expectError(await worker.http('lease.release', ref), 'LEASE_EXPIRED', 'release after release (new key)');
        const expiring = await claimedTask(world, { settings: { heartbeat_timeout_ms: 1000 } });
        await world.untilState(expiring.task.id, 'ready', 5000);
        expectError(await expiring.worker.http('lease.heartbeat', { lease_id: expiring.lease.lease_id, epoch: expiring.lease.epoch }), 'LEASE_EXPIRED', 'heartbeat after expiry');
      },
    },
    {
      requirement: 'FENCE-002',
      title: 'a heartbeat that arrives after expires_at is refused even before the coordinator has requeued the task',
      timeoutMs: 30_000,
      async run(world) {
        // The deadline is the lease's own expires_at, not the moment a sweep gets to it (LEASE-004 allows
        // up to 1 s). Each round sends one heartbeat just after the deadline by the coordinator's clock
        // (its offset from ours measured on the claim); a renewal's expires_at - heartbeat_timeout_ms is
        // when the coordinator took it, so an accepted heartbeat proves on which side of the deadline it landed.
        const timeout = 1000;
        const repo = await world.repo({ heartbeat_timeout_ms: timeout, lease_max_duration_ms: 600_000 });
        const worker = await world.worker({ connect: false });
        let judged = 0;
        for (let round = 0; round < 6 && judged < 3; round += 1) {
          const task = await world.task(repo);
          const sent = Date.now();
          const { lease } = expectOk<{ lease: Lease }>(await worker.http('task.claim', { task_id: task.id }), `claim ${round}`);
          const offset = lease.granted_at - (sent + Date.now()) / 2;
          await sleep(Math.max(0, lease.expires_at - offset - Date.now() + 20 + round * 15));
          const ack = await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch });
          if (ack.ok) {
            const takenAt = (ack.data as LeaseAck).lease.expires_at - timeout;
            check(takenAt < lease.expires_at, `a heartbeat the coordinator took at ${takenAt}, ${takenAt - lease.expires_at} ms after the lease's expires_at ${lease.expires_at}, renewed it`);
            expectOk(await worker.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), 'release of the renewed lease');
            continue; // it landed before the deadline (clock offset): not a judgement either way
          }
          checkEqual(ack.error.code, 'LEASE_EXPIRED', 'heartbeat after expires_at');
          judged += 1;
          await world.admin('task.cancel', { task_id: task.id, reason: 'conformance' });
        }
        check(judged > 0, 'no heartbeat landed after the deadline in six rounds');
      },
    },
    {
      requirement: 'FENCE-003',
      title: 'an old holder gets LEASE_EXPIRED for its ended lease, NOT_HOLDER for the new holder\'s, STALE_EPOCH only on a lease it holds',
      async run(world) {
        const { repo, task, worker: old, lease: first } = await claimedTask(world);
        expectOk(await old.http('lease.release', { lease_id: first.lease_id, epoch: first.epoch }), 'release');
        const holder = await world.worker({ connect: false });
        const second = expectOk<{ lease: Lease }>(await holder.http('task.claim', { task_id: task.id }), 'claim by the new holder').lease;
        expectError(await old.http('lease.heartbeat', { lease_id: first.lease_id, epoch: first.epoch }), 'LEASE_EXPIRED', 'old holder on its ended lease with its old epoch');
        expectError(await old.http('lease.report', { lease_id: first.lease_id, epoch: second.epoch, state: 'in_progress' }), 'LEASE_EXPIRED', 'old holder on its ended lease with the current epoch');
        expectError(await old.http('lease.heartbeat', { lease_id: second.lease_id, epoch: first.epoch }), 'NOT_HOLDER', 'old holder on the new holder\'s lease with its old epoch');
        expectError(await holder.http('lease.heartbeat', { lease_id: second.lease_id, epoch: first.epoch }), 'STALE_EPOCH', 'the holder on its lease with an old epoch');
        const other = await world.task(repo);
        const { lease: live } = expectOk<{ lease: Lease }>(await old.http('task.claim', { task_id: other.id }), 'claim of another task');
        expectError(await old.http('lease.release', { lease_id: live.lease_id, epoch: live.epoch + 1 }), 'STALE_EPOCH', 'a future epoch on a held lease');
      },
    },
    {
      requirement: 'LEASE-006',
      title: 'lease.release ends the lease, counts an attempt and returns the task to ready (blocked at max_attempts)',
      async run(world) {
        const { worker, lease } = await claimedTask(world);
        const released = expectOk<TaskAck>(await worker.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch, reason: 'conformance' }), 'release').task;
        checkEqual([released.state, released.attempts, released.lease], ['ready', 1, undefined], 'task after release (state, attempts, lease)');
        const once = await claimedTask(world, { settings: { max_attempts: 1 } });
        const blocked = expectOk<TaskAck>(await once.worker.http('lease.release', { lease_id: once.lease.lease_id, epoch: once.lease.epoch }), 'release at max_attempts 1').task;
        checkEqual(blocked.state, 'blocked', 'task after its last attempt');
      },
    },
    {
      requirement: 'REPORT-001',
      title: 'in_progress moves leased to in_progress once; reporting it again is INVALID_TRANSITION',
      async run(world) {
        const { worker, lease } = await claimedTask(world);
        const ref = { lease_id: lease.lease_id, epoch: lease.epoch, state: 'in_progress' };
        checkEqual(expectOk<TaskAck>(await worker.http('lease.report', ref), 'in_progress').task.state, 'in_progress', 'state');
        expectError(await worker.http('lease.report', ref), 'INVALID_TRANSITION', 'in_progress again (new key)');
      },
    },
    {
      requirement: 'REPORT-002',
      title: 'pr_opened needs pr with url and gates; missing or failed required gates are GATES_MISSING',
      async run(world) {
        const { worker, lease } = await claimedTask(world, { settings: { required_gates: ['tests', 'lint'] } });
        const ref = { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened' };
        const url = 'https://github.com/example/repo/pull/3';
        expectError(await worker.http('lease.report', ref), ['VALIDATION_FAILED', 'GATES_MISSING'], 'pr_opened without pr');
        const missing = expectError(await worker.http('lease.report', { ...ref, pr: { url, gates: PASSING_GATES } }), 'GATES_MISSING', 'pr_opened without lint');
        check(JSON.stringify(missing.details?.missing ?? '').includes('lint'), `details.missing ${JSON.stringify(missing.details?.missing)} does not name lint`);
        expectError(await worker.http('lease.report', { ...ref, pr: { url, gates: [...PASSING_GATES, { name: 'lint', passed: false }] } }), 'GATES_MISSING', 'pr_opened with lint failed');
        const opened = expectOk<TaskAck>(await worker.http('lease.report', { ...ref, pr: { url, gates: [...PASSING_GATES, { name: 'lint', passed: true }] } }), 'pr_opened with every gate').task;
        checkEqual(opened.state, 'pr_opened', 'state');
      },
    },
    {
      requirement: 'REPORT-003',
      title: 'pr_opened ends the lease and frees capacity, but keeps the area lock and budget unit',
      async run(world) {
        const { repo, task, worker, lease } = await claimedTask(world, { task: { area: 'api', effort: 2 } });
        await openPr(worker, lease);
        expectError(await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'LEASE_EXPIRED', 'heartbeat after pr_opened');
        checkEqual(expectOk<{ worker: Worker }>(await worker.http('worker.status'), 'worker.status').worker.capacity_used, 0, 'capacity_used after pr_opened');
        const { budget, locks } = await world.admin('repo.get', { repo });
        checkEqual(locks.api, task.id, 'area lock api after pr_opened');
        checkEqual(budget.open_prs, 1, 'open PRs in the budget');
        const rival = await world.task(repo, { area: 'api' });
        const other = await world.worker({ connect: false });
        expectError(await other.http('task.claim', { task_id: rival.id }), 'AREA_LOCKED', 'claim in the area of an open PR');
      },
    },
    {
      requirement: 'REPORT-004',
      title: 'blocked needs a non-empty reason; the task becomes blocked and the lease ends',
      async run(world) {
        const { worker, lease } = await claimedTask(world);
        const ref = { lease_id: lease.lease_id, epoch: lease.epoch, state: 'blocked' };
        expectError(await worker.http('lease.report', ref), 'VALIDATION_FAILED', 'blocked without a reason');
        expectError(await worker.http('lease.report', { ...ref, reason: '   ' }), 'VALIDATION_FAILED', 'blocked with a blank reason');
        const blocked = expectOk<TaskAck>(await worker.http('lease.report', { ...ref, reason: 'the issue needs a design decision' }), 'blocked with a reason').task;
        checkEqual([blocked.state, blocked.lease], ['blocked', undefined], 'task after blocked');
        check((blocked.blocked_reason ?? '').includes('design decision'), `blocked_reason "${blocked.blocked_reason}"`);
        expectError(await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'LEASE_EXPIRED', 'heartbeat after blocked');
      },
    },
  ],
};
