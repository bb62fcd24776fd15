import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { nextOffer, startPool } from '../helpers/coordinator.ts';
import { recordFigures } from '../helpers/figures.ts';
import { DEFAULT_RATE_LIMITS } from '../../coordinator/rate-limit.ts';

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

test('a flooding connection is rate-limited; other workers keep heartbeating unrefused', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r');
    await pool.task('o/r');
    const honest = await pool.join({ skills: ['docs'] });
    const { lease } = await honest.accept((await nextOffer(honest)).offer_id);
    const heartbeat = async (): Promise<number> => {
      const started = performance.now();
      await honest.request('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch });
      return performance.now() - started;
    };
    const quiet: number[] = [];
    for (let i = 0; i < 50; i += 1) quiet.push(await heartbeat());

    const flooder = await pool.join({ skills: ['rust'] });
    const raw = io(pool.url, { auth: { token: flooder.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    await raw.emitWithAck('session.hello', { protocol_version: '0.1' });
    // At the default limit (DEFAULT_RATE_LIMITS.socket): far more than a burst, as fast as it goes.
    const { burst, per_second: perSecond } = DEFAULT_RATE_LIMITS.socket;
    const FLOOD = burst * 5;
    let limited = 0;
    let answered = 0;
    const floodStarted = performance.now();
    const flood = Array.from({ length: FLOOD }, () =>
      raw.emitWithAck('task.list', {}).then((ack: { ok: boolean; error?: { code: string; details?: { retry_after_ms?: number } } }) => {
        answered += 1;
        if (!ack.ok && ack.error?.code === 'RATE_LIMITED') {
          limited += 1;
          assert.ok((ack.error.details?.retry_after_ms ?? 0) > 0);
        }
      }),
    );
    const loaded: number[] = [];
    for (let i = 0; i < 50; i += 1) loaded.push(await heartbeat()); // every one must succeed: request() throws on refusal
    await Promise.all(flood);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    raw.close();
    assert.equal(answered, FLOOD);
    // The bucket lets through at most its burst plus its rate for as long as the flood lasted
    // (+1 for the refill of the last partial token), however fast or slow this machine is.
    const allowedAtMost = burst + Math.ceil(perSecond * floodSeconds) + 1;
    assert.ok(FLOOD - limited <= allowedAtMost, `${FLOOD - limited} of ${FLOOD} flood requests passed in ${floodSeconds.toFixed(2)} s; the limit allows ${allowedAtMost}`);
    assert.ok(limited > 0, 'the flood was limited');
    recordFigures('rate-limit', { flood_requests: FLOOD, flood_limited: limited, flood_seconds: floodSeconds, heartbeat_p99_ms_quiet: p99(quiet), heartbeat_p99_ms_during_flood: p99(loaded) });
  } finally {
    await pool.close();
  }
});
