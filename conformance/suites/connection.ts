/** Connect, hello, versions and capability negotiation (SPEC §4, §5.1, §9). */
import type { Lease, Worker } from '../../protocol/model.ts';
import type { Result } from '../../protocol/operations.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { ConnectRefused, WireSocket } from '../wire.ts';
import { claimedTask, taskEvents } from '../scenarios.ts';

type Hello = Result<'session.hello'>;

function bumpMinor(version: string): string {
  const [major, minor] = version.split('.');
  return `${major}.${Number(minor) + 1}`;
}

export const SUITE: Suite = {
  area: 'connection',
  tests: [
    {
      requirement: 'INFO-001',
      title: 'coordinator.info answers without a token, over HTTP and before hello on a socket',
      async run(world) {
        const info = expectOk<Result<'coordinator.info'>>(await world.http.call('coordinator.info', {}), 'GET /v1/info without a token');
        check(typeof info.protocol_version === 'string' && Array.isArray(info.supported_versions), 'info lacks protocol_version or supported_versions');
        const socket = await world.rawSocket();
        expectOk(await socket.call('coordinator.info', {}), 'coordinator.info on a socket with no token, before hello');
      },
    },
    {
      requirement: 'CONN-001',
      title: 'a handshake with an unknown token is refused with connect_error UNAUTHENTICATED',
      async run(world) {
        const outcome = await WireSocket.open(world.run.url, 'owp_not_a_real_token_0123456789', world.run.timeoutMs).then(
          (s) => {
            s.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        check(outcome instanceof ConnectRefused, 'the socket connected with an unknown token');
        checkEqual(outcome.code, 'UNAUTHENTICATED', 'connect_error data.code');
      },
    },
    {
      requirement: 'CONN-002',
      title: 'operations before hello are refused with HELLO_REQUIRED; info and register may precede it',
      async run(world) {
        const w = await world.worker({ connect: false });
        const socket = await world.rawSocket(w.token);
        expectError(await socket.call('worker.status', {}), 'HELLO_REQUIRED', 'worker.status before hello');
        expectError(await socket.call('offer.list', {}), 'HELLO_REQUIRED', 'offer.list before hello');
        expectOk(await socket.call('coordinator.info', {}), 'coordinator.info before hello');
        const anonymous = await world.rawSocket();
        const login = `cf${Date.now().toString(36)}`;
        expectOk(await anonymous.call('worker.register', { github_login: login, skills: [world.skill], capacity: 1, tools: ['none'], capabilities: { can_run_tests: false, can_open_prs: false }, ...(world.run.invite ? { invite: world.run.invite } : {}) }), 'worker.register before hello');
        expectOk(await socket.hello(), 'hello after the refusals');
        expectOk(await socket.call('worker.status', {}), 'worker.status after hello');
      },
    },
    {
      requirement: 'CONN-003',
      title: 'hello answers the version, coordinator info with capabilities, the role, offers and leases',
      async run(world) {
        const { worker, lease } = await claimedTask(world);
        const socket = await world.rawSocket(worker.token);
        const hello = expectOk<Hello>(await socket.hello(), 'worker hello');
        checkEqual(hello.protocol_version, world.info.protocol_version, 'hello protocol_version');
        check(Array.isArray(hello.coordinator?.capabilities), 'hello.coordinator.capabilities is not an array');
        checkEqual(hello.role, 'worker', 'hello role');
        check(Array.isArray(hello.offers), 'hello.offers is not an array');
        check(hello.leases.some((l: Lease) => l.lease_id === lease.lease_id && l.epoch === lease.epoch), `hello.leases does not resume ${lease.lease_id}`);
        const maintainer = await world.rawSocket(world.run.adminToken);
        checkEqual(expectOk<Hello>(await maintainer.hello(), 'maintainer hello').role, 'maintainer', 'maintainer hello role');
      },
    },
    {
      requirement: 'VER-001',
      title: 'a hello with an unsupported version is refused with VERSION_UNSUPPORTED and details.supported',
      async run(world) {
        const w = await world.worker({ connect: false });
        const socket = await world.rawSocket(w.token);
        const error = expectError(await socket.call('session.hello', { protocol_version: '99.0' }), 'VERSION_UNSUPPORTED', 'hello 99.0');
        const supported = error.details?.supported;
        check(Array.isArray(supported) && supported.includes(world.info.protocol_version), `details.supported ${JSON.stringify(supported)} does not list ${world.info.protocol_version}`);
      },
    },
    {
      requirement: 'VER-002',
      title: 'versions are major.minor; in 0.x another minor version is refused, every supported one accepted',
      async run(world) {
        check(/^\d+\.\d+$/.test(world.info.protocol_version), `protocol_version "${world.info.protocol_version}" is not major.minor`);
        const w = await world.worker({ connect: false });
        for (const version of world.info.supported_versions) {
          const socket = await world.rawSocket(w.token);
          expectOk(await socket.call('session.hello', { protocol_version: version }), `hello ${version}`);
          socket.close();
        }
        if (world.info.protocol_version.startsWith('0.')) {
          const other = bumpMinor(world.info.protocol_version);
          if (!world.info.supported_versions.includes(other)) {
            const socket = await world.rawSocket(w.token);
            expectError(await socket.call('session.hello', { protocol_version: other }), 'VERSION_UNSUPPORTED', `hello ${other}`);
          }
        }
      },
    },
    {
      requirement: 'CONN-004',
      title: 'offers go only to online workers',
      async run(world) {
        const repo = await world.repo();
        const head = await world.journalHead();
        const offline = await world.worker({ connect: false });
        const task = await world.task(repo);
        const online = await world.worker();
        await online.nextOffer(task.id);
        const offers = (await taskEvents(world, head, task)).filter((e) => e.type === 'offer.created');
        check(offers.every((e) => e.worker_id === online.id), `the task was offered to ${offers.map((e) => e.worker_id).join(', ')}; ${offline.id} was offline`);
      },
    },
    {
      requirement: 'CONN-004',
      title: 'when a worker\'s last socket closes its open offer is withdrawn and its leases are kept',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000, heartbeat_timeout_ms: 30_000 });
        const holder = await world.worker();
        const first = await world.task(repo);
        const { lease } = await holder.accept(await holder.nextOffer(first.id));
        const second = await world.task(repo);
        await holder.nextOffer(second.id);
        holder.socket.close();
        await world.untilState(second.id, 'ready', 5000);
        checkEqual((await world.getTask(first.id)).lease?.lease_id, lease.lease_id, 'the lease after its holder disconnected');
        const hello = await holder.reconnect();
        check(hello.leases.some((l: Lease) => l.lease_id === lease.lease_id), 'the reconnecting worker did not get its lease back');
      },
    },
    {
      requirement: 'CONN-005',
      title: 'a profile in hello updates the worker',
      async run(world) {
        const w = await world.worker({ connect: false });
        const hello = expectOk<Hello>(await (await world.rawSocket(w.token)).hello({ profile: { capacity: 7, skills: [world.skill, 'cf-extra'] } }), 'hello with a profile');
        checkEqual(hello.worker?.capacity, 7, 'capacity in the hello answer');
        const status = expectOk<{ worker: Worker }>(await w.http('worker.status'), 'worker.status');
        checkEqual(status.worker.capacity, 7, 'capacity after hello');
        checkEqual([...status.worker.skills].sort(), [world.skill, 'cf-extra'].sort(), 'skills after hello');
      },
    },
    {
      requirement: 'CAP-001',
      title: 'capabilities are declared as a list of names, the same in coordinator.info and hello',
      async run(world) {
        const caps = world.info.capabilities;
        check(Array.isArray(caps) && caps.every((c) => typeof c === 'string'), `capabilities ${JSON.stringify(caps)} is not a list of names`);
        const socket = await world.rawSocket(world.run.adminToken);
        const hello = expectOk<Hello>(await socket.hello(), 'hello');
        checkEqual([...hello.coordinator.capabilities].sort(), [...caps].sort(), 'capabilities in hello vs coordinator.info');
      },
    },
  ],
};
