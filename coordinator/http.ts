/**
 * The HTTP binding (SPEC §8.2): one route per operation, generated from the descriptors; the same
 * `{ ok, data }` / `{ ok: false, error }` envelope as socket.io acks; bearer tokens; idempotency
 * keys from the `Idempotency-Key` header or the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, OwpError, isErrorCode } from '../protocol/errors.ts';
import { OPERATIONS, type Ack, type OperationName } from '../protocol/operations.ts';
import { LIMITS, validateParams } from '../protocol/validate.ts';
import { ANONYMOUS, type Principal } from './auth.ts';
import { prometheusText } from './prometheus.ts';
import { TokenBucket } from './rate-limit.ts';
import { wireError, type Runtime } from './runtime.ts';

interface Route {
  name: OperationName;
  method: string;
  pattern: RegExp;
  keys: string[];
}

function compileRoutes(): Route[] {
  const routes: Route[] = [];
  for (const descriptor of Object.values(OPERATIONS)) {
    if (!descriptor.http) continue;
    const keys: string[] = [];
    const source = descriptor.http.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
      keys.push(key);
      // A repo id spans two segments: owner/name.
      return key === 'repo' ? '([^/]+/[^/]+)' : '([^/]+)';
    });
    routes.push({ name: descriptor.name as OperationName, method: descriptor.http.method, pattern: new RegExp(`^${source}$`), keys });
  }
  return routes;
}

const ROUTES = compileRoutes();

export type StaticHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

export function createHttpHandler(getRuntime: () => Runtime, staticHandler?: StaticHandler) {
  const buckets = new Map<string, TokenBucket>();
  const sweep = setInterval(() => buckets.clear(), 60_000);
  sweep.unref();

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const runtime = getRuntime();
    try {
      if (method === 'GET' && path === '/healthz') {
        const degraded = runtime.isDegraded();
        const health: Ack<unknown> = degraded
          ? { ok: false, error: { code: 'UNAVAILABLE', message: 'Storage is failing; the coordinator refuses changes until it recovers.' } }
          : { ok: true, data: { status: 'ok', seq: runtime.engine.state.seq } };
        return send(res, degraded ? 503 : 200, health, undefined);
      }
      if (method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
        res.end(prometheusText(runtime.engine));
        return;
      }
      if (!path.startsWith('/v1/') && staticHandler?.(req, res, path)) return;

      const matched = ROUTES.filter((r) => r.pattern.test(path));
      const route = matched.find((r) => r.method === method);
      if (!route) {
        if (method === 'OPTIONS') return cors(res);
        throw matched.length > 0
          ? new OwpError('UNKNOWN_OPERATION', `${method} is not allowed on ${path}; use ${matched.map((r) => r.method).join(' or ')}.`)
          : new OwpError('UNKNOWN_OPERATION', `No OWP route ${method} ${path}. See SPEC §8.2 for the routes.`);
      }

      const ip = req.socket.remoteAddress ?? '?';
      let bucket = buckets.get(ip);
      if (!bucket) buckets.set(ip, (bucket = new TokenBucket(2000, 1000)));
      const wait = bucket.take();
      if (wait > 0) throw new OwpError('RATE_LIMITED', `Too many requests; retry in ${wait} ms.`, { retry_after_ms: wait });

      const principal = authenticate(runtime, req.headers.authorization);
      // Every key is set as an own property: assigning "__proto__" (Object.assign, params[k] = v) would
      // replace the params' prototype instead, and inherited fields would then pass the schema.
      const params: Record<string, unknown> = {};
      if (method === 'GET') {
        for (const [k, v] of url.searchParams) setParam(params, k, v);
      } else {
        const body = await readJson(req);
        for (const [k, v] of Object.entries(body)) setParam(params, k, v);
      }
      const match = route.pattern.exec(path) as RegExpExecArray;
      route.keys.forEach((key, i) => {
        setParam(params, key, decodePathSegment(key, match[i + 1] as string));
      });
      const headerKey = req.headers['idempotency-key'];
      if (typeof headerKey === 'string' && params.idempotency_key === undefined) params.idempotency_key = headerKey;
      validateParams(route.name, params, { coerce: method === 'GET' });
      const ack = await runtime.call(principal, route.name, params);
      send(res, ack.ok ? 200 : statusOf(ack.error.code), ack, req);
    } catch (error) {
      const wire = wireError(error);
      send(res, statusOf(wire.code), { ok: false, error: wire }, req);
    }
  };
}

function setParam(params: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
}

function decodePathSegment(key: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new OwpError('VALIDATION_FAILED', `The ${key} in the path is not valid percent-encoding.`, { errors: [{ path: `/${key}`, message: 'invalid percent-encoding' }] });
  }
}

function authenticate(runtime: Runtime, header: string | undefined): Principal {
  if (!header) return ANONYMOUS;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new OwpError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".');
  const principal = runtime.authenticate(match[1]);
  if (!principal) throw new OwpError('UNAUTHENTICATED', 'This token is not valid here (wrong, revoked or from another coordinator). Register again or ask for a new token.');
  return principal;
}

function statusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].httpStatus : 500;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > LIMITS.maxPayloadBytes) {
    req.resume();
    throw new OwpError('PAYLOAD_TOO_LARGE', `The body is ${declared} bytes; the limit is ${LIMITS.maxPayloadBytes}.`, { max_payload_bytes: LIMITS.maxPayloadBytes });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMITS.maxPayloadBytes) {
      req.resume();
      throw new OwpError('PAYLOAD_TOO_LARGE', `The body is larger than ${LIMITS.maxPayloadBytes} bytes.`, { max_payload_bytes: LIMITS.maxPayloadBytes });
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new OwpError('VALIDATION_FAILED', `The body is not valid JSON (${(error as Error).message}).`, { errors: [{ path: '/', message: 'invalid JSON' }] });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OwpError('VALIDATION_FAILED', 'The body must be a JSON object.', { errors: [{ path: '/', message: 'must be object' }] });
  }
  return parsed as Record<string, unknown>;
}

function cors(res: ServerResponse): void {
  res.writeHead(204, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, idempotency-key',
    'access-control-max-age': '600',
  });
  res.end();
}

function send(res: ServerResponse, status: number, body: Ack<unknown>, _req: IncomingMessage | undefined): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}
