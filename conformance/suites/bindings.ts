/** The envelope, error codes, both bindings, payload limits, validation and extensions (SPEC §2, §7, §8, §9.2). */
import { Ajv } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { ERROR_CODES, isErrorCode } from '../../protocol/errors.ts';
import type { Task } from '../../protocol/model.ts';
import { OPERATIONS, type OperationName } from '../../protocol/operations.ts';
import { check, checkEqual, describeAck, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import type { HttpAck, WireAck } from '../wire.ts';
import type { World } from '../world.ts';
import { PASSING_GATES, sleep } from '../world.ts';
import { claimedTask } from '../scenarios.ts';

/** A varied set of answers, successes and refusals, over both bindings. */
async function sampleAnswers(world: World): Promise<Array<{ what: string; ack: WireAck; status?: number }>> {
  const repo = await world.repo();
  const w = await world.worker();
  const out: Array<{ what: string; ack: WireAck; status?: number }> = [];
  const add = (what: string, ack: WireAck | HttpAck): void => {
    out.push({ what, ack, ...('status' in ack ? { status: ack.status } : {}) });
  };
  add('HTTP GET /v1/info', await world.http.call('coordinator.info', {}));
  add('HTTP repo.get', await world.adminRaw('repo.get', { repo }));
  add('HTTP task.get of a missing task', await world.adminRaw('task.get', { task_id: 'T-999999999' }));
  add('HTTP task.create without a token', await world.http.call('task.create', { repo, title: 'x' }));
  add('HTTP task.create with a worker token', await w.http('task.create', { repo, title: 'x' }));
  add('HTTP task.create with an unknown field', await world.adminRaw('task.create', { repo, title: 'x', colour: 'red' }));
  add('HTTP task.create without an idempotency key', await world.adminRaw('task.create', { repo, title: 'x', idempotency_key: null }));
  add('HTTP lease.heartbeat of a missing lease', await w.http('lease.heartbeat', { lease_id: 'L-999999999', epoch: 1 }));
  add('HTTP offer.accept of a missing offer', await w.http('offer.accept', { offer_id: 'O-999999999' }));
  add('socket worker.status', await w.call('worker.status'));
  add('socket task.claim of a missing task', await w.call('task.claim', { task_id: 'T-999999999' }));
  add('socket unknown operation', await w.call('nothing.here', {}));
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });

function checkResultSchema(name: OperationName, data: unknown): void {
  const validate = ajv.compile(OPERATIONS[name].result as TSchema);
  if (!validate(data)) throw new Error(`${name} answered fields outside the spec: ${ajv.errorsText(validate.errors)}`);
}

function nested(depth: number): Record<string, unknown> {
  let node: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i += 1) node = { n: node };
  return node;
}

export const SUITE: Suite = {
  area: 'bindings',
  tests: [
    {
      requirement: 'WIRE-001',
      title: 'every answer is { ok: true, data } or { ok: false, error: { code, message, details? } }',
      async run(world) {
        for (const { what, ack } of await sampleAnswers(world)) {
          const keys = Object.keys(ack).filter((k) => k !== 'status').sort();
          if (ack.ok === true) checkEqual(keys, ['data', 'ok'], `${what}: envelope keys`);
          else {
            checkEqual(keys, ['error', 'ok'], `${what}: envelope keys`);
            check(ack.ok === false, `${what}: ok is neither true nor false`);
            const error = ack.error as Record<string, unknown>;
            check(typeof error.code === 'string' && typeof error.message === 'string', `${what}: error lacks code or message`);
            check(Object.keys(error).every((k) => ['code', 'message', 'details'].includes(k)), `${what}: error has other keys ${Object.keys(error).join(', ')}`);
            check(error.details === undefined || (typeof error.details === 'object' && error.details !== null), `${what}: details is not an object`);
          }
        }
      },
    },
    {
      requirement: 'WIRE-002',
      title: 'error messages are sentences a person can act on, not bare codes',
      async run(world) {
        for (const { what, ack } of await sampleAnswers(world)) {
          if (ack.ok) continue;
          check(ack.error.message.trim().length >= 20 && ack.error.message !== ack.error.code, `${what}: message "${ack.error.message}" says too little`);
        }
      },
    },
    {
      requirement: 'ERR-001',
      title: 'refusals use the codes of SPEC §7 (or X_-prefixed ones)',
      async run(world) {
        for (const { what, ack } of await sampleAnswers(world)) {
          if (ack.ok) continue;
          check(isErrorCode(ack.error.code) || ack.error.code.startsWith('X_'), `${what}: unknown code ${ack.error.code}`);
        }
      },
    },
    {
      requirement: 'BIND-004',
      title: 'HTTP statuses match the error code table (200 on success)',
      async run(world) {
        for (const { what, ack, status } of await sampleAnswers(world)) {
          if (status === undefined) continue;
          const expected = ack.ok ? 200 : isErrorCode(ack.error.code) ? ERROR_CODES[ack.error.code].httpStatus : undefined;
          if (expected !== undefined) checkEqual(status, expected, `${what} (${describeAck(ack)}): HTTP status`);
        }
      },
    },
    {
      requirement: 'BIND-001',
      title: 'operations are socket.io events acked with the envelope; notifications are events named after them',
      async run(world) {
        const repo = await world.repo();
        const w = await world.worker();
        const status = await w.call('worker.status');
        check(status.ok === true && typeof status.data === 'object', `worker.status ack: ${describeAck(status)}`);
        const task = await world.task(repo);
        const offer = await w.nextOffer(task.id);
        checkEqual(offer.task_id, task.id, 'offer.created payload { offer } names the task');
      },
    },
    {
      requirement: 'BIND-002',
      title: 'non-object payloads, schema failures and unknown operations are refused without closing the socket or changing state',
      async run(world) {
        const repo = await world.repo();
        const socket = await world.connect(world.run.adminToken);
        expectError(await socket.call('task.list', 'not an object'), 'VALIDATION_FAILED', 'a string payload');
        expectError(await socket.call('task.list', [1, 2]), 'VALIDATION_FAILED', 'an array payload');
        expectError(await socket.call('task.create', { repo, title: 42, idempotency_key: `k-${Date.now()}` }), 'VALIDATION_FAILED', 'title of the wrong type');
        expectError(await socket.call('no.such_operation', {}), 'UNKNOWN_OPERATION', 'an unknown operation');
        // A coordinator that answers and then hangs up breaks the rule as surely as one that hangs up at once.
        await sleep(500);
        check(socket.connected && socket.disconnectReason === undefined, `the socket was closed after malformed payloads (${socket.disconnectReason ?? 'no reason given'})`);
        const { tasks } = expectOk<{ tasks: Task[] }>(await socket.call('task.list', { repo }), 'task.list afterwards');
        checkEqual(tasks.length, 0, 'tasks created by refused payloads');
      },
    },
    {
      requirement: 'BIND-003',
      title: 'every operation with an HTTP route is served at its method and path',
      async run(world) {
        const repo = await world.repo();
        const ids: Record<string, string> = { task_id: 'T-999999999', offer_id: 'O-999999999', lease_id: 'L-999999999', worker_id: 'W-999999999', repo };
        for (const descriptor of Object.values(OPERATIONS)) {
          if (!descriptor.http) continue;
          const path = descriptor.http.path.replace(/\{(\w+)\}/g, (_m, key: string) => (key === 'repo' ? repo : (ids[key] as string)));
          const ack = await world.http.raw(path, {
            method: descriptor.http.method,
            headers: { authorization: `Bearer ${world.run.adminToken}`, 'content-type': 'application/json' },
            ...(descriptor.http.method === 'GET' ? {} : { body: '{}' }),
          });
          check(ack.ok || ack.error.code !== 'UNKNOWN_OPERATION', `${descriptor.http.method} ${descriptor.http.path} (${descriptor.name}) is not served: ${describeAck(ack)}`);
          check(ack.ok || ack.error.code !== 'X_NOT_JSON', `${descriptor.http.method} ${descriptor.http.path}: ${describeAck(ack)}`);
        }
        const got = expectOk<{ settings: { repo: string } }>(await world.adminRaw('repo.get', { repo }), 'GET /v1/repos/{owner}/{name}');
        checkEqual(got.settings.repo, repo, 'the {repo} path parameter spans owner/name');
      },
    },
    {
      requirement: 'VAL-001',
      title: 'payloads over max_payload_bytes or deeper than max_depth are refused with PAYLOAD_TOO_LARGE, over HTTP and socket.io',
      async run(world) {
        const repo = await world.repo();
        const { max_payload_bytes: maxBytes, max_frame_bytes: maxFrame, max_depth: maxDepth } = world.info.limits;
        check(maxFrame >= maxBytes, `max_frame_bytes ${maxFrame} is below max_payload_bytes ${maxBytes}`);
        const big = 'x'.repeat(maxBytes + 1024);
        const http = await world.adminRaw('task.create', { repo, title: 'too big', skills: [world.skill], x_blob: big });
        expectError(http, 'PAYLOAD_TOO_LARGE', `HTTP body of ${maxBytes + 1024} bytes`);
        const deep = await world.adminRaw('task.create', { repo, title: 'too deep', skills: [world.skill], x_deep: nested(maxDepth + 4) });
        expectError(deep, 'PAYLOAD_TOO_LARGE', `HTTP body nested ${maxDepth + 4} levels`);
        const socket = await world.connect(world.run.adminToken);
        // Just over the payload limit, and just under the frame limit: both answered, the socket kept open.
        const sizes = [maxBytes + 1024, maxFrame - 4096].filter((n) => n > maxBytes);
        for (const size of sizes) {
          expectError(await socket.call('task.create', { repo, title: 'too big', skills: [world.skill], x_blob: 'x'.repeat(size) }), 'PAYLOAD_TOO_LARGE', `socket payload of ${size} bytes (max_frame_bytes ${maxFrame})`);
        }
        expectError(await socket.call('task.create', { repo, title: 'too deep', skills: [world.skill], x_deep: nested(maxDepth + 4) }), 'PAYLOAD_TOO_LARGE', `socket payload nested ${maxDepth + 4} levels`);
        check(socket.connected, `the socket was closed by a payload under max_frame_bytes (${socket.disconnectReason ?? ''})`);
        const { tasks } = await world.admin('task.list', { repo });
        checkEqual(tasks.length, 0, 'tasks created by refused payloads');
      },
    },
    {
      requirement: 'VAL-002',
      title: '__proto__, constructor and prototype keys are refused anywhere in a payload',
      async run(world) {
        const repo = await world.repo();
        const headers = { authorization: `Bearer ${world.run.adminToken}`, 'content-type': 'application/json' };
        const raw = (body: string): Promise<HttpAck> => world.http.raw('/v1/tasks', { method: 'POST', headers, body });
        expectError(await raw(`{"repo":"${repo}","title":"p","idempotency_key":"p1-${Date.now()}","__proto__":{"admin":true}}`), 'VALIDATION_FAILED', '__proto__ at the top');
        expectError(await raw(`{"repo":"${repo}","title":"p","idempotency_key":"p2-${Date.now()}","x_meta":{"constructor":{"prototype":1}}}`), 'VALIDATION_FAILED', 'constructor nested in an x_ field');
        const socket = await world.connect(world.run.adminToken);
        expectError(await socket.call('task.create', JSON.parse(`{"repo":"${repo}","title":"p","x_meta":{"prototype":1}}`)), 'VALIDATION_FAILED', 'prototype over socket.io');
        checkEqual((await world.admin('task.list', { repo })).tasks.length, 0, 'tasks created by refused payloads');
        // Every required field inside __proto__: a binding that copies the body with Object.assign would make it the
        // params' prototype, and the schema would see the inherited fields as present.
        const login = `proto${Date.now().toString(36)}`;
        const hidden = `{"__proto__":{"github_login":"${login}","skills":[],"capacity":1,"tools":[],"capabilities":{"can_run_tests":true,"can_open_prs":true}},"idempotency_key":"proto-${login}"}`;
        expectError(await world.http.raw('/v1/workers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: hidden }), 'VALIDATION_FAILED', 'worker.register with every field inside __proto__ over HTTP');
        expectError(await socket.call('worker.register', JSON.parse(hidden)), 'VALIDATION_FAILED', 'worker.register with every field inside __proto__ over socket.io');
        expectError(await world.http.raw(`/v1/tasks?repo=${encodeURIComponent(repo)}&__proto__=x`, { method: 'GET', headers }), 'VALIDATION_FAILED', 'a __proto__ query parameter');
        const workers = (await world.admin('worker.list', {})).workers as Array<{ github_login: string }>;
        check(!workers.some((w) => w.github_login === login), 'a worker was registered from fields inside __proto__');
      },
    },
    {
      requirement: 'VAL-003',
      title: 'unknown fields are refused with VALIDATION_FAILED; x_* fields are accepted',
      async run(world) {
        const repo = await world.repo();
        expectError(await world.adminRaw('task.create', { repo, title: 'u', colour: 'red' }), 'VALIDATION_FAILED', 'task.create with colour');
        expectError(await world.adminRaw('repo.configure', { repo, speed: 3 }), 'VALIDATION_FAILED', 'repo.configure with speed');
        expectOk(await world.adminRaw('task.create', { repo, title: 'u', skills: [world.skill], x_colour: 'red' }), 'task.create with x_colour');
      },
    },
    {
      requirement: 'EXT-001',
      title: 'x_* fields on tasks, workers, profiles, repo settings, PR info and gate evidence come back unchanged',
      async run(world) {
        const ext = { x_source: 'conformance', x_nested: { a: [1, 'two', null] } };
        const repo = await world.repo({ x_team: 'docs' });
        const settings = (await world.admin('repo.get', { repo })).settings as Record<string, unknown>;
        checkEqual(settings.x_team, 'docs', 'repo settings x_team');
        const { task, worker, lease } = await claimedTask(world, { repo, task: ext, worker: { extra: { x_editor: 'vim' } } });
        const got = (await world.getTask(task.id)) as Record<string, unknown>;
        checkEqual([got.x_source, got.x_nested], [ext.x_source, ext.x_nested], 'task x_* after task.get');
        const listed = (await world.admin('task.list', { repo })).tasks.find((t) => t.id === task.id) as Record<string, unknown> | undefined;
        checkEqual(listed?.x_nested, ext.x_nested, 'task x_nested in task.list');
        const status = expectOk<{ worker: Record<string, unknown> }>(await worker.http('worker.status'), 'worker.status');
        checkEqual(status.worker.x_editor, 'vim', 'worker x_editor');
        const updated = expectOk<{ worker: Record<string, unknown> }>(await worker.http('worker.update', { x_timezone: 'UTC', capabilities: { can_run_tests: true, can_open_prs: true, x_gpu: false } }), 'worker.update with x_*');
        checkEqual([updated.worker.x_timezone, (updated.worker.capabilities as Record<string, unknown>).x_gpu], ['UTC', false], 'profile x_* after worker.update');
        const ack = await worker.http('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/example/repo/pull/7', x_review: 'bot', gates: [{ ...PASSING_GATES[0], x_runner: 'ci' }] } });
        expectOk(ack, 'pr_opened with x_* on PR info and gates');
        const pr = (await world.getTask(task.id)).pr as Record<string, unknown> | undefined;
        checkEqual([pr?.x_review, (pr?.gates as Array<Record<string, unknown>> | undefined)?.[0]?.x_runner], ['bot', 'ci'], 'PR info and gate evidence x_*');
      },
    },
    {
      requirement: 'EXT-002',
      title: 'answers carry no un-prefixed fields beyond the spec (checked against the result schemas)',
      async run(world) {
        const { repo, task, worker, lease } = await claimedTask(world);
        checkResultSchema('task.get', await world.admin('task.get', { task_id: task.id }));
        checkResultSchema('repo.get', await world.admin('repo.get', { repo }));
        checkResultSchema('worker.status', expectOk(await worker.http('worker.status'), 'worker.status'));
        checkResultSchema('lease.heartbeat', expectOk(await worker.http('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'lease.heartbeat'));
        checkResultSchema('task.explain', await world.admin('task.explain', { task_id: task.id }));
        checkResultSchema('journal.read', await world.admin('journal.read', { repo }));
        checkResultSchema('metrics.get', await world.admin('metrics.get', {}));
        checkResultSchema('coordinator.info', world.info);
      },
    },
    {
      requirement: 'RATE-001',
      title: 'a connection flooding requests gets RATE_LIMITED with retry_after_ms while another connection is served',
      async run(world) {
        const flood = await world.rawSocket();
        const calm = await world.rawSocket();
        const acks = await Promise.all(Array.from({ length: 1500 }, () => flood.call('coordinator.info', {}).catch(() => undefined)));
        const limited = acks.find((a) => a && !a.ok && a.error.code === 'RATE_LIMITED');
        check(limited && !limited.ok && typeof limited.error.details?.retry_after_ms === 'number', 'no RATE_LIMITED answer with details.retry_after_ms after 1500 requests at once');
        expectOk(await calm.call('coordinator.info', {}), 'another connection during the flood');
      },
    },
  ],
};
