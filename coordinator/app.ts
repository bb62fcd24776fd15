/**
 * The coordinator factory: one HTTP server carrying the REST binding, the socket.io binding and
 * the dashboard, around a runtime built from the parts passed in (store, clock, options).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer } from 'socket.io';
import { LIMITS } from '../protocol/validate.ts';
import { createHttpHandler, type StaticHandler } from './http.ts';
import { CoordinatorMetrics } from './metrics.ts';
import { explainRepoPolicy, withRepoPolicy } from './policy.ts';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limit.ts';
import { Runtime, type RuntimeOptions } from './runtime.ts';
import { bindSockets } from './socket.ts';

export interface CoordinatorOptions extends RuntimeOptions {
  staticHandler?: StaticHandler;
  /** Per HTTP client and per socket connection; defaults in DEFAULT_RATE_LIMITS. */
  rateLimits?: Partial<RateLimits>;
  /** Proxies whose X-Forwarded-For names the client (addresses, CIDRs, `loopback`); default none. */
  trustProxy?: readonly string[];
  /** Per-repo series on /metrics: for this scrape token, maintainers (their repos), or everyone when public. */
  metricsAccess?: { token?: string; public?: boolean };
  /** socket.io heartbeat (transport liveness, not lease heartbeats). */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
}

export interface Coordinator {
  readonly runtime: Runtime;
  readonly http: HttpServer;
  readonly io: IoServer;
  readonly metrics: CoordinatorMetrics;
  /** Starts listening; resolves with the base URL. Port 0 picks a free port. */
  listen(port: number, host?: string): Promise<string>;
  url(): string;
  close(): Promise<void>;
}

export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  // Every repo's own policy (RepoSettings.policy) always applies; options.policy adds a deployment-wide check.
  const runtime = await Runtime.open({
    ...options,
    policy: withRepoPolicy(options.policy),
    explainPolicy: options.explainPolicy ?? explainRepoPolicy,
    capabilities: [...new Set([...(options.capabilities ?? []), 'policy', 'ci-checks'])],
  });
  const metrics = new CoordinatorMetrics(runtime, { sockets: () => io.engine.clientsCount });
  const rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  const handler = createHttpHandler(() => runtime, {
    ...(options.staticHandler ? { staticHandler: options.staticHandler } : {}),
    rateLimit: rateLimits.http,
    trustProxy: options.trustProxy ?? [],
    ...(options.log ? { log: options.log } : {}),
    metrics,
    ...(options.metricsAccess ? { metricsAccess: options.metricsAccess } : {}),
  });
  const http = createServer((req, res) => void handler(req, res));
  http.keepAliveTimeout = 65_000;
  const io = new IoServer(http, {
    // Tokens travel in the handshake payload, never in cookies, so any origin (a VS Code webview) may connect.
    cors: { origin: '*' },
    serveClient: false,
    maxHttpBufferSize: LIMITS.maxFrameBytes,
    pingInterval: options.pingIntervalMs ?? 25_000,
    pingTimeout: options.pingTimeoutMs ?? 20_000,
  });
  const sockets = bindSockets(io, () => runtime, { rateLimit: rateLimits.socket, trustProxy: options.trustProxy ?? [], ...(options.log ? { log: options.log } : {}), metrics });
  let baseUrl = '';
  let closing: Promise<void> | null = null;

  return {
    runtime,
    http,
    io,
    metrics,
    listen(port: number, host = '127.0.0.1'): Promise<string> {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          const address = http.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          baseUrl = `http://${shownHost}:${address.port}`;
          resolve(baseUrl);
        });
      });
    },
    url: () => baseUrl,
    close(): Promise<void> {
      closing ??= (async () => {
        runtime.beginShutdown();
        sockets.close();
        handler.close();
        metrics.close();
        await new Promise<void>((resolve) => io.close(() => resolve()));
        http.closeAllConnections?.();
        await runtime.close();
      })();
      return closing;
    },
  };
}
