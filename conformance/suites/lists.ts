/** Cursor pagination of every list (SPEC §5.16): walks, inserts during a walk, foreign cursors, scope. */
import type { Lease, Task } from '../../protocol/model.ts';
import { openPr } from '../scenarios.ts';
import type { OperationName } from '../../protocol/operations.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import type { WireAck } from '../wire.ts';
import type { World } from '../world.ts';

type Call = (name: OperationName, params: Record<string, unknown>) => Promise<WireAck>;
type Item = Record<string, unknown>;

/**
 * Walks a list page by page from the first, calling `between` after the first page (to insert
 * meanwhile); returns every item in the order served. Fails on an empty page that a cursor led to.
 */
async function walk(call: Call, name: OperationName, field: string, params: Record<string, unknown>, between: () => Promise<void> = async () => undefined): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | undefined;
  for (let pageNo = 1; pageNo <= 500; pageNo += 1) {
    const data = expectOk<Record<string, unknown>>(await call(name, { ...params, ...(cursor ? { cursor } : {}) }), `${name} page ${pageNo}`);
    const page = (data[field] ?? []) as Item[];
    check(Array.isArray(page), `${name} page ${pageNo} has no ${field} array`);
    check(page.length <= Number(params.limit ?? 1000), `${name} page ${pageNo} has ${page.length} items, more than its limit ${String(params.limit)}`);
    if (cursor !== undefined) check(page.length > 0, `${name}: the next_cursor of page ${pageNo - 1} led to an empty page (the last page must carry no next_cursor)`);
    items.push(...page);
    cursor = typeof data.next_cursor === 'string' ? data.next_cursor : undefined;
    if (data.next_cursor !== undefined) check(cursor !== undefined, `${name} page ${pageNo}: next_cursor is not a string`);
    if (pageNo === 1) await between();
    if (cursor === undefined) return items;
  }
  throw new Error(`${name} still had a next_cursor after 500 pages`);
}

function onceEach(items: Item[], idOf: (i: Item) => string, expected: string[], what: string): void {
  const seen = items.map(idOf);
  const twice = seen.filter((id, i) => seen.indexOf(id) !== i);
  check(twice.length === 0, `${what}: a walk returned ${[...new Set(twice)].slice(0, 3).join(', ')} twice`);
  const missing = expected.filter((id) => !seen.includes(id));
  check(missing.length === 0, `${what}: a walk left out ${missing.join(', ')}`);
}

async function nobodyTasks(world: World, repo: string, n: number): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < n; i += 1) tasks.push(await world.task(repo, { skills: [`${world.skill}-nobody`] }));
  return tasks;
}

export const SUITE: Suite = {
  area: 'lists',
  tests: [
    {
      requirement: 'PAGE-001',
      title: 'task.list pages with next_cursor on both bindings: each task once, in the list\'s order, while tasks are inserted',
      async run(world) {
        const repo = await world.repo();
        const tasks = await nobodyTasks(world, repo, 4);
        const socket = await world.connect(world.run.adminToken);
        const bindings: Array<[string, Call]> = [['HTTP', (name, params) => world.adminRaw(name, params)], ['socket.io', (name, params) => socket.call(name, params)]];
        for (const [binding, call] of bindings) {
          const items = await walk(call, 'task.list', 'tasks', { repo, limit: 2 }, async () => {
            await nobodyTasks(world, repo, 2);
          });
          onceEach(items, (t) => String(t.id), tasks.map((t) => t.id), `task.list over ${binding}`);
          const order = items.map((t) => [Number(t.updated_at), Number(String(t.id).replace(/^\D+/, ''))] as const);
          const sorted = [...order].sort((a, b) => b[0] - a[0] || b[1] - a[1]);
          checkEqual(order, sorted, `task.list over ${binding}: the pages joined, as (updated_at, id) newest first`);
        }
      },
    },
    {
      requirement: 'PAGE-001',
      title: 'repo.list, worker.list and maintainer.list page with next_cursor: each item once while items are inserted',
      async run(world) {
        const repos = [await world.repo(), await world.repo(), await world.repo()];
        const scoped = await world.maintainer(repos);
        const mine = await walk((name, params) => world.http.call(name, params, scoped), 'repo.list', 'repos', { limit: 2 }, async () => {
          await world.repo();
        });
        onceEach(mine, (r) => String((r.settings as { repo?: string } | undefined)?.repo), repos, 'repo.list');
        // No registration of its own (registrations may be rate-limited per address): every worker
        // a first walk in pages of 1,000 saw must come exactly once in pages of 50, while the run's
        // other tests register workers meanwhile.
        const before = (await walk((name, params) => world.adminRaw(name, params), 'worker.list', 'workers', { limit: 1000 })).map((w) => String(w.id));
        const listed = await walk((name, params) => world.adminRaw(name, params), 'worker.list', 'workers', { limit: 50 });
        onceEach(listed, (w) => String(w.id), before, 'worker.list');
        const { maintainer } = await world.admin('maintainer.create', { name: `conformance lists ${world.skill}`, repos });
        const maintainers = await walk((name, params) => world.adminRaw(name, params), 'maintainer.list', 'maintainers', { limit: 2 }, async () => {
          await world.maintainer(repos);
        });
        onceEach(maintainers, (m) => String(m.id), [maintainer.id], 'maintainer.list');
      },
    },
    {
      requirement: 'PAGE-001',
      title: 'worker.prs pages with next_cursor on both bindings: each of the worker\'s PRs once, newest change first, while it opens more (its cursor with another since is refused)',
      async run(world) {
        const repo = await world.repo();
        const worker = await world.worker({ connect: false });
        const openOne = async (): Promise<string> => {
          const task = await world.task(repo);
          const { lease } = expectOk<{ lease: Lease }>(await worker.http('task.claim', { task_id: task.id }), `claim of ${task.id}`);
          await openPr(worker, lease);
          return task.id;
        };
        const opened: string[] = [];
        for (let i = 0; i < 4; i += 1) opened.push(await openOne());
        const socket = await world.connect(worker.token);
        const bindings: Array<[string, Call]> = [['HTTP', (name, params) => worker.http(name, params)], ['socket.io', (name, params) => socket.call(name, params)]];
        for (const [binding, call] of bindings) {
          const items = await walk(call, 'worker.prs', 'prs', { limit: 2 }, async () => {
            await openOne();
          });
          onceEach(items, (p) => String(p.task_id), opened, `worker.prs over ${binding}`);
          const order = items.map((p) => [Number(p.updated_at), Number(String(p.task_id).replace(/^\D+/, ''))] as const);
          const sorted = [...order].sort((a, b) => b[0] - a[0] || b[1] - a[1]);
          checkEqual(order, sorted, `worker.prs over ${binding}: the pages joined, as (updated_at, task id) newest first`);
        }
        const first = expectOk<{ next_cursor?: string }>(await worker.http('worker.prs', { limit: 1 }), 'worker.prs page 1');
        check(typeof first.next_cursor === 'string', 'worker.prs with limit 1 over several PRs answered no next_cursor');
        expectError(await worker.http('worker.prs', { limit: 1, since: 1, cursor: first.next_cursor }), 'VALIDATION_FAILED', 'worker.prs with its cursor but another since');
      },
    },
    {
      requirement: 'PAGE-002',
      title: 'a cursor that is not one the list gave, from another list, or with other filters is refused with VALIDATION_FAILED',
      async run(world) {
        const repo = await world.repo();
        await nobodyTasks(world, repo, 3);
        const first = expectOk<{ next_cursor?: string }>(await world.adminRaw('task.list', { repo, limit: 1 }), 'task.list page 1');
        check(typeof first.next_cursor === 'string', 'task.list with limit 1 over three tasks answered no next_cursor');
        const cursor = first.next_cursor as string;
        expectError(await world.adminRaw('task.list', { repo, state: 'ready', limit: 1, cursor }), 'VALIDATION_FAILED', 'task.list with the cursor but another state filter');
        expectError(await world.adminRaw('task.list', { limit: 1, cursor }), 'VALIDATION_FAILED', 'task.list with the cursor but without its repo filter');
        expectError(await world.adminRaw('repo.list', { limit: 1, cursor }), 'VALIDATION_FAILED', 'repo.list with a cursor of task.list');
        expectError(await world.adminRaw('worker.list', { limit: 1, cursor }), 'VALIDATION_FAILED', 'worker.list with a cursor of task.list');
        expectError(await world.adminRaw('task.list', { repo, limit: 1, cursor: 'bm90LWEtY3Vyc29y' }), 'VALIDATION_FAILED', 'task.list with a cursor it never gave');
        expectOk(await world.adminRaw('task.list', { repo, limit: 1, cursor }), 'task.list with its own cursor and filters');
      },
    },
    {
      requirement: 'PAGE-003',
      title: 'a cursor from a wider caller\'s walk answers a scoped maintainer only what it may read',
      async run(world) {
        const mine = await world.repo();
        const other = await world.repo();
        await nobodyTasks(world, mine, 2);
        await nobodyTasks(world, other, 2);
        const token = await world.maintainer([mine]);
        const wide = expectOk<{ next_cursor?: string }>(await world.adminRaw('task.list', { limit: 1 }), 'the admin\'s task.list page 1');
        check(typeof wide.next_cursor === 'string', 'task.list with limit 1 answered no next_cursor');
        const page = expectOk<{ tasks: Task[] }>(await world.http.call('task.list', { limit: 1000, cursor: wide.next_cursor }, token), 'task.list by a scoped maintainer with the admin\'s cursor');
        const stray = page.tasks.filter((t) => t.repo !== mine);
        check(stray.length === 0, `the admin's cursor let a maintainer scoped to ${mine} read tasks of ${[...new Set(stray.map((t) => t.repo))].slice(0, 3).join(', ')}`);
        const repos = expectOk<{ repos: Array<{ settings: { repo: string } }> }>(await world.http.call('repo.list', { limit: 1000 }, token), 'repo.list by the scoped maintainer');
        check(repos.repos.every((r) => r.settings.repo === mine), 'repo.list answered a scoped maintainer repos outside its scope');
      },
    },
  ],
};
