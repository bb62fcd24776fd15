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
}

export function coalesceSocketWrites(io: Server): void {
  const corked = new WeakSet<NetSocket>();
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
