/**
 * The coordinator factories: one HTTP server carrying the REST binding, the socket.io binding and
 * the dashboard, around a runtime built from the parts passed in (store, clock, options), or around
 * a node of a cluster on PostgreSQL (createClusterCoordinator: the same server, plus socket.io's
 * PostgreSQL adapter so notifications reach sockets on every node, and the relay link).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer, type ServerOptions } from 'socket.io';
import { LIMITS } from '../protocol/validate.ts';
import type { ClusterNode, ClusterSettings, ClusterStatus } from './cluster/node.ts';
import { createHttpHandler, type StaticHandler } from './http.ts';
import { CoordinatorMetrics } from './metrics.ts';
import { OriginPolicy } from './origin-policy.ts';
import { explainRepoPolicy, withRepoPolicy } from './policy.ts';
import { DEFAULT_RATE_LIMITS, RegistrationLimiter, type RateLimits } from './rate-limit.ts';
import { Runtime, type RuntimeOptions } from './runtime.ts';
import type { CoordinatorService } from './service.ts';
import { bindSockets } from './socket.ts';
import { JSON_ONLY_PARSER } from './socket-parser.ts';

export interface CoordinatorOptions extends RuntimeOptions {
  staticHandler?: StaticHandler;
  /** Per HTTP client and per socket connection; defaults in DEFAULT_RATE_LIMITS. */
  rateLimits?: Partial<RateLimits>;
  /** Proxies whose X-Forwarded-For names the client (addresses, CIDRs, `loopback`); default none. */
  trustProxy?: readonly string[];
  /** Per-repo series on /metrics: for this scrape token, maintainers (their repos), or everyone when public. */
  metricsAccess?: { token?: string; public?: boolean };
  /** Pages allowed to call besides the coordinator's own: exact origins, schemes, `loopback` (origin-policy.ts). */
  corsOrigins?: readonly string[];
  /** Host names answered besides loopback names on a loopback address (origin-policy.ts). */
  allowedHosts?: readonly string[];
  /** socket.io heartbeat (transport liveness, not lease heartbeats). */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
}

export type ServerParts = Omit<CoordinatorOptions, 'store' | 'clock'>;

export interface ClusterCoordinatorOptions extends Omit<CoordinatorOptions, 'store'> {
  cluster: ClusterSettings;
}

export interface Coordinator<S extends CoordinatorService = Runtime> {
  /** The runtime (one coordinator), or the cluster node (createClusterCoordinator). */
  readonly runtime: S;
  readonly http: HttpServer;
  readonly io: IoServer;
  readonly metrics: CoordinatorMetrics;
  /** Starts listening; resolves with the base URL. Port 0 picks a free port. */
  listen(port: number, host?: string): Promise<string>;
  url(): string;
  close(): Promise<void>;
}

/** Every repo's own policy (RepoSettings.policy) always applies; options.policy adds a deployment-wide check. */
function withPolicies<T extends Omit<RuntimeOptions, 'store'>>(options: T): T {
  return {
    ...options,
    policy: withRepoPolicy(options.policy),
    explainPolicy: options.explainPolicy ?? explainRepoPolicy,
    capabilities: [...new Set([...(options.capabilities ?? []), 'policy', 'ci-checks', 'offer-pipelining', 'direct-leases'])],
  };
}

export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator<Runtime>> {
  const runtime = await Runtime.open(withPolicies(options));
  return serve(runtime, options);
}

/**
 * A node of a cluster on PostgreSQL: it loads its copy of the state, and once listening takes part
 * in the election (it leads if the lease is free, else follows the leader and relays to it).
 */
export async function createClusterCoordinator(options: ClusterCoordinatorOptions): Promise<Coordinator<ClusterNode>> {
  // Imported here, not at the top: a coordinator on lowdb never loads pg, the PostgreSQL adapter nor
  // the relay's socket.io client (about a third of the modules a start would otherwise load).
  const [{ ClusterNode }, adapterModule, { RELAY_NAMESPACE }] = await Promise.all([
    import('./cluster/node.ts'),
    import('@socket.io/postgres-adapter'),
    import('./cluster/relay.ts'),
  ]);
  // A CommonJS package imported dynamically: Node names its exports, the split bundle only has
  // them as `default` (module.exports), so both are looked at.
  const createAdapter = adapterModule.createAdapter ?? (adapterModule as unknown as { default: typeof adapterModule }).default.createAdapter;
  const node = await ClusterNode.create(withPolicies(options));
  try {
    const coordinator = serve(node, options, {
      // Notifications to a worker's room reach its sockets on every node, through LISTEN/NOTIFY.
      adapter: createAdapter(node.adapterPool, {
        tableName: 'owp_socket_io_attachments',
        errorHandler: (err: Error) => options.log?.warn({ err }, 'socket.io adapter: PostgreSQL error'),
      }),
      onListen: (url) => node.run(url),
      cluster: () => node.status(),
    });
    node.attachRelay(coordinator.io.of(RELAY_NAMESPACE));
    return coordinator;
  } catch (error) {
    await node.close();
    throw error;
  }
}

interface ServeExtras {
  adapter?: ServerOptions['adapter'];
  /** Called with the base URL once listening (a cluster node starts its election then). */
  onListen?: (url: string) => Promise<void>;
  cluster?: () => ClusterStatus;
}

function serve<S extends CoordinatorService>(runtime: S, options: ServerParts, extras: ServeExtras = {}): Coordinator<S> {
  const metrics = new CoordinatorMetrics(runtime, { sockets: () => io.engine.clientsCount, ...(extras.cluster ? { cluster: extras.cluster } : {}) });
  const rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  const registrations = new RegistrationLimiter(rateLimits.register, rateLimits.register_total);
  const origins = new OriginPolicy({ ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}), ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}) });
  const handler = createHttpHandler(() => runtime, {
    ...(options.staticHandler ? { staticHandler: options.staticHandler } : {}),
    rateLimit: rateLimits.http,
    trustProxy: options.trustProxy ?? [],
    ...(options.log ? { log: options.log } : {}),
    metrics,
    ...(options.metricsAccess ? { metricsAccess: options.metricsAccess } : {}),
    registrations,
    origins,
  });
  const http = createServer((req, res) => void handler(req, res));
  http.keepAliveTimeout = 65_000;
  const io = new IoServer(http, {
    // The same pages and host names as the HTTP binding. CORS covers long-polling; a WebSocket is not
    // subject to CORS, so allowRequest checks the handshake's Host and Origin itself.
    cors: { origin: (origin, callback) => callback(null, origins.checkOrigin(origin, undefined).allowed) },
    allowRequest: (req, callback) => {
      const host = origins.checkHost(req.headers.host);
      const origin = origins.checkOrigin(typeof req.headers.origin === 'string' ? req.headers.origin : undefined, req.headers.host);
      callback(host.allowed ? (origin.allowed ? null : origin.reason) : host.reason, host.allowed && origin.allowed);
    },
    serveClient: false,
    maxHttpBufferSize: LIMITS.maxFrameBytes,
    // JSON only: no search for binary in every packet sent (coordinator/socket-parser.ts).
    parser: JSON_ONLY_PARSER,
    // Memory at 10,000 sockets (bench/README.md "Memory per worker"): no zlib context per socket or
    // per long-polling response for frames of a few hundred bytes. Both are engine.io's defaults
    // today; set here so an update cannot turn them on. Connection-state recovery stays off (its
    // per-socket packet buffer): a reconnecting worker resumes from hello's offers and leases.
    perMessageDeflate: false,
    httpCompression: false,
    pingInterval: options.pingIntervalMs ?? 25_000,
    pingTimeout: options.pingTimeoutMs ?? 20_000,
    ...(extras.adapter ? { adapter: extras.adapter } : {}),
  });
  const sockets = bindSockets(io, () => runtime, { rateLimit: rateLimits.socket, trustProxy: options.trustProxy ?? [], ...(options.log ? { log: options.log } : {}), metrics, registrations, clustered: extras.adapter !== undefined });
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
          origins.listeningOn(address.address);
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          baseUrl = `http://${shownHost}:${address.port}`;
          if (!extras.onListen) return resolve(baseUrl);
          extras.onListen(baseUrl).then(() => resolve(baseUrl), reject);
        });
      });
    },
    url: () => baseUrl,
    close(): Promise<void> {
      closing ??= (async () => {
        runtime.beginShutdown();
        sockets.close();
        handler.close();
        registrations.close();
        metrics.close();
        await new Promise<void>((resolve) => io.close(() => resolve()));
        http.closeAllConnections?.();
        await runtime.close();
      })();
      return closing;
    },
  };
}
