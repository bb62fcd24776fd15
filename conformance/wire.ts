/**
 * The kit's view of an implementation: raw socket.io and HTTP, nothing in-process. Unlike the
 * worker client in client/, nothing here retries or hides a refusal: every ack is returned as the
 * implementation sent it, so a test sees exactly what went over the wire.
 */
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { OPERATIONS, type Ack, type OperationName } from '../protocol/operations.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';

export type WireAck = Ack<unknown>;
export type HttpAck = WireAck & { status: number };

export interface Notification {
  name: string;
  payload: Record<string, unknown>;
}

/** Adds a fresh idempotency key to a mutating operation's params unless the caller chose one (or chose none with `idempotency_key: null`). */
export function withKey(name: string, params: Record<string, unknown>): Record<string, unknown> {
  const descriptor = OPERATIONS[name as OperationName];
  if (!descriptor || !descriptor.mutating || descriptor.idempotentByNature) return params;
  if (params.idempotency_key === null) {
    const { idempotency_key: _drop, ...rest } = params;
    return rest;
  }
  return params.idempotency_key === undefined ? { ...params, idempotency_key: randomUUID() } : params;
}

export class ConnectRefused extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

/** One socket.io connection that records every notification it receives. */
export class WireSocket {
  readonly notifications: Notification[] = [];
  private readonly waiters = new Set<() => void>();
  /** Why the connection ended, once it has (socket.io's reason, e.g. "io server disconnect"). */
  disconnectReason: string | undefined;

  private constructor(readonly socket: Socket, private readonly timeoutMs: number) {
    socket.on('disconnect', (reason: string) => {
      this.disconnectReason ??= reason;
    });
    socket.onAny((name: string, payload: unknown) => {
      this.notifications.push({ name, payload: (payload ?? {}) as Record<string, unknown> });
      for (const wake of [...this.waiters]) wake();
    });
  }

  /** Connects with the token in the handshake; rejects with ConnectRefused on `connect_error`. */
  static open(url: string, token: string | undefined, timeoutMs = 5000): Promise<WireSocket> {
    const socket = io(url, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: timeoutMs });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new WireSocket(socket, timeoutMs)));
      socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
        socket.close();
        reject(new ConnectRefused(err.data?.code, err.message));
      });
    });
  }

  /** Emits an operation and returns its ack (a fresh idempotency key is added to mutating operations unless given). */
  async call(name: string, params: unknown = {}): Promise<WireAck> {
    const payload = params !== null && typeof params === 'object' && !Array.isArray(params) ? withKey(name, params as Record<string, unknown>) : params;
    return (await this.socket.timeout(this.timeoutMs).emitWithAck(name, payload)) as WireAck;
  }

  hello(extra: Record<string, unknown> = {}): Promise<WireAck> {
    return this.call('session.hello', { protocol_version: PROTOCOL_VERSION, ...extra });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Resolves with the first notification (already received or later) that matches; rejects after timeoutMs. */
  waitFor(name: string, match: (payload: Record<string, unknown>) => boolean = () => true, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const find = (): Notification | undefined => this.notifications.find((n) => n.name === name && match(n.payload));
    const found = find();
    if (found) return Promise.resolve(found.payload);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const n = find();
        if (!n) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(n.payload);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`no ${name} notification within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  has(name: string, match: (payload: Record<string, unknown>) => boolean = () => true): boolean {
    return this.notifications.some((n) => n.name === name && match(n.payload));
  }

  close(): void {
    this.socket.close();
  }
}

/** HTTP calls built from the operation descriptors (§8.2), returning the envelope and the status. */
export class WireHttp {
  constructor(readonly baseUrl: string, private readonly timeoutMs = 10_000) {}

  async call(name: OperationName, params: Record<string, unknown>, token?: string, headers: Record<string, string> = {}): Promise<HttpAck> {
    const descriptor = OPERATIONS[name];
    if (!descriptor.http) throw new Error(`${name} has no HTTP route`);
    const body = { ...withKey(name, params) };
    let path = descriptor.http.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
      const value = String(body[key]);
      delete body[key];
      return key === 'repo' ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
    });
    const init: RequestInit & { headers: Record<string, string> } = { method: descriptor.http.method, headers: { accept: 'application/json', ...headers } };
    if (token !== undefined) init.headers.authorization = `Bearer ${token}`;
    if (descriptor.http.method === 'GET') {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) if (v !== undefined) query.set(k, String(v));
      if (query.size > 0) path += `?${query.toString()}`;
    } else {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return this.raw(path, init);
  }

  /** Sends any request (malformed ones included) and parses the envelope; a body that is not JSON becomes a failed ack with code `X_NOT_JSON`. */
  async raw(path: string, init: RequestInit = {}): Promise<HttpAck> {
    const res = await fetch(`${this.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    try {
      return { ...(JSON.parse(text) as WireAck), status: res.status };
    } catch {
      return { ok: false, error: { code: 'X_NOT_JSON', message: `HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}` }, status: res.status };
    }
  }
}
