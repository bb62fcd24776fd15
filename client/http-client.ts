/**
 * Calls any OWP operation over the HTTP binding, building the route from the operation's
 * descriptor. Used by the CLI, the conformance kit and maintainers' scripts.
 */
import { randomUUID } from 'node:crypto';
import { OwpError, isErrorCode, type WireError } from '../protocol/errors.ts';
import { OPERATIONS, type Ack, type OperationName, type Params, type Result } from '../protocol/operations.ts';

export interface HttpClientOptions {
  baseUrl: string;
  token?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

export class HttpClient {
  constructor(private readonly options: HttpClientOptions) {}

  withToken(token: string): HttpClient {
    return new HttpClient({ ...this.options, token });
  }

  /** Calls an operation; mutating operations get a fresh idempotency key unless one is given. Throws OwpError on refusal. */
  async call<N extends OperationName>(name: N, params: Omit<Params<N>, 'idempotency_key'> & { idempotency_key?: string } = {} as Params<N>): Promise<Result<N>> {
    const ack = await this.callRaw(name, params as Record<string, unknown>);
    if (!ack.ok) throw OwpError.fromWire(ack.error as WireError);
    return ack.data as Result<N>;
  }

  /** Like call, but returns the envelope and the HTTP status instead of throwing. */
  async callRaw(name: OperationName, params: Record<string, unknown>): Promise<Ack<unknown> & { status: number }> {
    const descriptor = OPERATIONS[name];
    if (!descriptor.http) throw new Error(`${name} has no HTTP route`);
    const body: Record<string, unknown> = { ...params };
    if (descriptor.mutating && !descriptor.idempotentByNature && body.idempotency_key === undefined) body.idempotency_key = randomUUID();
    let path = descriptor.http.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
      const value = String(body[key]);
      delete body[key];
      return key === 'repo' ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
    });
    const init: RequestInit = { method: descriptor.http.method, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000) };
    const headers = init.headers as Record<string, string>;
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (descriptor.http.method === 'GET') {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) if (v !== undefined) query.set(k, String(v));
      const qs = query.toString();
      if (qs) path += `?${qs}`;
    } else {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return this.fetchAck(`${this.options.baseUrl.replace(/\/$/, '')}${path}`, init);
  }

  /** Sends a raw request (used by tests and the conformance kit to send malformed input). */
  async fetchAck(url: string, init: RequestInit): Promise<Ack<unknown> & { status: number }> {
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (error) {
      throw new OwpError('UNAVAILABLE', `Cannot reach the coordinator at ${this.options.baseUrl} (${(error as Error).message}). Is it running?`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new OwpError('INTERNAL', `The coordinator answered HTTP ${res.status} with a body that is not JSON.`);
    }
    const ack = parsed as Ack<unknown>;
    if (!ack.ok && !isErrorCode(ack.error?.code)) {
      return { ok: false, error: { code: 'INTERNAL', message: `Unknown error code from coordinator: ${String(ack.error?.code)}` }, status: res.status };
    }
    return { ...ack, status: res.status };
  }
}
