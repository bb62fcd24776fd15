/**
 * What a connection keeps after its handshake (issue 20, bench/README.md "Memory per worker").
 * engine.io keeps the upgrade request (an `IncomingMessage` with its headers, raw headers and
 * parsed query) for the connection's life in two places: its socket's `request`, and the
 * WebSocketResponse it made for middlewares, which a `once('close')` listener on the TCP socket
 * holds (to re-emit `close` on the response for middlewares such as pino-http; the coordinator has
 * none). The coordinator reads the request once, when socket.io builds the handshake (address,
 * token, forwarded-for), so after that both are dropped, with that listener, and the handshake's
 * copies of the headers and query too, with its `time` and `url` strings: nothing reads them
 * later. At 10,000 workers that is 10,000 requests and responses (about 2 KB each with their
 * headers, listeners and states).
 */
import { EventEmitter } from 'node:events';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';

/** An empty, shared stand-in for the headers and query a handshake no longer needs. */
const NOTHING: Readonly<Record<string, never>> = Object.freeze({});

/** What engine.io made for an upgrade, by its TCP socket, until the connection is set up on it. */
interface Upgrade {
  res: { req?: unknown };
  /** The response's own listener on the TCP socket, when it was recognised. */
  onClose?: (...args: unknown[]) => void;
}

const upgrades = new WeakMap<object, Upgrade>();

/** engine.io's WebSocketResponse re-emitting the TCP socket's close (engine.io/build/server.js). */
const RESPONSE_CLOSE = '() => this.emit("close")';

/** Registers the engine middleware that notes each upgrade's response object (call once per server). */
export function noteUpgradeResponses(io: Server): void {
  io.engine.use((_req: IncomingMessage, res: unknown, next: () => void) => {
    // On an upgrade engine.io passes its own WebSocketResponse, not an http.ServerResponse. Its
    // constructor has just added its close listener, last, in the same tick (middlewares run in a
    // microtask after it); the source text check leaves any other listener alone whatever the version.
    const tcp = res !== null && typeof res === 'object' && !(res instanceof ServerResponse) ? (res as { socket?: unknown }).socket : undefined;
    if (tcp instanceof EventEmitter) {
      const upgrade: Upgrade = { res: res as Upgrade['res'] };
      const last = tcp.listeners('close').at(-1);
      if (typeof last === 'function' && String(last) === RESPONSE_CLOSE) upgrade.onClose = last as Upgrade['onClose'];
      upgrades.set(tcp, upgrade);
    }
    next();
  });
}

/** engine.io's connection as far as this needs it (the TCP socket under a websocket transport is `ws`'s `_socket`). */
interface EngineConnection extends EventEmitter {
  request?: IncomingMessage | null;
  transport?: { name?: string; socket?: EventEmitter & { _socket?: unknown } };
}

/** engine.io's no-op `error` listener on a new WebSocket (server.js `onWebSocket`), left on it for the connection's life. */
const UPGRADE_ERROR_LISTENER = 'onUpgradeError';

/** Lets go of the upgrade's request and response once the connection runs over the WebSocket. */
function releaseUpgrade(conn: EngineConnection): void {
  const ws = conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
  if (ws instanceof EventEmitter) {
    // engine.io removes it only on the upgrade of a long-polling connection; on a connection that
    // starts on the WebSocket it stays (a closure, its context and a listener array per socket).
    // Removed only beside another `error` listener (the transport's own), never leaving none.
    const errors = ws.listeners('error');
    const spare = errors.find((l) => l.name === UPGRADE_ERROR_LISTENER);
    if (spare && errors.length > 1) ws.removeListener('error', spare as (...args: unknown[]) => void);
  }
  const tcp = ws?._socket;
  const upgrade = tcp && typeof tcp === 'object' ? upgrades.get(tcp) : undefined;
  if (!upgrade) return;
  upgrades.delete(tcp as object);
  // Without its listener the response is unreachable; clearing `req` still lets the request go
  // when the listener was not recognised (another engine.io version).
  upgrade.res.req = null;
  if (upgrade.onClose) (tcp as EventEmitter).removeListener('close', upgrade.onClose);
}

/**
 * Drops what the connection would keep of its upgrade request. Call from the `connection`
 * handler, once socket.io has built `socket.handshake` (read what is needed from it first). A
 * connection that starts on long-polling (a browser) lets go when it upgrades.
 */
export function forgetUpgradeRequest(socket: Socket): void {
  const conn = socket.conn as unknown as EngineConnection;
  conn.request = null;
  socket.handshake.headers = NOTHING;
  socket.handshake.query = NOTHING;
  // Two strings of their own per connection (a date as text, the request's URL) that nothing reads.
  socket.handshake.time = '';
  socket.handshake.url = '';
  if (conn.transport?.name === 'websocket') releaseUpgrade(conn);
  else conn.once('upgrade', () => releaseUpgrade(conn));
}
