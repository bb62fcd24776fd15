/**
 * What a connection keeps after its handshake (coordinator/socket-memory.ts): the upgrade request
 * is no longer reachable once the worker is connected, while what the connection still needs
 * works: per-connection rate limits, socket.io's transport heartbeat, and the disconnect handler
 * that takes the worker offline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { io } from 'socket.io-client';
import { startPool, until } from '../helpers/coordinator.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Collects garbage until `ref` is gone or a few rounds have passed. `deref()` keeps its target alive
 * until the end of the current job, so each round collects in a fresh turn before looking.
 */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10; i += 1) {
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setImmediate(r));
    if (ref.deref() === undefined) return true;
  }
  return false;
}

for (const transports of [['websocket'], ['polling', 'websocket']]) {
  test(`the upgrade request is not kept once connected (${transports.join(' then ')}): neither by engine.io, its response object, nor the handshake`, async () => {
    const pool = await startPool('memory');
    const requests: Array<WeakRef<IncomingMessage>> = [];
    const responses: Array<WeakRef<object>> = [];
    pool.coordinator.http.on('upgrade', (req: IncomingMessage) => requests.push(new WeakRef(req)));
    // Registered after the coordinator's own middleware: sees engine.io's response object for the upgrade.
    pool.coordinator.io.engine.use((_req: IncomingMessage, res: object, next: () => void) => {
      if (!(res instanceof ServerResponse)) responses.push(new WeakRef(res));
      next();
    });
    try {
      const worker = await pool.join();
      const raw = io(pool.url, { auth: { token: worker.token }, transports, reconnection: false });
      await new Promise<void>((r) => raw.once('connect', () => r()));
      if (raw.io.engine.transport.name !== 'websocket') await new Promise<void>((r) => raw.io.engine.once('upgrade', () => r()));
      const info = (await raw.emitWithAck('coordinator.info', {})) as { ok: boolean };
      assert.equal(info.ok, true);
      assert.equal(requests.length, 2, "the pool's connection and this one");
      assert.equal(responses.length, 2);
      const server = pool.coordinator.io.sockets.sockets.get(raw.id as string);
      assert.ok(server);
      assert.equal((server.conn as unknown as { request: unknown }).request, null);
      assert.deepEqual(Object.keys(server.handshake.headers), []);
      assert.deepEqual([server.handshake.time, server.handshake.url], ['', ''], 'no per-connection date text or URL');
      const errorListeners = (server.conn as unknown as { transport: { socket: EventEmitter } }).transport.socket.listeners('error');
      assert.deepEqual(errorListeners.map((l) => l.name), ['bound onError'], "only the transport's own error listener stays on the WebSocket");
      assert.equal(server.handshake.auth.token, worker.token, 'the token stays: commands re-check it');
      for (const [i, ref] of requests.entries()) assert.ok(await collected(ref), `upgrade request ${i} is still reachable after connect`);
      for (const [i, ref] of responses.entries()) assert.ok(await collected(ref), `engine.io's response object for upgrade ${i} is still reachable after connect`);
      raw.close();
    } finally {
      await pool.close();
    }
  });
}

test('after the request is dropped, the per-connection limit, the transport heartbeat and going offline still work', async () => {
  // A fast socket.io heartbeat: engine.io sends its next ping only once the last one's pong came
  // back (the pong restarts the 20 ms ping timer), so ten pings in a row are ten round trips that
  // worked; a pong that went unheard would close the connection after the ping timeout. That
  // timeout is not tiny too: on a loaded machine a 20 ms one closed a healthy connection, and the
  // test then waited for pings that could not come.
  const pool = await startPool('memory', { rateLimits: { socket: { per_second: 0.01, burst: 5 } }, pingIntervalMs: 20, pingTimeoutMs: 2000 });
  try {
    const worker = await pool.join();
    const raw = io(pool.url, { auth: { token: worker.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    let pongs = 0;
    raw.io.engine.on('ping', () => (pongs += 1));
    let closed = '';
    raw.once('disconnect', (reason) => (closed = reason));
    await until(() => pongs >= 10 || closed, `ten pings, each sent once the last one's pong came back (${pongs} came)`, 20_000);
    assert.equal(closed, '', 'the connection survives its heartbeats');
    assert.equal(raw.connected, true);
    const acks = (await Promise.all(Array.from({ length: 7 }, () => raw.emitWithAck('coordinator.info', {})))) as Array<{ ok: boolean; error?: { code: string } }>;
    assert.deepEqual(acks.map((a) => (a.ok ? 'ok' : a.error?.code)), ['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
    raw.close();
    // The pool's own connection for this worker said hello; closing it takes the worker offline.
    const id = worker.worker?.id as string;
    assert.equal(pool.coordinator.runtime.engine.state.workers.get(id)?.online, true);
    worker.socket.close();
    await until(() => pool.coordinator.runtime.engine.state.workers.get(id)?.online === false, 'the worker is taken offline once its connection closes', 20_000);
  } finally {
    await pool.close();
  }
});
