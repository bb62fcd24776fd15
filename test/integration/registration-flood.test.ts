/**
 * Registration floods (SPEC WORKER-004, WORKER-005): registration is open to anyone and every
 * worker is journaled for good, so a stranger registering as fast as it can is refused after a
 * small burst, on both bindings together, while the journal grows by a bounded amount; and a
 * worker's x_* profile data is capped, on register, update and hello alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { createCoordinator } from '../../coordinator/app.ts';
import { newToken } from '../../coordinator/auth.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import { DEFAULT_RATE_LIMITS, RegistrationLimiter, registrationKey } from '../../coordinator/rate-limit.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { HttpClient } from '../../client/http-client.ts';
import { LIMITS } from '../../protocol/validate.ts';
import type { Ack } from '../../protocol/operations.ts';
import { startPool, tempDir } from '../helpers/coordinator.ts';
import { statSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const profile = (i: number, extra: Record<string, unknown> = {}) => ({
  github_login: `flood${i}`,
  skills: ['docs'],
  capacity: 1,
  tools: ['none'],
  capabilities: { can_run_tests: true, can_open_prs: true },
  ...extra,
});

test('a registration flood at the default limits is refused after a small burst, and the journal stays bounded', async () => {
  // The broken variant (the review's finding): no registration limit and 256 KB of x_* per worker —
  // 50 registrations in 0.63 s grew the journal from 23 KB to 20 MB.
  const dir = tempDir();
  const coordinator = await createCoordinator({ store: new LowdbStore(dir), clock: new SystemClock(), adminTokens: [newToken('maintainer')] });
  try {
    const url = await coordinator.listen(0);
    const http = new HttpClient({ baseUrl: url });
    const journal = (): number => statSync(join(dir, 'journal.jsonl')).size;
    const before = journal();
    const padding = 'x'.repeat(LIMITS.maxWorkerExtensionBytes - 100);
    const codes = new Map<string, number>();
    const tally = (ack: Ack<unknown>): void => {
      const key = ack.ok ? 'ok' : ack.error.code;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    };
    // 150 over HTTP and 150 over socket.io, as fast as they go, each with as much x_* data as allowed.
    const socket = io(url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const started = Date.now();
    await Promise.all([
      ...Array.from({ length: 150 }, (_, i) => http.callRaw('worker.register', profile(i, { x_pad: padding })).then(tally)),
      ...Array.from({ length: 150 }, (_, i) => (socket.emitWithAck('worker.register', { ...profile(1000 + i, { x_pad: padding }), idempotency_key: `flood-${i}-0123456789` }) as Promise<Ack<unknown>>).then(tally)),
    ]);
    socket.close();
    await coordinator.runtime.whenIdle();
    const accepted = codes.get('ok') ?? 0;
    // The burst, plus what the refill added while the flood ran.
    const refilled = Math.ceil(((Date.now() - started) / 1000) * DEFAULT_RATE_LIMITS.register.per_second);
    const { burst } = DEFAULT_RATE_LIMITS.register;
    assert.ok(accepted >= burst && accepted <= burst + refilled, `one address registers a burst of ${burst} (+${refilled} refilled), on both bindings together: ${JSON.stringify([...codes])}`);
    assert.equal(codes.get('RATE_LIMITED'), 300 - accepted, 'the rest are refused with RATE_LIMITED');
    assert.equal(coordinator.runtime.engine.state.workers.size, accepted);
    const grown = journal() - before;
    assert.ok(grown < accepted * (LIMITS.maxWorkerExtensionBytes + 2048), `the journal grew by ${grown} bytes for ${accepted} workers`);

    const oversized = await http.callRaw('worker.register', profile(9999, { x_pad: 'x'.repeat(LIMITS.maxWorkerExtensionBytes + 1) }));
    assert.equal(!oversized.ok && oversized.error.code, 'RATE_LIMITED', 'still limited, before anything else is looked at');
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pool-wide registration limit holds however many addresses a flood comes from', () => {
  let now = 0;
  const limiter = new RegistrationLimiter({ per_second: 1 / 60, burst: 10 }, { per_second: 0.1, burst: 60 }, () => now);
  let accepted = 0;
  for (let i = 0; i < 1000; i += 1) if (limiter.take(`10.0.${i >> 8}.${i & 255}`) === 0) accepted += 1;
  assert.equal(accepted, 60, 'a burst of 60 for the whole pool');
  now += 100_000; // 100 s later: ten more
  for (let i = 0; i < 1000; i += 1) if (limiter.take(`10.1.${i >> 8}.${i & 255}`) === 0) accepted += 1;
  assert.equal(accepted, 70);
  limiter.close();
  assert.equal(registrationKey('2001:db8:1:2:aaaa::1'), registrationKey('2001:db8:1:2:ffff:ffff:ffff:ffff'), 'an IPv6 client counts by its /64');
  assert.notEqual(registrationKey('2001:db8:1:2::1'), registrationKey('2001:db8:1:3::1'));
  assert.equal(registrationKey('::ffff:10.0.0.1'), '10.0.0.1');
});

test('a worker\'s x_* data is capped on worker.register, worker.update and the hello profile', async () => {
  const pool = await startPool();
  try {
    const http = new HttpClient({ baseUrl: pool.url });
    const big = 'x'.repeat(LIMITS.maxWorkerExtensionBytes);
    const refused = await http.callRaw('worker.register', profile(1, { x_big: big }));
    assert.equal(!refused.ok && refused.error.code, 'PAYLOAD_TOO_LARGE');
    const half = 'y'.repeat(LIMITS.maxWorkerExtensionBytes / 2);
    const w = await pool.join({ x_first: half } as never);
    const update = await w.request('worker.update', { x_second: half } as never).then(() => 'ok', (e: { code?: string }) => e.code);
    assert.equal(update, 'PAYLOAD_TOO_LARGE', 'the merged x_* data is what counts');
    const raw = io(pool.url, { auth: { token: w.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    const hello = (await raw.emitWithAck('session.hello', { protocol_version: '0.1', profile: { x_second: half } })) as Ack<unknown>;
    raw.close();
    assert.equal(!hello.ok && hello.error.code, 'PAYLOAD_TOO_LARGE');
    const { workers } = await pool.admin.call('worker.list', {});
    assert.equal((workers[0] as Record<string, unknown>).x_second, undefined, 'nothing was written');
  } finally {
    await pool.close();
  }
});
