/**
 * What a connection keeps after its handshake (issue 20, bench/README.md "Memory per worker").
 * engine.io keeps the upgrade request (an `IncomingMessage` with its headers, raw headers and
 * parsed query) for the connection's life in two places: its socket's `request`, and the
 * WebSocketResponse it made for middlewares, which the TCP socket's `close` listener holds. The
 * coordinator reads the request once, when socket.io builds the handshake (address, token,
 * forwarded-for), so after that both references are dropped, and the handshake's copies of the
 * headers and query too: nothing reads them later. At 10,000 workers that is 10,000 requests.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';

/** An empty, shared stand-in for the headers and query a handshake no longer needs. */
const NOTHING: Readonly<Record<string, never>> = Object.freeze({});

/** The response object engine.io made for an upgrade, by its request, until the connection is set up. */
const upgrades = new WeakMap<IncomingMessage, { req?: unknown }>();

/** Registers the engine middleware that notes each upgrade's response object (call once per server). */
export function noteUpgradeResponses(io: Server): void {
  io.engine.use((req: IncomingMessage, res: unknown, next: () => void) => {
    // On an upgrade engine.io passes its own WebSocketResponse, not an http.ServerResponse.
    if (res !== null && typeof res === 'object' && !(res instanceof ServerResponse)) upgrades.set(req, res as { req?: unknown });
    next();
  });
}

/**
 * Drops what the connection would keep of its upgrade request. Call from the `connection`
 * handler, once socket.io has built `socket.handshake` (read what is needed from it first).
 */
export function forgetUpgradeRequest(socket: Socket): void {
  const conn = socket.conn as unknown as { request?: IncomingMessage | null };
  const req = conn.request;
  if (req) {
    const res = upgrades.get(req);
    upgrades.delete(req);
    if (res) res.req = null;
  }
  conn.request = null;
  socket.handshake.headers = NOTHING;
  socket.handshake.query = NOTHING;
}
