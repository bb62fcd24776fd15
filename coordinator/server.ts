/**
 * Starts a coordinator from a configuration: picks the store, makes sure an admin token exists
 * (kept in the data directory with mode 0600, or given by OWP_ADMIN_TOKEN), configures seeded
 * repos and starts listening. Used by `owp coordinator`, the demo and tests that need a real process.
 * With the postgres store it starts a node of a cluster (one node is a cluster of one): it listens
 * first, takes part in the election, and seeds once it leads or is linked to the leader.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { createClusterCoordinator, createCoordinator, type Coordinator } from './app.ts';
import { newToken } from './auth.ts';
import { SystemClock, type Clock } from './clock.ts';
import { DEFAULT_CLUSTER_CONFIG, DEFAULT_CONFIG, resolveMetricsToken, type CoordinatorConfig } from './config.ts';
import type { CoordinatorService } from './service.ts';
import type { Principal } from './auth.ts';
import type { StaticHandler } from './http.ts';
import { addLogSecret, silentLogger, type Logger } from './log.ts';
import { applyHeapSettings, DEFAULT_RAMP, fullCollection, RampGrowthCap } from './heap-settings.ts';
import { MemoryStore } from './store/memory.ts';
import { LowdbStore } from './store/lowdb.ts';
import type { Store } from './store/store.ts';
import { Runtime } from './runtime.ts';
import type { PolicyCheck } from './engine/options.ts';
import type { GitHubIntegration } from './github/integration.ts';
import type { ClusterNode } from './cluster/node.ts';
import { webhookRelay } from './cluster/webhook-relay.ts';
import type { PostgresStore } from './store/postgres.ts';

export interface StartOptions {
  config?: Partial<CoordinatorConfig>;
  clock?: Clock;
  store?: Store;
  adminToken?: string;
  staticHandler?: StaticHandler;
  policy?: PolicyCheck;
  capabilities?: readonly string[];
  /** The structured log (createLogger in log.ts); default: nothing is logged. */
  log?: Logger;
}

export interface Started {
  coordinator: Coordinator<CoordinatorService>;
  url: string;
  config: CoordinatorConfig;
  adminToken: string;
  adminTokenFile: string | undefined;
  /** The GitHub integration when the config has a github section. */
  github: GitHubIntegration | undefined;
  /** The cluster node (the postgres store), else undefined; `coordinator.runtime` is the same object. */
  node: ClusterNode | undefined;
}

export function resolveAdminToken(config: CoordinatorConfig, given?: string): { token: string; file: string | undefined } {
  if (given) return { token: given, file: undefined };
  if (process.env.OWP_ADMIN_TOKEN) return { token: process.env.OWP_ADMIN_TOKEN, file: undefined };
  if (config.store === 'memory') return { token: newToken('maintainer'), file: undefined };
  const dir = resolve(config.data_dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file };
  const token = newToken('maintainer');
  writeDurably(file, `${token}\n`);
  return { token, file };
}

/**
 * The admin token is printed once and then only read back from this file, so it must survive a
 * power cut: a temp file is written and fsynced, renamed over the target, and the folder fsynced.
 */
function writeDurably(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dir = openSync(dirname(file), 'r');
  try { fsyncSync(dir); } finally { closeSync(dir); }
}

/** The connection string for --store postgres, from the config or OWP_DATABASE_URL. */
export function databaseUrl(config: CoordinatorConfig): string {
  const url = config.database_url ?? process.env.OWP_DATABASE_URL;
  if (!url) throw new Error('--store postgres needs a database: set OWP_DATABASE_URL=postgres://user:password@host:5432/db (or pass --database-url).');
  if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url)) throw new Error('The database URL must look like postgres://user:password@host:5432/db.');
  return url;
}

export async function startCoordinator(options: StartOptions = {}): Promise<Started> {
  const config: CoordinatorConfig = { ...DEFAULT_CONFIG, ...options.config, cluster: { ...DEFAULT_CLUSTER_CONFIG, ...options.config?.cluster } };
  const clustered = config.store === 'postgres' && !options.store;
  const store = options.store ?? (config.store === 'memory' ? new MemoryStore() : clustered ? undefined : new LowdbStore(resolve(config.data_dir)));
  const admin = resolveAdminToken(config, options.adminToken);
  const log = options.log ?? silentLogger();
  const heapFlags = applyHeapSettings();
  if (heapFlags.length > 0) log.debug({ v8_flags: heapFlags }, 'V8 heap settings');
  const metricsToken = resolveMetricsToken(config.metrics);
  addLogSecret(log, admin.token);
  addLogSecret(log, metricsToken);
  const database = clustered ? databaseUrl(config) : undefined;
  if (database) addLogSecret(log, decodeURIComponent(new URL(database).password));
  // On a cluster the node is made after the integration (its hook goes into the node's options).
  let node: Coordinator<ClusterNode> | undefined;
  const github = config.github ? await githubIntegration(config, log.child({ component: 'github' }), database ? () => (node as Coordinator<ClusterNode>).runtime.store : undefined) : undefined;
  let staticHandler: StaticHandler | undefined = github
    ? (req, res, path) => github.webhookHandler(req, res, path) || (options.staticHandler?.(req, res, path) ?? false)
    : options.staticHandler;
  if (github && database) {
    // Deliveries reaching a follower are passed on to the leader, which alone runs the sync.
    const { MAX_WEBHOOK_BODY_BYTES } = await import('./github/webhooks.ts');
    const handler = staticHandler as StaticHandler;
    staticHandler = webhookRelay({
      path: github.context.config.webhook_path,
      handler,
      leads: () => node?.runtime.leads() ?? false,
      leaderUrl: () => node?.runtime.leaderUrl() ?? null,
      maxBodyBytes: MAX_WEBHOOK_BODY_BYTES,
      log,
    });
  }
  const common = {
    clock: options.clock ?? new SystemClock(),
    adminTokens: [admin.token],
    name: config.name,
    registration: config.registration,
    invites: config.invites,
    sweepIntervalMs: config.sweep_interval_ms,
    snapshotIntervalMs: config.snapshot_interval_ms,
    snapshotEveryEvents: config.snapshot_every_events,
    archiveAfterMs: config.archive_after_ms,
    ...(staticHandler ? { staticHandler } : {}),
    ...(github ? { beforeCommand: [github.beforeCommand] } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    // A connected GitHub makes tasks of issues and verifies PR reports (SPEC §9.1): say so.
    ...(options.capabilities || github ? { capabilities: [...(options.capabilities ?? []), ...(github ? ['github-sync'] : [])] } : {}),
    log,
    rateLimits: config.rate_limits,
    trustProxy: config.trust_proxy,
    corsOrigins: config.cors_origins,
    allowedHosts: config.allowed_hosts,
    metricsAccess: { public: config.metrics.public, ...(metricsToken ? { token: metricsToken } : {}) },
  };
  let coordinator: Coordinator<CoordinatorService>;
  let url: string | undefined;
  let principal: Principal | null;
  if (database) {
    const { cluster } = config;
    node = await createClusterCoordinator({
      ...common,
      cluster: {
        databaseUrl: database,
        leaseMs: cluster.leader_lease_ms,
        renewIntervalMs: cluster.leader_renew_interval_ms,
        maxLagMs: cluster.max_follower_lag_ms,
        ...(cluster.node_id ? { nodeId: cluster.node_id } : {}),
        ...(cluster.advertise_url ? { advertiseUrl: cluster.advertise_url } : {}),
      },
    });
    coordinator = node;
    try {
      url = await node.listen(config.port, config.host);
      // Leading, or linked to the leader: a standby of a dead leader waits for its lease to lapse.
      await node.runtime.whenServing(cluster.leader_lease_ms * 4 + 10_000);
      principal = await adminOf(node.runtime, admin.token, cluster.leader_lease_ms * 2 + 5000);
    } catch (error) {
      await node.close();
      throw error;
    }
  } else {
    coordinator = await createCoordinator({ store: store as Store, ...common });
    principal = coordinator.runtime.authenticate(admin.token);
  }
  if (!principal) throw new Error('the admin token did not register');
  for (const seed of config.repos) {
    const { repo, checkout, ...given } = seed;
    // A local checkout's .owp.yml gates and .owp/policy.yml become settings; the config's own settings win.
    // Imported when used: it brings the contract and policy schemas' YAML parsing, which a start without a checkout never needs.
    const fromFiles = typeof checkout === 'string' ? await (await import('./repo-files.ts')).settingsFromCheckout(resolve(checkout)) : {};
    const settings = { ...fromFiles, ...given };
    const ack = await coordinator.runtime.call(principal, 'repo.configure', { repo, ...settings, idempotency_key: `config:${repo}:${createHash('sha256').update(JSON.stringify(settings)).digest('hex')}` });
    if (!ack.ok) throw new Error(`Cannot configure ${repo} from the config: ${ack.error.message}`);
  }
  if (github && node) {
    followLeadership(node.runtime, github, admin.token, log);
    const close = coordinator.close.bind(coordinator);
    coordinator.close = () => {
      github.close();
      return close();
    };
  } else if (github && coordinator.runtime instanceof Runtime) {
    await github.attach(coordinator.runtime, principal);
    const close = coordinator.close.bind(coordinator);
    coordinator.close = () => {
      github.close();
      return close();
    };
  }
  if (heapFlags.length > 0) capHeapGrowthDuringRamps(coordinator, log);
  url ??= await coordinator.listen(config.port, config.host);
  return { coordinator, url, config, adminToken: admin.token, adminTokenFile: admin.file, github, node: node?.runtime };
}

/**
 * The GitHub sync on a cluster runs on the leader alone: attached to its runtime each time this
 * node starts leading (continuing from the sync state the previous leader saved in PostgreSQL),
 * detached when it stops. One change at a time, in order.
 */
function followLeadership(node: ClusterNode, github: GitHubIntegration, adminToken: string, log: Logger): void {
  let chain: Promise<void> = Promise.resolve();
  node.onLeadership((runtime) => {
    chain = chain
      .then(async () => {
        if (!runtime) return github.detach();
        const admin = runtime.authenticate(adminToken);
        if (!admin) throw new Error('the admin token is unknown to this leader');
        await github.attach(runtime, admin);
        log.info({ node: node.nodeId }, 'github: the sync runs on this node (it leads)');
      })
      .catch((error: unknown) => log.error({ err: error }, 'github: could not start the sync on this leader'));
  });
}

/**
 * The admin's principal on a cluster node: the leader created it when it took over, or creates it
 * when this follower's relay link tells it the token (each node may have an admin token of its own).
 */
async function adminOf(service: CoordinatorService, token: string, timeoutMs: number): Promise<Principal | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const principal = service.authenticate(token);
    if (principal || Date.now() > deadline) return principal;
    await service.catchUp();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Builds the GitHub integration from the config's github section; tokens come from env vars or
 * files. Loaded only when a repo is connected, so a coordinator without GitHub starts without Octokit.
 */
async function githubIntegration(config: CoordinatorConfig, log: Logger, clusterStore?: () => PostgresStore): Promise<GitHubIntegration> {
  const [{ parseGitHubConfig, resolveGitHubSecrets }, { GitHubIntegration }, { FileSyncStateStore }, { PostgresSyncStateStore }] = await Promise.all([
    import('./github/config.ts'),
    import('./github/integration.ts'),
    import('./github/sync-state.ts'),
    import('./github/sync-state-postgres.ts'),
  ]);
  const github = parseGitHubConfig(config.github);
  const secrets = resolveGitHubSecrets(github);
  for (const token of secrets.tokens.values()) addLogSecret(log, token);
  addLogSecret(log, secrets.webhookSecret);
  for (const secret of secrets.repoWebhookSecrets.values()) addLogSecret(log, secret);
  // The App's private key, whole and line by line (an error may quote one line of the PEM).
  addLogSecret(log, secrets.appPrivateKey?.trim());
  for (const line of secrets.appPrivateKey?.split('\n') ?? []) if (line.length >= 32 && !line.startsWith('-----')) addLogSecret(log, line);
  // The config's own settings for a repo win over its .owp.yml / .owp/policy.yml on GitHub.
  const repoSettings = new Map(config.repos.map(({ repo, checkout: _checkout, ...given }) => [repo, given as Record<string, unknown>]));
  return new GitHubIntegration({
    config: github,
    secrets,
    repoSettings,
    ...(clusterStore ? { stateStore: new PostgresSyncStateStore(clusterStore) } : config.store === 'lowdb' ? { stateStore: new FileSyncStateStore(join(resolve(config.data_dir), 'github-sync.json')) } : {}),
    log,
  });
}

/**
 * What a connect ramp counts (heap-settings.ts, RampGrowthCap): open connections plus registered
 * workers. A fleet registers over HTTP before it connects, and each registration's objects live
 * through its durable write as a connection's do, so registrations alone make a ramp too.
 */
export function rampArrivals(coordinator: Pick<Coordinator<CoordinatorService>, 'io' | 'runtime'>): number {
  return coordinator.io.engine.clientsCount + coordinator.runtime.engine.state.workers.size;
}

/** The heap growth cap holds while workers register and connect in numbers (heap-settings.ts); checked each second, real time. */
function capHeapGrowthDuringRamps(coordinator: Coordinator<CoordinatorService>, log: Logger): void {
  const gc = fullCollection();
  const setFlag = (flag: string): void => {
    setFlagsFromString(flag);
    log.debug({ v8_flags: [flag] }, 'V8 heap settings');
  };
  const collect = (): void => {
    const started = performance.now();
    gc();
    log.debug({ pause_ms: Math.round(performance.now() - started) }, 'full collection at the start of a connect ramp');
  };
  const ramp = new RampGrowthCap(setFlag, performance.now(), DEFAULT_RAMP, collect);
  const timer = setInterval(() => ramp.observe(rampArrivals(coordinator), performance.now()), 1_000).unref();
  const close = coordinator.close.bind(coordinator);
  coordinator.close = () => {
    clearInterval(timer);
    return close();
  };
}
