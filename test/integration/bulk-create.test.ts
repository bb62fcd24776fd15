/**
 * task.create_many (SPEC MAINT-007) on both bindings: every task or none, in order, in one durable
 * write; each refused item reported with its index and code; one idempotency key for the whole
 * request. And `owp task import`, which feeds files through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { HttpClient } from '../../client/http-client.ts';
import type { Ack } from '../../protocol/operations.ts';
import type { Task } from '../../protocol/model.ts';
import { MAX_BULK_TASKS } from '../../protocol/operations.ts';
import type { ItemError } from '../../protocol/validate.ts';
import { splitIntoRequests } from '../../cli/commands/task.ts';
import { cliWorld } from '../helpers/cli-world.ts';
import { startPool } from '../helpers/coordinator.ts';

type Refusal = { ok: false; error: { code: string; message: string; details?: { refused?: number; items?: ItemError[] } } };

function refusal(ack: Ack<unknown>): Refusal['error'] {
  assert.equal(ack.ok, false, 'the request must be refused');
  return (ack as Refusal).error;
}

test('task.create_many over HTTP creates every task in order, with consecutive ids, in one durable write', async () => {
  const pool = await startPool('lowdb');
  try {
    await pool.repo('o/a');
    await pool.repo('o/b');
    const commits: number[] = [];
    pool.coordinator.runtime.on('commit', (c) => commits.push(c.events));
    const tasks = Array.from({ length: 300 }, (_, i) => ({ repo: i % 2 === 0 ? 'o/a' : 'o/b', title: `task ${i}`, skills: ['docs'], priority: i % 7 }));
    const { tasks: created } = await pool.admin.call('task.create_many', { tasks, idempotency_key: 'bulk-1' });
    assert.deepEqual(created.map((t) => [t.title, t.repo, t.state, t.priority]), tasks.map((t) => [t.title, t.repo, 'ready', t.priority]));
    const first = Number(created[0]?.id.slice(2));
    assert.deepEqual(created.map((t) => t.id), tasks.map((_, i) => `T-${first + i}`), 'consecutive ids in the order given');
    assert.deepEqual(commits, [300], 'all 300 task.created events went to disk in one append');
    const listed = await pool.admin.call('task.list', { repo: 'o/b', state: 'ready', limit: 1000 });
    assert.equal(listed.tasks.length, 150);
    // They are on disk: a restart brings them back.
    await pool.restart();
    assert.equal((await pool.admin.call('task.get', { task_id: created.at(-1)!.id })).task.title, 'task 299');
  } finally {
    await pool.close();
  }
});

test('task.create_many refuses the whole batch when any item is refused, and reports each refused item with its index and code', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/a');
    await pool.repo('p/x');
    const { token } = await pool.admin.call('maintainer.create', { name: 'o team', repos: ['o/*'] });
    const state = pool.coordinator.runtime.engine.state;
    const before = state.seq;

    // Schema problems: found by the binding, reported per item, with paths inside the item.
    const bad = await pool.admin.callRaw('task.create_many', { tasks: [{ repo: 'o/a', title: 'fine' }, { repo: 'o/a', title: '' }, { repo: 'o/a', title: 'ok' }, { repo: 'o/a', title: 'x', colour: 'red', effort: 0 }], idempotency_key: 'bad-1' });
    const schema = refusal(bad);
    assert.equal(schema.code, 'VALIDATION_FAILED');
    assert.equal(schema.details?.refused, 2);
    assert.deepEqual(schema.details?.items?.map((i) => [i.index, i.code]), [[1, 'VALIDATION_FAILED'], [3, 'VALIDATION_FAILED']]);
    const third = schema.details?.items?.[1];
    assert.ok(third?.errors?.some((e) => e.path === '/' && /colour/.test(e.message)), `item 3 names its unknown field: ${JSON.stringify(third)}`);
    assert.ok(third?.errors?.some((e) => e.path === '/effort'), 'and its effort, by a path inside the item');
    assert.equal(bad.status, 400);

    // Repo problems: a repo out of the token's scope and an unknown repo, each with its own code.
    const scoped = new HttpClient({ baseUrl: pool.url, token });
    const mixed = refusal(await scoped.callRaw('task.create_many', { tasks: [{ repo: 'o/a', title: 'mine' }, { repo: 'p/x', title: 'not mine' }, { repo: 'o/missing', title: 'nowhere' }], idempotency_key: 'mixed-1' }));
    assert.equal(mixed.code, 'FORBIDDEN', 'the code of the first refused item');
    assert.deepEqual(mixed.details?.items?.map((i) => [i.index, i.code]), [[1, 'FORBIDDEN'], [2, 'NOT_FOUND']]);
    assert.match(mixed.message, /2 of 3 items were refused and nothing was created/);

    // Over the limits: the request itself is refused, not an item.
    const tooMany = refusal(await pool.admin.callRaw('task.create_many', { tasks: Array.from({ length: MAX_BULK_TASKS + 1 }, () => ({ repo: 'o/a', title: 't' })), idempotency_key: 'many-1' }));
    assert.equal(tooMany.code, 'VALIDATION_FAILED');
    assert.equal(tooMany.details?.items, undefined);
    assert.equal(refusal(await pool.admin.callRaw('task.create_many', { tasks: [], idempotency_key: 'none-1' })).code, 'VALIDATION_FAILED');

    await pool.coordinator.runtime.whenIdle();
    assert.equal(state.seq, before, 'no refused batch wrote anything');
    assert.equal((await pool.admin.call('task.list', { repo: 'o/a' })).tasks.length, 0);

    // The same key, once the batch is fixed, is not spent: a refused request recorded nothing.
    const fixed = await pool.admin.call('task.create_many', { tasks: [{ repo: 'o/a', title: 'fine' }, { repo: 'o/a', title: 'now titled' }], idempotency_key: 'bad-1' });
    assert.equal(fixed.tasks.length, 2);
  } finally {
    await pool.close();
  }
});

test('task.create_many over socket.io is idempotent as a whole: a replay answers the same tasks, another payload under the key is refused', async () => {
  const pool = await startPool();
  const socket = io(pool.url, { auth: { token: pool.adminToken }, transports: ['websocket'], reconnection: false });
  try {
    await pool.repo('o/a');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    assert.equal(((await socket.emitWithAck('session.hello', { protocol_version: '0.1' })) as Ack<unknown>).ok, true);
    const tasks = [{ repo: 'o/a', title: 'one' }, { repo: 'o/a', title: 'two', area: 'docs' }];
    const first = (await socket.emitWithAck('task.create_many', { tasks, idempotency_key: 'sock-1' })) as Ack<{ tasks: Task[] }>;
    assert.ok(first.ok, JSON.stringify(first));
    const seq = pool.coordinator.runtime.engine.state.seq;
    const again = (await socket.emitWithAck('task.create_many', { tasks, idempotency_key: 'sock-1' })) as Ack<{ tasks: Task[] }>;
    assert.ok(again.ok);
    assert.deepEqual(again.data.tasks.map((t) => t.id), first.data.tasks.map((t) => t.id), 'the replay answers the same tasks');
    assert.equal(pool.coordinator.runtime.engine.state.seq, seq, 'and creates nothing');
    const other = (await socket.emitWithAck('task.create_many', { tasks: [...tasks, { repo: 'o/a', title: 'three' }], idempotency_key: 'sock-1' })) as Ack<unknown>;
    assert.equal(refusal(other).code, 'IDEMPOTENCY_KEY_REUSED');
    const bad = (await socket.emitWithAck('task.create_many', { tasks: [{ repo: 'o/a' }], idempotency_key: 'sock-2' })) as Ack<unknown>;
    assert.deepEqual(refusal(bad).details?.items?.map((i) => [i.index, i.code]), [[0, 'VALIDATION_FAILED']]);
  } finally {
    socket.close();
    await pool.close();
  }
});

test('owp task import splits requests by count and by bytes', () => {
  const items = Array.from({ length: 25 }, (_, i) => ({ task: { repo: 'o/a', title: `t${String(i).padStart(2, '0')}`, body: 'x'.repeat(100) }, where: `line ${i + 1}` }));
  assert.deepEqual(splitIntoRequests(items, 10, 1 << 20).map((r) => r.length), [10, 10, 5]);
  const size = Buffer.byteLength(JSON.stringify(items[0]?.task)) + 1;
  assert.deepEqual(splitIntoRequests(items, 1000, 512 + size * 4).map((r) => r.length), [4, 4, 4, 4, 4, 4, 1]);
});

test('owp task import creates the tasks of a JSON-lines file once, and names the line of a refused task', { timeout: 120_000 }, async () => {
  const world = await cliWorld({ prefix: 'owp-import-' });
  const { pool, dir } = world;
  // 1,200 tasks through the CLI: more than a quick command's time on a busy machine.
  const owp = (args: string[]) => world.owp(args, { timeoutMs: 100_000 });
  try {
    await pool.repo('o/a');
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(file, `${Array.from({ length: 1200 }, (_, i) => JSON.stringify({ title: `imported ${i}`, skills: ['docs'] })).join('\n')}\n`);
    const first = await owp(['task', 'import', file, '--repo', 'o/a', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const { created } = JSON.parse(first.stdout) as { created: string[] };
    assert.equal(created.length, 1200);
    const again = await owp(['task', 'import', file, '--repo', 'o/a', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { created: string[] }).created, created, 'the same file again creates nothing new');
    assert.equal((await pool.admin.call('task.list', { repo: 'o/a', limit: 1000 })).tasks.length, 1000, 'the list is capped; count below');
    assert.equal([...pool.coordinator.runtime.engine.state.tasks.values()].length, 1200);

    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, [JSON.stringify({ title: 'fine' }), '', JSON.stringify({ title: 'bad', tier: 99 })].join('\n'));
    const refused = await owp(['task', 'import', broken, '--repo', 'o/a']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /broken\.jsonl line 3: VALIDATION_FAILED \/tier/);
    assert.equal(pool.coordinator.runtime.engine.state.tasks.size, 1200, 'nothing of the refused request was created');
  } finally {
    await world.close();
  }
});
