/**
 * Fuzzes every operation over both bindings with malformed, oversized, deeply nested and
 * prototype-polluting payloads: every answer must be a well-formed envelope with a known code,
 * the process must keep answering, and the state must still satisfy every invariant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { io } from 'socket.io-client';
import { ERROR_CODES } from '../../protocol/errors.ts';
import { OPERATIONS } from '../../protocol/operations.ts';
import { startPool } from '../helpers/coordinator.ts';
import { checkJournal } from '../helpers/invariants.ts';
import { recordFigures } from '../helpers/figures.ts';
import type { MemoryStore } from '../../coordinator/store/memory.ts';

const CASES = Number(process.env.OWP_FUZZ_CASES ?? 400);

/** A payload with a prototype key anywhere must never be accepted, on either binding. */
function hasPrototypeKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasPrototypeKey);
  return Object.keys(value).some((k) => k === '__proto__' || k === 'constructor' || k === 'prototype' || hasPrototypeKey((value as Record<string, unknown>)[k]));
}

const hostile = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(fc.constantFrom('task_id', 'offer_id', 'lease_id', 'repo', 'epoch', 'title', 'idempotency_key', 'state', '__proto__', 'constructor', 'x_ok', 'x_'), fc.jsonValue()),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true},"idempotency_key":"p"}')),
  // Prototype keys that carry an operation's required fields: accepted only if they were inherited.
  fc.constantFrom('{"__proto__":{"github_login":"mallory","skills":[],"capacity":1,"tools":[],"capabilities":{"can_run_tests":true,"can_open_prs":true}},"idempotency_key":"q"}',
    '{"__proto__":{"repo":"o/r","title":"x"},"idempotency_key":"r"}', '{"__proto__":{"task_id":"T-1"}}', '{"x_data":{"__proto__":{"a":1}},"idempotency_key":"s"}').map((t) => JSON.parse(t) as unknown),
  fc.constant({ constructor: { prototype: { polluted: true } }, idempotency_key: 'c' }),
  fc.integer({ min: 1, max: 200 }).map((depth) => JSON.parse('{"x_deep":' + '['.repeat(depth) + ']'.repeat(depth) + '}')),
  fc.constant({ title: 'x'.repeat(70_000), repo: 'o/r', idempotency_key: 'big' }),
  fc.constant({ task_id: 'T-1; DROP TABLE tasks', idempotency_key: 'sql' }),
  fc.constant({ epoch: Number.MAX_SAFE_INTEGER + 2, lease_id: 'L-1', idempotency_key: 'n' }),
);

test(`fuzzing every operation over socket.io and HTTP (${CASES} cases each): known codes, no crash, state intact`, async () => {
  const pool = await startPool('memory');
  try {
    await pool.repo('o/r');
    await pool.task('o/r', { area: 'docs' });
    const w = await pool.join();
    const names = Object.keys(OPERATIONS) as Array<keyof typeof OPERATIONS>;
    const known = new Set(Object.keys(ERROR_CODES));
    const raw = io(pool.url, { auth: { token: w.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    await raw.emitWithAck('session.hello', { protocol_version: '0.1' });
    let crashes = 0;
    let cases = 0;
    let prototypeCases = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), hostile, fc.boolean(), async (name, payload, asAdmin) => {
        cases += 1;
        const d = OPERATIONS[name];
        // socket.io
        const prototypeKey = hasPrototypeKey(payload);
        if (prototypeKey) prototypeCases += 1;
        const ack = await raw.timeout(5000).emitWithAck(name, payload).catch(() => null);
        if (ack === null) crashes += 1;
        else {
          assert.equal(typeof ack.ok, 'boolean');
          if (!ack.ok) assert.ok(known.has(ack.error.code), `unknown code ${ack.error.code}`);
          if (prototypeKey && d.binding !== 'http') assert.equal(ack.ok, false, `socket.io accepted ${name} with a prototype key`);
        }
        // HTTP
        if (d.http) {
          const path = d.http.path.replace('{repo}', 'o/r').replace(/\{\w+\}/g, 'T-1');
          const init: RequestInit = { method: d.http.method, headers: { authorization: `Bearer ${asAdmin ? pool.adminToken : w.token}`, 'content-type': 'application/json' } };
          if (d.http.method !== 'GET') init.body = JSON.stringify(payload);
          const res = await fetch(`${pool.url}${path}`, init).catch(() => null);
          if (res === null) crashes += 1;
          else {
            const body = (await res.json()) as { ok: boolean; error?: { code: string } };
            if (!body.ok) assert.ok(known.has(body.error?.code as string), `unknown code ${body.error?.code}`);
            if (prototypeKey && d.http.method !== 'GET') assert.equal(body.ok, false, `HTTP accepted ${name} with a prototype key`);
          }
        }
      }),
      { numRuns: CASES },
    );
    raw.close();
    recordFigures('fuzz', { fuzz_cases: cases * 2, crashes });
    assert.equal(crashes, 0);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was not polluted');
    assert.equal((await fetch(`${pool.url}/healthz`)).status, 200);
    await pool.coordinator.runtime.whenIdle();
    const journal = await (pool.store as MemoryStore).readJournal(0, 1_000_000);
    assert.deepEqual(checkJournal(journal, pool.coordinator.runtime.engine.state), []);
    assert.ok(cases >= CASES);
    assert.ok(prototypeCases > 0, 'the fuzz tried prototype keys');
  } finally {
    await pool.close();
  }
});
