/** Tokens, roles, repo scopes and holders (SPEC §4 "Access", §5.3, §5.9, §5.10). */
import { createHash } from 'node:crypto';
import type { Worker } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { ConnectRefused, WireSocket } from '../wire.ts';
import { claimedTask } from '../scenarios.ts';

export const SUITE: Suite = {
  area: 'auth',
  tests: [
    {
      requirement: 'AUTH-001',
      title: 'a socket without a token: hello is UNAUTHENTICATED, other operations HELLO_REQUIRED, coordinator.info answered',
      async run(world) {
        const socket = await world.rawSocket();
        expectOk(await socket.call('coordinator.info', {}), 'coordinator.info on a tokenless socket');
        expectError(await socket.hello(), 'UNAUTHENTICATED', 'session.hello on a tokenless socket');
        expectError(await socket.call('task.list', {}), 'HELLO_REQUIRED', 'task.list on a tokenless socket after the refused hello');
        expectError(await socket.call('worker.status', {}), 'HELLO_REQUIRED', 'worker.status on a tokenless socket');
      },
    },
    {
      requirement: 'AUTH-001',
      title: 'requests without a valid token are refused with UNAUTHENTICATED (HTTP 401)',
      async run(world) {
        const repo = await world.repo();
        for (const [name, params] of [['worker.status', {}], ['task.create', { repo, title: 'x' }], ['task.list', {}], ['journal.read', {}]] as const) {
          const none = await world.http.call(name, params);
          expectError(none, 'UNAUTHENTICATED', `${name} without a token`);
          checkEqual(none.status, 401, `${name} without a token: HTTP status`);
          const wrong = await world.http.call(name, params, 'owp_wrong_token_0123456789abcdef');
          expectError(wrong, 'UNAUTHENTICATED', `${name} with a wrong token`);
          checkEqual(wrong.status, 401, `${name} with a wrong token: HTTP status`);
        }
        const anonymous = await world.rawSocket();
        expectError(await anonymous.hello(), 'UNAUTHENTICATED', 'hello on a socket without a token');
      },
    },
    {
      requirement: 'AUTH-002',
      title: 'worker operations with a maintainer token and maintainer operations with a worker token are FORBIDDEN',
      async run(world) {
        const repo = await world.repo();
        const w = await world.worker({ connect: false });
        expectError(await w.http('task.create', { repo, title: 'x' }), 'FORBIDDEN', 'task.create with a worker token');
        expectError(await w.http('repo.configure', { repo, paused: true }), 'FORBIDDEN', 'repo.configure with a worker token');
        expectError(await w.http('worker.list'), 'FORBIDDEN', 'worker.list with a worker token');
        expectError(await world.adminRaw('offer.list', {}), 'FORBIDDEN', 'offer.list with a maintainer token');
        expectError(await world.adminRaw('task.claim', { task_id: 'T-1' }), 'FORBIDDEN', 'task.claim with a maintainer token');
      },
    },
    {
      requirement: 'AUTH-003',
      title: 'a maintainer token scoped to some repos is FORBIDDEN on others',
      async run(world) {
        const mine = await world.repo();
        const other = await world.repo();
        const foreign = await world.task(other);
        const token = await world.maintainer([mine]);
        expectOk(await world.http.call('task.create', { repo: mine, title: 'in scope', skills: [world.skill] }, token), 'task.create in scope');
        expectError(await world.http.call('task.create', { repo: other, title: 'out of scope' }, token), 'FORBIDDEN', 'task.create out of scope');
        expectError(await world.http.call('task.cancel', { task_id: foreign.id }, token), 'FORBIDDEN', 'task.cancel out of scope');
        expectError(await world.http.call('repo.configure', { repo: other, paused: true }, token), 'FORBIDDEN', 'repo.configure out of scope');
        const owner = await world.maintainer([`${world.run.namespace}/*`]);
        expectOk(await world.http.call('repo.configure', { repo: other, max_attempts: 3 }, owner), 'repo.configure under an owner/* scope');
      },
    },
    {
      requirement: 'AUTH-004',
      title: 'another worker\'s offer or lease is refused with NOT_HOLDER',
      async run(world) {
        const repo = await world.repo();
        const a = await world.worker();
        const task = await world.task(repo);
        const offer = await a.nextOffer(task.id);
        const b = await world.worker({ connect: false });
        expectError(await b.http('offer.accept', { offer_id: offer.offer_id }), 'NOT_HOLDER', 'accepting another worker\'s offer');
        expectError(await b.http('offer.decline', { offer_id: offer.offer_id }), 'NOT_HOLDER', 'declining another worker\'s offer');
        const { lease } = await a.accept(offer);
        const ref = { lease_id: lease.lease_id, epoch: lease.epoch };
        expectError(await b.http('lease.heartbeat', ref), 'NOT_HOLDER', 'heartbeat of another worker\'s lease');
        expectError(await b.http('lease.release', ref), 'NOT_HOLDER', 'release of another worker\'s lease');
        expectError(await b.http('lease.report', { ...ref, state: 'in_progress' }), 'NOT_HOLDER', 'report on another worker\'s lease');
        checkEqual((await world.getTask(task.id)).state, 'leased', 'the task after the refused calls');
      },
    },
    {
      requirement: 'AUTH-005',
      title: 'admin operations need a token scoped to *',
      async run(world) {
        const w = await world.worker({ connect: false });
        const scoped = await world.maintainer([`${world.run.namespace}/*`]);
        expectError(await world.http.call('worker.set_trust', { worker_id: w.id, trust: 2 }, scoped), 'FORBIDDEN', 'worker.set_trust with an owner/* token');
        expectError(await world.http.call('worker.revoke', { worker_id: w.id }, scoped), 'FORBIDDEN', 'worker.revoke with an owner/* token');
        expectError(await world.http.call('maintainer.create', { name: 'escalate', repos: ['*'] }, scoped), 'FORBIDDEN', 'maintainer.create with an owner/* token');
        checkEqual(expectOk<{ worker: Worker }>(await w.http('worker.status'), 'worker.status').worker.trust, 0, 'trust after the refused set_trust');
      },
    },
    {
      requirement: 'AUTH-006',
      title: 'after worker.revoke the token is refused and the worker\'s leases and offers end',
      async run(world) {
        const { task, worker } = await claimedTask(world);
        const repo = task.repo;
        const offered = await world.worker();
        const second = await world.task(repo);
        const offer = await offered.nextOffer(second.id);
        await world.admin('worker.revoke', { worker_id: worker.id, reason: 'conformance' });
        await world.admin('worker.revoke', { worker_id: offered.id, reason: 'conformance' });
        const refused = await worker.http('worker.status');
        expectError(refused, 'UNAUTHENTICATED', 'worker.status with a revoked token');
        const connect = await WireSocket.open(world.run.url, worker.token, world.run.timeoutMs).then(
          (s) => {
            s.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        check(connect instanceof ConnectRefused && connect.code === 'UNAUTHENTICATED', 'a socket with a revoked token was not refused with UNAUTHENTICATED');
        const after = await world.getTask(task.id);
        check(after.lease === undefined && after.state !== 'leased' && after.state !== 'in_progress', `the revoked worker's task is still ${after.state} under a lease`);
        const secondAfter = await world.getTask(second.id);
        check(secondAfter.offer?.offer_id !== offer.offer_id, 'the revoked worker\'s offer is still open');
      },
    },
    {
      requirement: 'AUTH-007',
      title: 'replaying worker.register returns the same worker with a new token and invalidates the old one',
      async run(world) {
        const params = { github_login: `cf${Date.now().toString(36)}r`, skills: [world.skill], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: false }, idempotency_key: `register-${world.run.namespace}-${world.skill}` };
        const first = await world.register(params);
        const second = await world.register(params);
        checkEqual(second.worker.id, first.worker.id, 'worker id of the replay');
        check(second.token !== first.token, 'the replay returned the same token (tokens must not be stored)');
        expectError(await world.http.call('worker.status', {}, first.token), 'UNAUTHENTICATED', 'the first token after the replay');
        expectOk(await world.http.call('worker.status', {}, second.token), 'the new token');
      },
    },
    {
      requirement: 'JOURNAL-003',
      title: 'the journal serves no tokens and no token hashes',
      async run(world) {
        const head = await world.journalHead();
        const repo = await world.repo();
        const w = await world.worker();
        const maintainerToken = await world.maintainer([repo]);
        await world.task(repo);
        const text = JSON.stringify(await world.journal(head));
        for (const [what, token] of [['worker token', w.token], ['maintainer token', maintainerToken]] as const) {
          check(!text.includes(token), `the journal contains a ${what}`);
          for (const algorithm of ['sha256', 'sha512', 'sha1']) {
            check(!text.includes(createHash(algorithm).update(token).digest('hex')), `the journal contains the ${algorithm} of a ${what}`);
          }
        }
        check(!/"token(_hash)?"\s*:/.test(text), 'the journal has a token or token_hash field');
      },
    },
  ],
};
