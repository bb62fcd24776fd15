/**
 * The HTTP binding (SPEC §8.2): one route per operation, generated from the descriptors; the same
 * `{ ok, data }` / `{ ok: false, error }` envelope as socket.io acks; bearer tokens; idempotency
 * keys from the `Idempotency-Key` header or the body.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ERROR_CODES, OwpError, isErrorCode } from '../protocol/errors.ts';
import { OPERATIONS, type Ack, type OperationName } from '../protocol/operations.ts';
import { LIMITS, validateParams } from '../protocol/validate.ts';
import { ANONYMOUS, type Principal } from './auth.ts';
import type { Logger } from './log.ts';
import { OriginPolicy } from './origin-policy.ts';
import { metricsScopeOf, type CoordinatorMetrics } from './metrics.ts';
import { DEFAULT_RATE_LIMITS, KeyedBuckets, TrustedProxies, type RateLimit, type RegistrationLimiter } from './rate-limit.ts';
import { wireError } from './runtime.ts';
import { resolveToken, type CoordinatorService } from './service.ts';

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

export interface HttpBindingOptions {
  staticHandler?: StaticHandler;
  /** Per HTTP client; default DEFAULT_RATE_LIMITS.http. */
  rateLimit?: RateLimit;
  /** Proxies whose X-Forwarded-For names the client (addresses, CIDRs, `loopback`). */
  trustProxy?: readonly string[];
  log?: Logger;
  metrics?: CoordinatorMetrics;
  /** Who sees per-repo series on /metrics without a maintainer token. */
  metricsAccess?: { token?: string; public?: boolean };
  /** worker.register's limits, shared with the socket binding. */
  registrations?: RegistrationLimiter;
  /** Which pages may call, and which host names are answered (origin-policy.ts). Default: same origin, VS Code webviews, loopback pages. */
  origins?: OriginPolicy;
}

/** A caller's X-Request-Id is kept when it is short and plain; otherwise the request gets a fresh one. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** The request line for the log, with any query value that looks like a credential left out. */
function loggedUrl(url: URL): string {
  const query = [...url.searchParams.keys()].length === 0 ? '' : `?${[...url.searchParams].map(([k, v]) => `${k}=${/token|secret|key|auth/i.test(k) ? '[redacted]' : v}`).join('&')}`;
  return `${url.pathname}${query}`;
}

export function createHttpHandler(getRuntime: () => CoordinatorService, options: HttpBindingOptions = {}) {
  const { staticHandler, log, metrics } = options;
  const buckets = new KeyedBuckets(options.rateLimit ?? DEFAULT_RATE_LIMITS.http);
  const proxies = new TrustedProxies(options.trustProxy ?? []);
  const origins = options.origins ?? new OriginPolicy();

  const handler = async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const runtime = getRuntime();
    const reqId = requestId(req);
    const client = proxies.clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    // The request's child logger is made when it first logs, and the request line is listened for
    // only when debug lines are written: a request waits for its durable write, so whatever it
    // holds lives through several young collections and, thousands at once, is promoted to the old
    // generation (a pino child and a `finish` listener a request, at every registration).
    let child: Logger | undefined;
    const reqLog = (): Logger | undefined => (child ??= log?.child({ req_id: reqId }));
    res.setHeader('x-request-id', reqId);
    let operation: OperationName | undefined;
    if (log?.isLevelEnabled('debug')) {
      res.once('finish', () => {
        reqLog()?.debug({ method, url: loggedUrl(url), client, operation, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10, headers: req.headers }, 'http request');
      });
    }
    let done: ((ack: Ack<unknown>) => void) | undefined;
    let cors: string | undefined;
    try {
      if (method === 'GET' && path === '/healthz') {
        // Liveness: the process answers. A failing store is a readiness matter (/readyz), not a reason to restart.
        return send(res, 200, { ok: true, data: { status: runtime.isDegraded() ? 'degraded' : 'ok', seq: runtime.engine.state.seq } }, undefined);
      }
      if (method === 'GET' && path === '/readyz') {
        const readiness = runtime.readiness();
        return readiness.ready
          ? send(res, 200, { ok: true, data: { status: 'ready', seq: runtime.engine.state.seq } }, undefined)
          : send(res, 503, { ok: false, error: { code: 'UNAVAILABLE', message: `Not ready: ${readiness.reason}.` } }, undefined);
      }
      const host = origins.checkHost(req.headers.host);
      if (!host.allowed) throw new OwpError('FORBIDDEN', host.reason);
      const origin = origins.checkOrigin(typeof req.headers.origin === 'string' ? req.headers.origin : undefined, req.headers.host);
      if (!origin.allowed) throw new OwpError('FORBIDDEN', origin.reason);
      cors = origin.cors;
      if (method === 'GET' && path === '/metrics' && metrics) {
        const wait = buckets.take(client); // a scrape costs more than a request: a flood of them is limited too
        if (wait > 0) throw new OwpError('RATE_LIMITED', `Too many requests; retry in ${wait} ms.`, { retry_after_ms: wait });
        const scope = metricsScopeOf(await metricsPrincipal(runtime, req.headers.authorization, options.metricsAccess?.token), options.metricsAccess?.public === true);
        const { contentType, text } = await metrics.scrape(scope);
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', ...corsHeaders(cors) });
        res.end(text);
        return;
      }
      if (!path.startsWith('/v1/') && staticHandler?.(req, res, path)) return;

      const matched = ROUTES.filter((r) => r.pattern.test(path));
      const route = matched.find((r) => r.method === method);
      if (!route) {
        if (method === 'OPTIONS') return preflight(res, cors);
        throw matched.length > 0
          ? new OwpError('UNKNOWN_OPERATION', `${method} is not allowed on ${path}; use ${matched.map((r) => r.method).join(' or ')}.`)
          : new OwpError('UNKNOWN_OPERATION', `No OWP route ${method} ${path}. See SPEC §8.2 for the routes.`);
      }

      operation = route.name;
      done = metrics?.startOperation(route.name);
      const wait = buckets.take(client);
      if (wait > 0) {
        metrics?.countRateLimited('http');
        throw new OwpError('RATE_LIMITED', `Too many requests; retry in ${wait} ms.`, { retry_after_ms: wait });
      }

      if (route.name === 'worker.register') {
        const waitToRegister = options.registrations?.take(client) ?? 0;
        if (waitToRegister > 0) {
          metrics?.countRateLimited('http');
          throw new OwpError('RATE_LIMITED', `Too many registrations from this address or from everyone just now; retry in ${Math.ceil(waitToRegister / 1000)} s.`, { retry_after_ms: waitToRegister });
        }
      }
      const principal = await authenticate(runtime, req.headers.authorization);
      // Every key is set as an own property: assigning "__proto__" (Object.assign, params[k] = v) would
      // replace the params' prototype instead, and inherited fields would then pass the schema.
      const params: Record<string, unknown> = {};
      if (method === 'GET') {
        for (const [k, v] of url.searchParams) setParam(params, k, v);
      } else {
        const body = await readJson(req, req.headers['content-type']);
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
      done?.(ack);
      if (!ack.ok && ack.error.code === 'INTERNAL') reqLog()?.error({ operation, error: ack.error }, 'operation failed unexpectedly');
      send(res, ack.ok ? 200 : statusOf(ack.error.code), ack, cors);
    } catch (error) {
      const wire = wireError(error);
      done?.({ ok: false, error: wire });
      if (wire.code === 'INTERNAL') reqLog()?.error({ err: error, operation }, 'request failed unexpectedly');
      send(res, statusOf(wire.code), { ok: false, error: wire }, cors);
    }
  };
  return Object.assign(handler, { close: () => buckets.close() });
}

/** Who is scraping /metrics: the metrics token, a maintainer, or anyone. A token that is neither is refused. */
async function metricsPrincipal(runtime: CoordinatorService, header: string | undefined, metricsToken: string | undefined): Promise<Principal | 'metrics-token'> {
  if (!header) return ANONYMOUS;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match && metricsToken && safeEqual(match[1] as string, metricsToken)) return 'metrics-token';
  return authenticate(runtime, header);
}

function safeEqual(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
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

async function authenticate(runtime: CoordinatorService, header: string | undefined): Promise<Principal> {
  if (!header) return ANONYMOUS;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new OwpError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".');
  const principal = await resolveToken(runtime, match[1] as string);
  if (!principal) throw new OwpError('UNAUTHENTICATED', 'This token is not valid here (wrong, revoked or from another coordinator). Register again or ask for a new token.');
  return principal;
}

function statusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].httpStatus : 500;
}

async function readJson(req: IncomingMessage, contentType: string | undefined): Promise<Record<string, unknown>> {
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
  // A body must say it is JSON: a page elsewhere can send text/plain or a form without asking the
  // browser's permission (no preflight), and such a body must not be read as a command.
  if (!/^application\/json\s*(;|$)/i.test(contentType ?? '')) {
    throw new OwpError('VALIDATION_FAILED', 'Send the body as JSON with "Content-Type: application/json".', { errors: [{ path: '/', message: 'content-type must be application/json' }] });
  }
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

function corsHeaders(origin: string | undefined): Record<string, string> {
  return origin ? { 'access-control-allow-origin': origin, vary: 'origin' } : {};
}

/** A preflight from an allowed page (a refused one never gets here): which methods and headers it may use. */
function preflight(res: ServerResponse, origin: string | undefined): void {
  res.writeHead(204, {
    ...corsHeaders(origin),
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, idempotency-key',
    'access-control-max-age': '600',
  });
  res.end();
}

function send(res: ServerResponse, status: number, body: Ack<unknown>, origin: string | undefined): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...corsHeaders(origin),
  });
  res.end(text);
}
