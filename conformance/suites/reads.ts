/**
 * Reads are scoped like writes (SPEC §4 AUTH-008) and a revoked maintainer token stops working
 * everywhere (AUTH-009), each over both bindings: HTTP with the token in the header, and a socket
 * opened with it that said hello.
 */
import type { Task } from '../../protocol/model.ts';
import type { OperationName } from '../../protocol/operations.ts';
import { check, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { ConnectRefused, WireSocket, type WireAck } from '../wire.ts';
import type { World } from '../world.ts';

type Caller = (name: OperationName, params: Record<string, unknown>) => Promise<WireAck>;

/** The same token over HTTP and over a socket that completed hello. */
async function bindings(world: World, token: string): Promise<Array<[string, Caller]>> {
  const socket = await world.connect(token);
  return [
    ['HTTP', (name, params) => world.http.call(name, params, token)],
    ['socket.io', (name, params) => socket.call(name, params)],
  ];
}

/** Two repos of the run, a task in each, and a maintainer token scoped to the first. */
async function twoRepos(world: World): Promise<{ mine: string; other: string; mineTask: Task; otherTask: Task; token: string }> {
  const mine = await world.repo();
  const other = await world.repo();
  const mineTask = await world.task(mine, { skills: [`${world.skill}-nobody`] });
  const otherTask = await world.task(other, { skills: [`${world.skill}-nobody`] });
  return { mine, other, mineTask, otherTask, token: await world.maintainer([mine]) };
}

/** The repos named in a list answer: each item's `repo`, or for repo.list its settings' `repo`. */
function reposOf(ack: WireAck, key: 'repos' | 'events', what: string): string[] {
  const data = expectOk<Record<string, Array<{ repo?: string; settings?: { repo?: string } }>>>(ack, what);
  return (data[key] ?? []).map((item) => item.repo ?? item.settings?.repo ?? '').filter((r) => r !== '');
}

export const SUITE: Suite = {
  area: 'reads',
  tests: [
    {
      requirement: 'AUTH-008',
      title: 'a maintainer token reads its repos and is FORBIDDEN on every read of another repo, on both bindings',
      async run(world) {
        const { mine, other, mineTask, otherTask, token } = await twoRepos(world);
        for (const [binding, call] of await bindings(world, token)) {
          const reads: Array<[OperationName, Record<string, unknown>, Record<string, unknown>]> = [
            ['task.get', { task_id: mineTask.id }, { task_id: otherTask.id }],
            ['task.explain', { task_id: mineTask.id }, { task_id: otherTask.id }],
            ['task.list', { repo: mine }, { repo: other }],
            ['repo.get', { repo: mine }, { repo: other }],
            ['journal.read', { repo: mine, after_seq: 0, limit: 10 }, { repo: other, after_seq: 0, limit: 10 }],
            ['metrics.get', { repo: mine }, { repo: other }],
          ];
          for (const [name, inScope, outOfScope] of reads) {
            expectOk(await call(name, inScope), `${name} of its own repo over ${binding}`);
            expectError(await call(name, outOfScope), 'FORBIDDEN', `${name} of another repo over ${binding}`);
          }
        }
      },
    },
    {
      requirement: 'AUTH-008',
      title: 'a read without a repo filter answers only the tasks, repos and events a maintainer token covers, on both bindings',
      async run(world) {
        const head = await world.journalHead();
        const { mine, other, mineTask, otherTask, token } = await twoRepos(world);
        const covered = (repo: string): boolean => repo === mine;
        for (const [binding, call] of await bindings(world, token)) {
          const tasks = expectOk<{ tasks: Task[] }>(await call('task.list', { limit: 1000 }), `task.list over ${binding}`).tasks;
          check(tasks.some((t) => t.id === mineTask.id), `task.list over ${binding} without a repo left out ${mineTask.id} of its own repo`);
          check(!tasks.some((t) => t.id === otherTask.id), `task.list over ${binding} without a repo answered ${otherTask.id} of another repo`);
          const stray = tasks.filter((t) => !covered(t.repo));
          check(stray.length === 0, `task.list over ${binding} answered tasks of repos outside the token's scope: ${[...new Set(stray.map((t) => t.repo))].slice(0, 3).join(', ')}`);
          const repos = reposOf(await call('repo.list', {}), 'repos', `repo.list over ${binding}`);
          check(repos.includes(mine), `repo.list over ${binding} left out its own repo ${mine}`);
          check(repos.every(covered), `repo.list over ${binding} answered repos outside the token's scope: ${repos.filter((r) => !covered(r)).slice(0, 3).join(', ')}`);
          const events = reposOf(await call('journal.read', { after_seq: head, limit: 1000 }), 'events', `journal.read over ${binding}`);
          check(events.includes(mine), `journal.read over ${binding} left out the events of its own repo`);
          check(!events.includes(other), `journal.read over ${binding} without a repo answered events of ${other}, outside the token's scope`);
        }
      },
    },
    {
      requirement: 'AUTH-008',
      title: 'a private repo is NOT_FOUND to a worker its policy does not admit, and readable to one it admits, on both bindings',
      capability: 'policy',
      async run(world) {
        // One worker in both roles (registrations may be rate-limited): the policy first admits
        // someone else, then this worker.
        const worker = await world.worker({ connect: false });
        const repo = await world.repo({ visibility: 'private', policy: { logins: { allow: [`${worker.login}x`] } } });
        const task = await world.task(repo, { skills: [`${world.skill}-nobody`] });
        const reads: Array<[OperationName, Record<string, unknown>]> = [['repo.get', { repo }], ['task.list', { repo }], ['task.get', { task_id: task.id }], ['task.explain', { task_id: task.id }]];
        const calls = await bindings(world, worker.token);
        for (const [binding, call] of calls) {
          for (const [name, params] of reads) expectError(await call(name, params), 'NOT_FOUND', `${name} of a private repo by a worker it does not admit, over ${binding}`);
          const listed = expectOk<{ tasks: Task[] }>(await call('task.list', { limit: 1000 }), `task.list over ${binding}`).tasks;
          check(!listed.some((t) => t.repo === repo), `task.list over ${binding} without a repo showed a worker the tasks of a private repo that does not admit it`);
        }
        await world.admin('repo.configure', { repo, policy: { logins: { allow: [worker.login] } } });
        for (const [binding, call] of calls) {
          for (const [name, params] of reads) expectOk(await call(name, params), `${name} of a private repo by a worker it admits, over ${binding}`);
        }
      },
    },
    {
      requirement: 'AUTH-009',
      title: 'after maintainer.revoke its token is refused on both bindings, its open socket is closed, and a replayed maintainer.create does not revive it',
      async run(world) {
        const repo = await world.repo();
        const key = `conformance-${world.skill}-maintainer`;
        const created = await world.admin('maintainer.create', { name: `conformance ${world.skill}`, repos: [repo], idempotency_key: key });
        const socket = await world.connect(created.token);
        expectOk(await socket.call('repo.get', { repo }), 'repo.get on the maintainer\'s socket before the revoke');
        await world.admin('maintainer.revoke', { maintainer_id: created.maintainer.id, reason: 'conformance' });
        const refused = await world.http.call('repo.get', { repo }, created.token);
        expectError(refused, 'UNAUTHENTICATED', 'repo.get over HTTP with the revoked token');
        await world.until(() => !socket.connected, 'the socket opened with the revoked token is closed');
        const reopened = await WireSocket.open(world.run.url, created.token, world.run.timeoutMs).then(
          async (s) => {
            world.track(s);
            return s.hello();
          },
          (error: unknown) => error,
        );
        check(reopened instanceof ConnectRefused ? reopened.code === 'UNAUTHENTICATED' : !(reopened as WireAck).ok && (reopened as WireAck & { ok: false }).error.code === 'UNAUTHENTICATED', `a new socket with the revoked token was not refused with UNAUTHENTICATED (${reopened instanceof Error ? reopened.message : JSON.stringify(reopened)})`);
        const replay = await world.adminRaw('maintainer.create', { name: `conformance ${world.skill}`, repos: [repo], idempotency_key: key });
        expectError(await world.http.call('repo.get', { repo }, created.token), 'UNAUTHENTICATED', 'the revoked token after maintainer.create was replayed');
        if (replay.ok) {
          const revived = (replay.data as { maintainer: { id: string }; token: string });
          const again = await world.http.call('repo.get', { repo }, revived.token);
          check(!(revived.maintainer.id === created.maintainer.id && again.ok), `the replayed maintainer.create brought revoked maintainer ${created.maintainer.id} back with a working token`);
        }
      },
    },
  ],
};
