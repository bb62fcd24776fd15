import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { coalesceSocketWrites } from '../../coordinator/socket-writes.ts';

/**
 * A group commit pushes a worker its next offer and answers its release in the same go: the
 * packets of one burst to one connection must leave in one write to the TCP socket, in the order
 * they were sent. engine.io alone writes the first packet, holds the rest until that write's
 * callback, then writes them: two writes.
 */
test('the packets a connection is sent in one burst leave in one write, in order', async (t) => {
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'] });
  coalesceSocketWrites(io);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await io.close();
  });
  const writes: number[] = [];
  io.on('connection', (socket) => {
    const raw = (socket.conn.transport as unknown as { socket: { _socket: NetSocket } }).socket._socket;
    // Every chunk handed to the TCP socket goes through one of these two, one call per system call.
    const counted = raw as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
    const write = counted._write.bind(raw);
    const writev = counted._writev.bind(raw);
    counted._write = (...a: unknown[]) => {
      writes.push(1);
      write(...a);
    };
    counted._writev = (chunks: unknown, ...rest: unknown[]) => {
      writes.push((chunks as unknown[]).length);
      writev(chunks, ...rest);
    };
    socket.on('release', (n: number, ack: (answer: unknown) => void) => {
      // As a commit does once its fsync is done: in a promise reaction, the push, then the answer.
      void Promise.resolve().then(() => {
        socket.emit('offer.created', { offer: n });
        socket.emit('offer.created', { offer: n + 1 });
        ack({ ok: true, n });
      });
    });
  });
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], reconnection: false });
  t.after(() => client.close());
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const seen: unknown[] = [];
  client.on('offer.created', (p: { offer: number }) => seen.push(p.offer));
  for (const n of [10, 20]) {
    await new Promise((r) => setTimeout(r, 20)); // the connect's own packets are written and done
    writes.length = 0;
    const answer = await new Promise((resolve) => client.emit('release', n, resolve));
    assert.deepEqual(answer, { ok: true, n });
    // One call, every frame's chunks in it (ws hands over a frame's header and payload apart).
    assert.equal(writes.length, 1, `one write for the three frames (push, push, answer), not writes of ${JSON.stringify(writes)} chunks`);
  }
  assert.deepEqual(seen, [10, 11, 20, 21], 'every push arrives, in order, before its answer');
});
