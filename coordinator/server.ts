/**
 * Starts a coordinator from a configuration: picks the store, makes sure an admin token exists
 * (kept in the data directory with mode 0600, or given by OWP_ADMIN_TOKEN), configures seeded
 * repos and starts listening. Used by `owp coordinator`, the demo and tests that need a real process.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createCoordinator, type Coordinator } from './app.ts';
import { newToken } from './auth.ts';
import { SystemClock, type Clock } from './clock.ts';
import { DEFAULT_CONFIG, resolveMetricsToken, type CoordinatorConfig } from './config.ts';
import type { StaticHandler } from './http.ts';
import { addLogSecret, silentLogger, type Logger } from './log.ts';
import { MemoryStore } from './store/memory.ts';
import { LowdbStore } from './store/lowdb.ts';
import type { Store } from './store/store.ts';
import type { PolicyCheck } from './engine/options.ts';
import type { GitHubIntegration } from './github/integration.ts';
import { settingsFromCheckout } from './repo-files.ts';

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
  coordinator: Coordinator;
  url: string;
  config: CoordinatorConfig;
  adminToken: string;
  adminTokenFile: string | undefined;
  /** The GitHub integration when the config has a github section. */
  github: GitHubIntegration | undefined;
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
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}

export async function startCoordinator(options: StartOptions = {}): Promise<Started> {
  const config: CoordinatorConfig = { ...DEFAULT_CONFIG, ...options.config };
  const store = options.store ?? (config.store === 'memory' ? new MemoryStore() : new LowdbStore(resolve(config.data_dir)));
  const admin = resolveAdminToken(config, options.adminToken);
  const log = options.log ?? silentLogger();
  const metricsToken = resolveMetricsToken(config.metrics);
  addLogSecret(log, admin.token);
  addLogSecret(log, metricsToken);
  const github = config.github ? await githubIntegration(config, log.child({ component: 'github' })) : undefined;
  const staticHandler: StaticHandler | undefined = github
    ? (req, res, path) => github.webhookHandler(req, res, path) || (options.staticHandler?.(req, res, path) ?? false)
    : options.staticHandler;
  const coordinator = await createCoordinator({
    store,
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
    ...(options.capabilities ? { capabilities: options.capabilities } : {}),
    log,
    rateLimits: config.rate_limits,
    trustProxy: config.trust_proxy,
    metricsAccess: { public: config.metrics.public, ...(metricsToken ? { token: metricsToken } : {}) },
  });
  const principal = coordinator.runtime.authenticate(admin.token);
  if (!principal) throw new Error('the admin token did not register');
  for (const seed of config.repos) {
    const { repo, checkout, ...given } = seed;
    // A local checkout's .owp.yml gates and .owp/policy.yml become settings; the config's own settings win.
    const fromFiles = typeof checkout === 'string' ? await settingsFromCheckout(resolve(checkout)) : {};
    const settings = { ...fromFiles, ...given };
    const ack = await coordinator.runtime.call(principal, 'repo.configure', { repo, ...settings, idempotency_key: `config:${repo}:${createHash('sha256').update(JSON.stringify(settings)).digest('hex')}` });
    if (!ack.ok) throw new Error(`Cannot configure ${repo} from the config: ${ack.error.message}`);
  }
  if (github) {
    await github.attach(coordinator.runtime, principal);
    const close = coordinator.close.bind(coordinator);
    coordinator.close = () => {
      github.close();
      return close();
    };
  }
  const url = await coordinator.listen(config.port, config.host);
  return { coordinator, url, config, adminToken: admin.token, adminTokenFile: admin.file, github };
}

/**
 * Builds the GitHub integration from the config's github section; tokens come from env vars or
 * files. Loaded only when a repo is connected, so a coordinator without GitHub starts without Octokit.
 */
async function githubIntegration(config: CoordinatorConfig, log: Logger): Promise<GitHubIntegration> {
  const [{ parseGitHubConfig, resolveGitHubSecrets }, { GitHubIntegration }, { FileSyncStateStore }] = await Promise.all([
    import('./github/config.ts'),
    import('./github/integration.ts'),
    import('./github/sync-state.ts'),
  ]);
  const github = parseGitHubConfig(config.github);
  const secrets = resolveGitHubSecrets(github);
  for (const token of secrets.tokens.values()) addLogSecret(log, token);
  addLogSecret(log, secrets.webhookSecret);
  for (const secret of secrets.repoWebhookSecrets.values()) addLogSecret(log, secret);
  // The config's own settings for a repo win over its .owp.yml / .owp/policy.yml on GitHub.
  const repoSettings = new Map(config.repos.map(({ repo, checkout: _checkout, ...given }) => [repo, given as Record<string, unknown>]));
  return new GitHubIntegration({
    config: github,
    secrets,
    repoSettings,
    ...(config.store === 'lowdb' ? { stateStore: new FileSyncStateStore(join(resolve(config.data_dir), 'github-sync.json')) } : {}),
    log,
  });
}
