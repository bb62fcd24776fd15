/** Idempotency keys: required, replayed, reuse refused, scoped to the principal, refusals not recorded (SPEC §5.12). */
import type { Lease, Task, Worker } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';

export const SUITE: Suite = {
  area: 'idempotency',
  tests: [
    {
      requirement: 'IDEM-001',
      title: 'mutating operations without a key are refused with IDEMPOTENCY_KEY_REQUIRED; the Idempotency-Key header works',
      async run(world) {
        const repo = await world.repo();
        expectError(await world.adminRaw('task.create', { repo, title: 'no key', idempotency_key: null }), 'IDEMPOTENCY_KEY_REQUIRED', 'HTTP task.create without a key');
        const socket = await world.connect(world.run.adminToken);
        expectError(await socket.call('repo.configure', { repo, paused: false, idempotency_key: null }), 'IDEMPOTENCY_KEY_REQUIRED', 'socket repo.configure without a key');
        const w = await world.worker({ connect: false });
        expectError(await w.http('worker.update', { capacity: 2, idempotency_key: null }), 'IDEMPOTENCY_KEY_REQUIRED', 'worker.update without a key');
        const viaHeader = await world.http.call('task.create', { repo, title: 'header key', skills: [world.skill], idempotency_key: null }, world.run.adminToken, { 'idempotency-key': `hdr-${world.skill}` });
        expectOk(viaHeader, 'task.create with the Idempotency-Key header');
        expectError(await world.adminRaw('task.create', { repo, title: 'bad key', idempotency_key: 'clé-\u0007' }), 'VALIDATION_FAILED', 'a key that is not printable ASCII');
        expectError(await world.adminRaw('task.create', { repo, title: 'long key', idempotency_key: 'k'.repeat(256) }), 'VALIDATION_FAILED', 'a key of 256 characters');
      },
    },
    {
      requirement: 'IDEM-002',
      title: 'the same key and payload return the first answer without changing anything again',
      async run(world) {
        const repo = await world.repo();
        const params = { repo, title: 'once', skills: [world.skill], idempotency_key: `create-${world.skill}` };
        const first = expectOk<{ task: Task }>(await world.adminRaw('task.create', params), 'first create').task;
        const again = expectOk<{ task: Task }>(await world.adminRaw('task.create', params), 'replayed create').task;
        checkEqual(again.id, first.id, 'task id of the replay');
        checkEqual((await world.admin('task.list', { repo })).tasks.length, 1, 'tasks after the replay');
        const w = await world.worker({ connect: false });
        const claimParams = { task_id: first.id, idempotency_key: `claim-${world.skill}` };
        const lease = expectOk<{ lease: Lease }>(await w.http('task.claim', claimParams), 'claim').lease;
        const replay = expectOk<{ lease: Lease }>(await w.http('task.claim', claimParams), 'replayed claim').lease;
        checkEqual([replay.lease_id, replay.epoch], [lease.lease_id, lease.epoch], 'lease of the replayed claim');
        const releaseParams = { lease_id: lease.lease_id, epoch: lease.epoch, idempotency_key: `release-${world.skill}` };
        expectOk(await w.http('lease.release', releaseParams), 'release');
        checkEqual(expectOk<{ task: Task }>(await w.http('lease.release', releaseParams), 'replayed release').task.attempts, 1, 'attempts in the replayed answer');
        checkEqual((await world.getTask(first.id)).attempts, 1, 'attempts after the replayed release');
      },
    },
    {
      requirement: 'IDEM-003',
      title: 'the same key with another payload or operation is refused with IDEMPOTENCY_KEY_REUSED',
      async run(world) {
        const repo = await world.repo();
        const key = `reuse-${world.skill}`;
        const task = expectOk<{ task: Task }>(await world.adminRaw('task.create', { repo, title: 'first', skills: [world.skill], idempotency_key: key }), 'first create').task;
        expectError(await world.adminRaw('task.create', { repo, title: 'second', skills: [world.skill], idempotency_key: key }), 'IDEMPOTENCY_KEY_REUSED', 'same key, other title');
        expectError(await world.adminRaw('task.cancel', { task_id: task.id, idempotency_key: key }), 'IDEMPOTENCY_KEY_REUSED', 'same key, other operation');
        checkEqual((await world.getTask(task.id)).state, 'ready', 'task after the refused reuse');
        checkEqual((await world.admin('task.list', { repo })).tasks.length, 1, 'tasks after the refused reuse');
      },
    },
    {
      requirement: 'IDEM-004',
      title: 'keys are scoped to the principal: two workers may use the same key',
      async run(world) {
        const a = await world.worker({ connect: false });
        const b = await world.worker({ connect: false });
        const key = `shared-${world.skill}`;
        checkEqual(expectOk<{ worker: Worker }>(await a.http('worker.update', { capacity: 4, idempotency_key: key }), 'update by a').worker.id, a.id, 'worker of the first update');
        const second = expectOk<{ worker: Worker }>(await b.http('worker.update', { capacity: 4, idempotency_key: key }), 'update by b with the same key').worker;
        checkEqual([second.id, second.capacity], [b.id, 4], 'the second worker\'s own answer');
      },
    },
    {
      requirement: 'IDEM-005',
      title: 'a refused request is not recorded: retrying with the same key runs it again',
      async run(world) {
        const repo = `${world.run.namespace}/late-${world.skill}`;
        const params = { repo, title: 'after the repo exists', skills: [world.skill], idempotency_key: `late-${world.skill}` };
        expectError(await world.adminRaw('task.create', params), 'NOT_FOUND', 'create before the repo exists');
        await world.admin('repo.configure', { repo, offer_timeout_ms: 1000 });
        world.run.repos.push(repo);
        const task = expectOk<{ task: Task }>(await world.adminRaw('task.create', params), 'the same request once the repo exists').task;
        check(task.repo === repo, 'the retried request did not create the task');
        await world.admin('task.cancel', { task_id: task.id });
      },
    },
  ],
};
