import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startPool } from '../helpers/coordinator.ts';

test('malformed, oversized, deeply nested and prototype-polluting payloads get stable codes and change nothing', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r');
    const before = pool.coordinator.runtime.engine.state.seq;
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${pool.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${pool.adminToken}`, ...headers }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as { ok: boolean; error?: { code: string } } }));
    const cases: Array<[string, string, string]> = [
      ['not JSON', '{"repo": ', 'VALIDATION_FAILED'],
      ['an array', '[1,2]', 'VALIDATION_FAILED'],
      ['a missing field', JSON.stringify({ repo: 'o/r', idempotency_key: 'a' }), 'VALIDATION_FAILED'],
      ['a wrong type', JSON.stringify({ repo: 'o/r', title: 42, idempotency_key: 'b' }), 'VALIDATION_FAILED'],
      ['an unknown field', JSON.stringify({ repo: 'o/r', title: 'x', colour: 'red', idempotency_key: 'c' }), 'VALIDATION_FAILED'],
      ['__proto__', '{"repo":"o/r","title":"x","idempotency_key":"d","__proto__":{"admin":true}}', 'VALIDATION_FAILED'],
      ['deep nesting', JSON.stringify({ repo: 'o/r', title: 'x', idempotency_key: 'e', x_deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) }), 'PAYLOAD_TOO_LARGE'],
      ['an oversized body', JSON.stringify({ repo: 'o/r', title: 'x', idempotency_key: 'f', body: 'x'.repeat(300_000) }), 'PAYLOAD_TOO_LARGE'],
      ['a title too long', JSON.stringify({ repo: 'o/r', title: 'x'.repeat(300), idempotency_key: 'g' }), 'VALIDATION_FAILED'],
      ['a tier out of range', JSON.stringify({ repo: 'o/r', title: 'x', tier: 9, idempotency_key: 'h' }), 'VALIDATION_FAILED'],
    ];
    for (const [name, body, code] of cases) {
      const r = await post('/v1/tasks', body);
      assert.equal(r.body.ok, false, name);
      assert.equal(r.body.error?.code, code, name);
    }
    const unknownRoute = await post('/v1/nothing-here', '{}');
    assert.equal(unknownRoute.body.error?.code, 'UNKNOWN_OPERATION');
    const outOfBounds = await post('/v1/repos/o/r/settings', JSON.stringify({ heartbeat_timeout_ms: 5, idempotency_key: 'i' }));
    assert.equal(outOfBounds.body.error?.code, 'UNKNOWN_OPERATION', 'settings is PUT, not POST');
    const put = await fetch(`${pool.url}/v1/repos/o/r/settings`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${pool.adminToken}` }, body: JSON.stringify({ heartbeat_timeout_ms: 5, idempotency_key: 'i' }) });
    assert.equal(((await put.json()) as { error: { code: string } }).error.code, 'VALIDATION_FAILED', 'settings outside their bounds');

    const w = await pool.join();
    const raw = io(pool.url, { auth: { token: w.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    await raw.emitWithAck('session.hello', { protocol_version: '0.1' });
    assert.equal((await raw.emitWithAck('no.such.op', {})).error.code, 'UNKNOWN_OPERATION');
    assert.equal((await raw.emitWithAck('offer.accept', 'a string')).error.code, 'VALIDATION_FAILED');
    assert.equal((await raw.emitWithAck('offer.accept', null)).error.code, 'VALIDATION_FAILED');
    assert.equal((await raw.emitWithAck('offer.accept', { offer_id: 'O-1', idempotency_key: 'x', constructor: { prototype: {} } })).error.code, 'VALIDATION_FAILED');
    assert.equal((await raw.emitWithAck('task.claim', { task_id: '../../etc', idempotency_key: 'y' })).error.code, 'VALIDATION_FAILED');
    assert.ok(raw.connected, 'the connection survives bad input');
    raw.close();

    assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
    const after = pool.coordinator.runtime.engine.state;
    assert.equal([...after.tasks.values()].length, 0, 'no task was created by bad input');
    assert.ok(after.seq - before <= 4, 'only the worker registration and connection were journaled');
  } finally {
    await pool.close();
  }
});

test('x_* extension fields are kept end to end', async () => {
  const pool = await startPool();
  try {
    await pool.admin.call('repo.configure', { repo: 'o/r', x_team: 'docs-crew' } as never);
    const { task } = await pool.admin.call('task.create', { repo: 'o/r', title: 'ext', x_source: { system: 'jira', key: 'DOC-1' } } as never);
    const w = await pool.join({ x_editor: 'cursor' } as never);
    const { settings } = await pool.admin.call('repo.get', { repo: 'o/r' });
    assert.equal((settings as Record<string, unknown>).x_team, 'docs-crew');
    const got = await w.request('task.get', { task_id: task.id });
    assert.deepEqual((got.task as Record<string, unknown>).x_source, { system: 'jira', key: 'DOC-1' });
    const { workers } = await pool.admin.call('worker.list', {});
    assert.equal((workers[0] as Record<string, unknown>).x_editor, 'cursor');
  } finally {
    await pool.close();
  }
});

test('a __proto__ key carrying every required field is refused on both bindings (over HTTP it became the params prototype and passed the schema)', async () => {
  const pool = await startPool();
  try {
    const workersBefore = pool.coordinator.runtime.engine.state.workers.size;
    const text = '{"__proto__":{"github_login":"ghost","skills":[],"capacity":1,"tools":[],"capabilities":{"can_run_tests":true,"can_open_prs":true}},"idempotency_key":"proto"}';
    const res = await fetch(`${pool.url}/v1/workers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const answer = (await res.json()) as { ok: boolean; error?: { code: string } };
    assert.equal(res.status, 400);
    assert.equal(answer.error?.code, 'VALIDATION_FAILED');
    const query = await fetch(`${pool.url}/v1/tasks?__proto__=x`, { headers: { authorization: `Bearer ${pool.adminToken}` } });
    assert.equal(((await query.json()) as { error?: { code: string } }).error?.code, 'VALIDATION_FAILED', 'a __proto__ query key is refused, not dropped');
    const raw = io(pool.url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    const ack = await raw.emitWithAck('worker.register', JSON.parse(text));
    raw.close();
    assert.equal(ack.error?.code, 'VALIDATION_FAILED');
    assert.equal(pool.coordinator.runtime.engine.state.workers.size, workersBefore, 'no worker was created');
  } finally {
    await pool.close();
  }
});

test('a malformed percent-escape in a path parameter is VALIDATION_FAILED, not INTERNAL', async () => {
  const pool = await startPool();
  try {
    for (const path of ['/v1/tasks/%E0%A4%A', '/v1/tasks/%zz/explain', '/v1/repos/o%/r']) {
      const res = await fetch(`${pool.url}${path}`, { headers: { authorization: `Bearer ${pool.adminToken}` } });
      const answer = (await res.json()) as { error?: { code: string } };
      assert.equal(answer.error?.code, 'VALIDATION_FAILED', path);
      assert.equal(res.status, 400, path);
    }
  } finally {
    await pool.close();
  }
});
