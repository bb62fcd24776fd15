/**
 * The conformance kit's relay between a worker under test and the coordinator (conformance/client/tap.ts)
 * passes on what the coordinator sends in the order it sent it: an answer and a push written in the
 * same tick reach the worker answer first, as they would without the relay. It once passed answers
 * on a microtask later, so a push read in the same chunk overtook its answer (a direct grant ahead of
 * the hello's answer), and judged the worker on an order the coordinator never produced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';
import { ClientTap } from '../../conformance/client/tap.ts';

test('the client tap passes on answers and pushes in the order the coordinator wrote them', async () => {
  const http = createServer();
  const upstream = new Server(http, { transports: ['websocket'] });
  upstream.on('connection', (socket) => {
    socket.on('ping.me', (n: number, ack: (a: unknown) => void) => {
      // The answer first, then two pushes, in one tick: one write on the wire.
      ack({ ok: true, data: { n } });
      socket.emit('pushed', { after: n, i: 1 });
      socket.emit('pushed', { after: n, i: 2 });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const tap = new ClientTap(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);
  const url = await tap.listen();
  const worker = io(url, { transports: ['websocket'], reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('connect', resolve);
      worker.once('connect_error', reject);
    });
    const seen: string[] = [];
    worker.on('pushed', (p: { after: number; i: number }) => seen.push(`push ${p.after}.${p.i}`));
    await Promise.all(
      Array.from({ length: 20 }, (_, n) => new Promise<void>((resolve) => {
        worker.emit('ping.me', n, () => {
          seen.push(`answer ${n}`);
          resolve();
        });
      })),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let n = 0; n < 20; n += 1) {
      const at = seen.indexOf(`answer ${n}`);
      assert.ok(at >= 0 && at < seen.indexOf(`push ${n}.1`) && seen.indexOf(`push ${n}.1`) < seen.indexOf(`push ${n}.2`), `answer ${n} before its pushes: ${seen.join(', ')}`);
    }
    assert.equal(tap.ops.filter((o) => o.name === 'ping.me' && o.ackDeliveredAt !== undefined).length, 20, 'every answer is recorded as delivered');
  } finally {
    worker.close();
    await tap.close();
    upstream.close();
  }
});
