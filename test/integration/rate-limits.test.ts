/**
 * Rate limits as configured, over real HTTP and socket.io: HTTP clients are keyed on the real
 * client behind a trusted proxy, and a spoofed X-Forwarded-For from anyone else changes nothing.
 * The limits here are tiny (0.01 tokens a second refill) so the counts do not depend on speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startPool } from '../helpers/coordinator.ts';

const TINY = { per_second: 0.01, burst: 5 };

async function info(url: string, forwardedFor?: string): Promise<number> {
  const res = await fetch(`${url}/v1/info`, forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {});
  await res.arrayBuffer();
  return res.status;
}

test('without trust_proxy, X-Forwarded-For is ignored: a client cannot buy a fresh bucket per request', async () => {
  const pool = await startPool('memory', { rateLimits: { http: TINY } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push(await info(pool.url, `203.0.113.${i}`));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
  } finally {
    await pool.close();
  }
});

test('behind a trusted proxy each forwarded client has its own bucket; what the client wrote itself is ignored', async () => {
  const pool = await startPool('memory', { rateLimits: { http: TINY }, trustProxy: ['loopback'] });
  try {
    // Client A uses up its bucket, varying the part of the header it controls (left of what the proxy appended).
    const a: number[] = [];
    for (let i = 0; i < 7; i += 1) a.push(await info(pool.url, `198.51.100.${i}, 192.0.2.10`));
    assert.deepEqual(a, [200, 200, 200, 200, 200, 429, 429]);
    // Client B, behind the same proxy, is not affected.
    assert.equal(await info(pool.url, '192.0.2.20'), 200);
    // The proxy itself (no header) is a client of its own.
    assert.equal(await info(pool.url), 200);
    // A chain of trusted proxies (all loopback) is skipped: the client is the first address that is not one.
    assert.equal(await info(pool.url, '192.0.2.10, 127.0.0.2'), 429);
  } finally {
    await pool.close();
  }
});

test('a configured socket limit refuses a flooding connection with RATE_LIMITED and a retry delay', async () => {
  const pool = await startPool('memory', { rateLimits: { socket: TINY } });
  try {
    const worker = await pool.join();
    const raw = io(pool.url, { auth: { token: worker.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    const acks = (await Promise.all(Array.from({ length: 8 }, () => raw.emitWithAck('coordinator.info', {})))) as Array<{ ok: boolean; error?: { code: string; details?: { retry_after_ms?: number } } }>;
    raw.close();
    assert.deepEqual(acks.map((a) => (a.ok ? 'ok' : a.error?.code)), ['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    assert.ok((acks[5]?.error?.details?.retry_after_ms ?? 0) > 1000);
    const metrics = await (await fetch(`${pool.url}/metrics`)).text();
    assert.match(metrics, /^owp_rate_limited_total\{binding="socket"\} 3$/m);
  } finally {
    await pool.close();
  }
});
