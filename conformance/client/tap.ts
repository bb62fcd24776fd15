/**
 * The client mode's view of a worker implementation: a socket.io and HTTP relay that the worker
 * connects to instead of the coordinator. Every operation it sends, every answer and every
 * notification it receives are recorded with the time the relay saw them, and the relay can do
 * to the link what a real network does: drop a connection after the coordinator answered but
 * before the answer arrived, or go silent both ways until the connection is given up. It never invents an
 * answer: every ack the worker gets is the coordinator's own.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import type { WireAck } from '../wire.ts';

export interface TappedOp {
  /** Which connection sent it (1, 2, …; 0 for HTTP). */
  readonly conn: number;
  readonly name: string;
  readonly params: Record<string, unknown>;
  /** When the relay received it from the worker. */
  readonly receivedAt: number;
  ack?: WireAck;
  /** When the ack was handed to the worker (absent: not delivered, e.g. the link was dropped). */
  ackDeliveredAt?: number;
}

export interface TappedNotification {
  readonly conn: number;
  readonly name: string;
  readonly payload: Record<string, unknown>;
  /** When the relay forwarded it to the worker. */
  readonly deliveredAt: number;
}

export interface TappedConnection {
  readonly conn: number;
  readonly openedAt: number;
  closedAt?: number;
}

export class ClientTap {
  readonly ops: TappedOp[] = [];
  readonly notifications: TappedNotification[] = [];
  readonly connections: TappedConnection[] = [];
  private readonly http: HttpServer;
  private readonly io: IoServer;
  private readonly downstream = new Map<number, ServerSocket>();
  private readonly upstream = new Map<number, ClientSocket>();
  private nextConn = 1;
  /** Operation names whose next occurrence is run but whose answer is lost with the connection. */
  private readonly dropAckOf = new Set<string>();
  private stalled = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly target: string) {
    this.http = createServer((req, res) => void this.relayHttp(req, res));
    this.io = new IoServer(this.http, { transports: ['websocket'], maxHttpBufferSize: 2 * 1024 * 1024 });
    this.io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const up = io(this.target, { auth: typeof token === 'string' ? { token } : {}, transports: ['websocket'], reconnection: false, forceNew: true });
      up.once('connect', () => {
        const conn = this.nextConn++;
        (socket.data as { conn?: number }).conn = conn;
        this.upstream.set(conn, up);
        next();
      });
      up.once('connect_error', (err: Error & { data?: unknown }) => {
        up.close();
        const refused = new Error(err.message) as Error & { data?: unknown };
        if (err.data !== undefined) refused.data = err.data;
        next(refused);
      });
    });
    this.io.on('connection', (socket) => this.attach(socket));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** The next `name` the worker sends is run by the coordinator, then its connection drops before the answer arrives. */
  dropAckOnce(name: string): void {
    this.dropAckOf.add(name);
  }

  /** Takes back a dropAckOnce that has not happened yet. */
  keepAck(name: string): void {
    this.dropAckOf.delete(name);
  }

  /**
   * The link goes silent both ways (a laptop lid closed, a NAT that forgot the connection): what
   * either side sends from now on is lost with the connection, which cut() then drops, as a
   * heartbeat timeout would.
   */
  stall(): void {
    this.stalled = true;
  }

  cut(): void {
    this.stalled = false;
    for (const socket of this.downstream.values()) socket.disconnect(true);
  }

  /** Resolves when fn returns a value (checked after each thing the relay sees); rejects after timeoutMs. */
  when<T>(fn: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const now = fn();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const value = fn();
        if (value === undefined) return;
        clearTimeout(timer);
        this.listeners.delete(wake);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(wake);
        reject(new Error(`the worker did not ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.listeners.add(wake);
    });
  }

  async close(): Promise<void> {
    for (const up of this.upstream.values()) up.close();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  private changed(): void {
    for (const wake of [...this.listeners]) wake();
  }

  private attach(socket: ServerSocket): void {
    const conn = (socket.data as { conn: number }).conn;
    const up = this.upstream.get(conn) as ClientSocket;
    const record: TappedConnection = { conn, openedAt: Date.now() };
    this.connections.push(record);
    this.downstream.set(conn, socket);
    up.onAny((name: string, payload: unknown) => {
      if (this.stalled) return;
      socket.emit(name, payload);
      this.notifications.push({ conn, name, payload: (payload ?? {}) as Record<string, unknown>, deliveredAt: Date.now() });
      this.changed();
    });
    up.on('disconnect', () => socket.disconnect(true));
    socket.on('disconnect', () => {
      record.closedAt ??= Date.now();
      up.close();
      this.changed();
    });
    socket.onAny((name: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (a: unknown) => void) : undefined;
      const params = (args[0] !== null && typeof args[0] === 'object' ? args[0] : {}) as Record<string, unknown>;
      const op: TappedOp = { conn, name, params, receivedAt: Date.now() };
      this.ops.push(op);
      this.changed();
      const send = (): void => {
        const drop = this.dropAckOf.delete(name);
        // The ack is passed on from socket.io's callback, as its packet is read, not from a promise a
        // microtask later: pushes that arrived after it in the same read would overtake it, and the
        // worker would see them in an order the coordinator never sent.
        up.timeout(30_000).emit(name, args[0], (err: Error | null, answer: unknown) => {
          if (err) {
            socket.disconnect(true);
            return;
          }
          op.ack = answer as WireAck;
          if (drop) {
            socket.disconnect(true);
          } else if (socket.connected && !this.stalled) {
            ack?.(answer);
            op.ackDeliveredAt = Date.now();
          }
          this.changed();
        });
      };
      if (!this.stalled) send();
    });
  }

  /** Everything that is not socket.io goes to the coordinator as it is (registration, reads over HTTP). */
  private async relayHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length') headers[k] = v;
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const op: TappedOp = { conn: 0, name: `${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0]}`, params: parseJson(body), receivedAt: Date.now() };
    this.ops.push(op);
    try {
      const answer = await fetch(`${this.target}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body && req.method !== 'GET' && req.method !== 'HEAD' ? { body } : {}) });
      const text = Buffer.from(await answer.arrayBuffer());
      op.ack = parseJson(text) as unknown as WireAck;
      const out: Record<string, string> = {};
      answer.headers.forEach((value, key) => {
        if (key !== 'content-encoding' && key !== 'transfer-encoding' && key !== 'content-length') out[key] = value;
      });
      res.writeHead(answer.status, out).end(text);
      op.ackDeliveredAt = Date.now();
    } catch (error) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: { code: 'UNAVAILABLE', message: `The conformance relay could not reach the coordinator: ${(error as Error).message}` } }));
    }
    this.changed();
  }
}

function parseJson(body: Buffer | undefined): Record<string, unknown> {
  if (!body || body.length === 0) return {};
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
