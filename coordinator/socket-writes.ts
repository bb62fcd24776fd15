/**
 * One write system call per connection per burst, instead of one per packet. A group commit
 * answers every command it made durable in one go, and delivers the offers it made: several
 * packets to the same connection in the same turn of the event loop. socket.io hands each to `ws`
 * as a frame of its own, and `ws` writes each frame with its own `writev`, which was the largest
 * single cost of the lifecycle workload (bench/README.md). Corking the connection's TCP socket when
 * engine.io starts sending, and uncorking it once the current tick's work is done (Node's
 * documented `cork()` + `process.nextTick(uncork)` idiom), hands the kernel every frame of the
 * burst at once. Nothing waits longer than the end of the current tick.
 */
import type { Socket as NetSocket } from 'node:net';
import type { Server } from 'socket.io';

/** engine.io's connection as far as this needs it: its transport, and under a websocket one the `ws` socket. */
interface EngineConnection {
  transport?: { name?: string; socket?: { _socket?: unknown } };
  flush?: () => void;
}

export function coalesceSocketWrites(io: Server): void {
  const corked = new WeakSet<NetSocket>();
  // engine.io hands a packet to its transport as soon as it is sent, then holds the connection's
  // next packets until that write's callback (the transport is "not writable" meanwhile), and
  // sends them after it in a second write. A group commit answers a command and pushes the offer
  // it made to the same connection in one go (an answer and an offer per release): the offer went
  // out in one `writev`, the answer in another. The connection's flush now runs once at the end of
  // the tick (after the promise reactions that send the answers), so every packet of the burst
  // goes to the transport together, in order, and out in one `writev` (the cork below). The
  // transport's backpressure is engine.io's, as before: it still waits for each write to finish.
  // One pair of functions per server, none per connection (10,000 connections: bench/memory.ts).
  const queued = new WeakSet<EngineConnection>();
  let engineFlush: (() => void) | undefined;
  const flushNow = (conn: EngineConnection): void => {
    queued.delete(conn);
    engineFlush?.call(conn);
  };
  function flushAtTickEnd(this: EngineConnection): void {
    if (queued.has(this)) return;
    queued.add(this);
    process.nextTick(flushNow, this);
  }
  io.engine.on('connection', (conn: EngineConnection) => {
    const flush = conn.flush;
    if (typeof flush !== 'function' || Object.hasOwn(conn, 'flush')) return; // someone else's: left alone
    engineFlush ??= flush;
    if (flush !== engineFlush) return;
    conn.flush = flushAtTickEnd;
  });
  io.engine.on('flush', (conn: EngineConnection) => {
    const transport = conn.transport;
    if (transport?.name !== 'websocket') return;
    // `ws` keeps the TCP socket as `_socket`; engine.io itself reaches into `ws` the same way (`_sender`).
    const raw = transport.socket?._socket as NetSocket | undefined;
    if (!raw || typeof raw.cork !== 'function' || raw.destroyed || corked.has(raw)) return;
    corked.add(raw);
    raw.cork();
    process.nextTick(() => {
      corked.delete(raw);
      raw.uncork();
    });
  });
}
