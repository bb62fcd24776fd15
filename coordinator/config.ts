/**
 * Coordinator configuration: defaults < config file (YAML or JSON) < command-line flags.
 * Every duration says its unit.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseGitHubConfig } from './github/config.ts';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './log.ts';
import { DEFAULT_CORS_ORIGINS } from './origin-policy.ts';
import { DEFAULT_RATE_LIMITS, TrustedProxies, type RateLimits } from './rate-limit.ts';

export interface RepoSeed {
  repo: string;
  /** A local checkout of the repo: its `.owp.yml` gates and `.owp/policy.yml` are read at start. */
  checkout?: string;
  [setting: string]: unknown;
}

export interface CoordinatorConfig {
  port: number;
  host: string;
  data_dir: string;
  /** lowdb (embedded, one process), memory (nothing kept), or postgres (one database, any number of nodes: see cluster). */
  store: 'lowdb' | 'memory' | 'postgres';
  /** With store postgres: the connection string; OWP_DATABASE_URL (preferred: it may hold a password) or --database-url. */
  database_url: string | null;
  /** With store postgres: how the nodes elect a leader and follow it (README, "Running a cluster"). */
  cluster: ClusterConfig;
  name: string;
  registration: 'open' | 'closed';
  invites: string[];
  sweep_interval_ms: number;
  snapshot_interval_ms: number;
  snapshot_every_events: number;
  archive_after_ms: number;
  repos: RepoSeed[];
  /** Connected GitHub repos (see coordinator/github/config.ts); null: not connected. */
  github: Record<string, unknown> | null;
  /** Proxies whose X-Forwarded-For names the client: addresses, CIDR ranges, or `loopback`. */
  trust_proxy: string[];
  /** Per HTTP client and per socket connection, and worker.register's own (see coordinator/rate-limit.ts). */
  rate_limits: RateLimits;
  /**
   * Browser pages allowed to call besides the coordinator's own (origin-policy.ts): exact origins
   * (`https://ops.example.org`), schemes (`vscode-webview:`) or `loopback`. [] allows only the
   * coordinator's own pages.
   */
  cors_origins: string[];
  /** Host names answered besides loopback names on a loopback address: behind a TLS proxy, its public name. */
  allowed_hosts: string[];
  log: { level: LogLevel; format: LogFormat };
  /**
   * /metrics: pool-wide and process series for anyone; per-repo series (repo names) only for a
   * maintainer token (its repos), the scrape token read from token_env / token_file, or everyone
   * when `public` is true.
   */
  metrics: { public: boolean; token_env?: string; token_file?: string };
}

export interface ClusterConfig {
  /** This node's name in the lease row, logs and metrics; default host-pid-random (a stable name lets a restarted leader take its lease back at once). */
  node_id: string | null;
  /** The URL the other nodes reach this one at, for the relay link (default: the URL it listens on; set it when binding 0.0.0.0). */
  advertise_url: string | null;
  /** A leader that stops renewing loses the lease after this long; a standby then takes over within it plus one renew interval. */
  leader_lease_ms: number;
  /** How often the leader renews its lease and standbys look for a lapsed one. */
  leader_renew_interval_ms: number;
  /** A follower whose copy has been behind the leader for longer than this says it is not ready. */
  max_follower_lag_ms: number;
}

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = {
  node_id: null,
  advertise_url: null,
  leader_lease_ms: 5000,
  leader_renew_interval_ms: 1000,
  max_follower_lag_ms: 2000,
};

export const DEFAULT_CONFIG: CoordinatorConfig = {
  port: 8787,
  host: '127.0.0.1',
  data_dir: '.owp',
  store: 'lowdb',
  database_url: null,
  cluster: DEFAULT_CLUSTER_CONFIG,
  name: 'owp-reference',
  registration: 'open',
  invites: [],
  sweep_interval_ms: 250,
  snapshot_interval_ms: 60_000,
  snapshot_every_events: 20_000,
  archive_after_ms: 10 * 60_000,
  repos: [],
  github: null,
  trust_proxy: [],
  rate_limits: DEFAULT_RATE_LIMITS,
  cors_origins: [...DEFAULT_CORS_ORIGINS],
  allowed_hosts: [],
  log: { level: 'info', format: 'auto' },
  metrics: { public: false },
};

const NUMERIC: Array<keyof CoordinatorConfig> = ['port', 'sweep_interval_ms', 'snapshot_interval_ms', 'snapshot_every_events', 'archive_after_ms'];

export function loadConfigFile(path: string): Partial<CoordinatorConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new Error(`The config file ${path} is not valid YAML/JSON: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`The config file ${path} must hold a mapping of settings.`);
  const config = parsed as Record<string, unknown>;
  const known = new Set(Object.keys(DEFAULT_CONFIG));
  const unknown = Object.keys(config).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`Unknown setting(s) in ${path}: ${unknown.join(', ')}. Known: ${[...known].join(', ')}.`);
  for (const key of NUMERIC) {
    if (key in config && (typeof config[key] !== 'number' || !Number.isFinite(config[key] as number) || (config[key] as number) < 0)) {
      throw new Error(`${key} in ${path} must be a non-negative number.`);
    }
  }
  if ('store' in config && config.store !== 'lowdb' && config.store !== 'memory' && config.store !== 'postgres') throw new Error(`store in ${path} must be "lowdb", "memory" or "postgres".`);
  if ('database_url' in config && config.database_url !== null && (typeof config.database_url !== 'string' || !/^postgres(ql)?:\/\//.test(config.database_url))) {
    throw new Error(`database_url in ${path} must be a postgres:// connection string (or leave it out and set OWP_DATABASE_URL).`);
  }
  if ('registration' in config && config.registration !== 'open' && config.registration !== 'closed') throw new Error(`registration in ${path} must be "open" or "closed".`);
  try {
    if ('trust_proxy' in config) config.trust_proxy = checkTrustProxy(config.trust_proxy);
    if ('rate_limits' in config) config.rate_limits = checkRateLimits(config.rate_limits);
    if ('cors_origins' in config) config.cors_origins = checkCorsOrigins(config.cors_origins);
    if ('allowed_hosts' in config) config.allowed_hosts = checkAllowedHosts(config.allowed_hosts);
    if ('log' in config) config.log = checkLog(config.log);
    if ('metrics' in config) config.metrics = checkMetrics(config.metrics);
    if ('cluster' in config) config.cluster = checkCluster(config.cluster);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (config.github !== undefined && config.github !== null) {
    try {
      parseGitHubConfig(config.github);
    } catch (error) {
      throw new Error(`${path}: ${(error as Error).message}`);
    }
  }
  return config as Partial<CoordinatorConfig>;
}

function mapping(value: unknown, key: string, known: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${key} must be a mapping.`);
  const unknownKeys = Object.keys(value).filter((k) => !known.includes(k));
  if (unknownKeys.length > 0) throw new Error(`Unknown setting(s) in ${key}: ${unknownKeys.join(', ')}. Known: ${known.join(', ')}.`);
  return value as Record<string, unknown>;
}

function checkTrustProxy(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new Error('trust_proxy must be a list of addresses, CIDR ranges or "loopback".');
  new TrustedProxies(value as string[]); // throws on an entry that is not an address or range
  return value as string[];
}

function checkRateLimits(value: unknown): RateLimits {
  const kinds = ['http', 'socket', 'register', 'register_total'] as const;
  const given = mapping(value, 'rate_limits', kinds);
  const out: RateLimits = {
    http: { ...DEFAULT_RATE_LIMITS.http },
    socket: { ...DEFAULT_RATE_LIMITS.socket },
    register: { ...DEFAULT_RATE_LIMITS.register },
    register_total: { ...DEFAULT_RATE_LIMITS.register_total },
  };
  for (const binding of kinds) {
    if (given[binding] === undefined) continue;
    const limit = mapping(given[binding], `rate_limits.${binding}`, ['per_second', 'burst']);
    for (const field of ['per_second', 'burst'] as const) {
      if (limit[field] === undefined) continue;
      const n = limit[field];
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new Error(`rate_limits.${binding}.${field} must be a non-negative number.`);
      out[binding][field] = n;
    }
    if (out[binding].per_second > 0 && out[binding].burst < 1) throw new Error(`rate_limits.${binding}.burst must be at least 1 while per_second is not 0.`);
  }
  return out;
}

function checkCorsOrigins(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [];
  if (!Array.isArray(value) || list.some((v) => typeof v !== 'string')) throw new Error('cors_origins must be a list of origins (https://host[:port]), schemes (vscode-webview:) or "loopback".');
  for (const entry of list as string[]) {
    if (entry === '*') throw new Error('cors_origins: "*" is not allowed; list the origins of the pages that call this coordinator.');
    if (entry === 'loopback' || /^[a-z][a-z0-9+.-]*:$/i.test(entry)) continue;
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || url.origin === 'null' || url.origin !== entry.replace(/\/+$/, '')) throw new Error(`cors_origins: "${entry}" is not an origin (scheme://host[:port], no path), a scheme ("vscode-webview:") or "loopback".`);
  }
  return list as string[];
}

function checkAllowedHosts(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(v))) {
    throw new Error('allowed_hosts must be a list of host names, with an optional :port (owp.example.org, owp.example.org:8443).');
  }
  return value as string[];
}

function checkLog(value: unknown): CoordinatorConfig['log'] {
  const given = mapping(value, 'log', ['level', 'format']);
  const out: CoordinatorConfig['log'] = { ...DEFAULT_CONFIG.log };
  if (given.level !== undefined) {
    if (!(LOG_LEVELS as readonly unknown[]).includes(given.level)) throw new Error(`log.level must be one of ${LOG_LEVELS.join(', ')}.`);
    out.level = given.level as LogLevel;
  }
  if (given.format !== undefined) {
    if (given.format !== 'auto' && given.format !== 'json' && given.format !== 'pretty') throw new Error('log.format must be auto, json or pretty.');
    out.format = given.format;
  }
  return out;
}

function checkMetrics(value: unknown): CoordinatorConfig['metrics'] {
  const given = mapping(value, 'metrics', ['public', 'token_env', 'token_file']);
  if (given.public !== undefined && typeof given.public !== 'boolean') throw new Error('metrics.public must be true or false.');
  for (const key of ['token_env', 'token_file'] as const) {
    if (given[key] !== undefined && (typeof given[key] !== 'string' || given[key] === '')) throw new Error(`metrics.${key} must be a non-empty string.`);
  }
  if (given.token_env !== undefined && given.token_file !== undefined) throw new Error('metrics: give token_env or token_file, not both.');
  return { public: given.public === true, ...(given.token_env ? { token_env: given.token_env as string } : {}), ...(given.token_file ? { token_file: given.token_file as string } : {}) };
}

export function checkCluster(value: unknown): ClusterConfig {
  const given = mapping(value, 'cluster', Object.keys(DEFAULT_CLUSTER_CONFIG));
  const out: ClusterConfig = { ...DEFAULT_CLUSTER_CONFIG };
  for (const key of ['node_id', 'advertise_url'] as const) {
    if (given[key] === undefined || given[key] === null) continue;
    if (typeof given[key] !== 'string' || given[key] === '') throw new Error(`cluster.${key} must be a non-empty string.`);
    out[key] = given[key] as string;
  }
  if (out.node_id !== null && !/^[A-Za-z0-9._-]{1,64}$/.test(out.node_id)) throw new Error('cluster.node_id must be 1-64 letters, digits, dots, dashes or underscores.');
  if (out.advertise_url !== null && !/^https?:\/\/[^/]+$/.test(out.advertise_url)) throw new Error('cluster.advertise_url must be http(s)://host:port, without a path.');
  for (const key of ['leader_lease_ms', 'leader_renew_interval_ms', 'max_follower_lag_ms'] as const) {
    if (given[key] === undefined) continue;
    const n = given[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 50) throw new Error(`cluster.${key} must be a whole number of milliseconds, at least 50.`);
    out[key] = n;
  }
  // A leader renews at least twice per lease, so one slow renewal does not cost it the lease.
  if (out.leader_renew_interval_ms * 2 > out.leader_lease_ms) throw new Error(`cluster.leader_renew_interval_ms (${out.leader_renew_interval_ms}) must be at most half of cluster.leader_lease_ms (${out.leader_lease_ms}).`);
  return out;
}

/** The metrics scrape token named by the config, if any; a named but missing one stops the start. */
export function resolveMetricsToken(metrics: CoordinatorConfig['metrics']): string | undefined {
  if (metrics.token_env) {
    const token = process.env[metrics.token_env];
    if (!token) throw new Error(`metrics.token_env names ${metrics.token_env}, which is not set.`);
    return token;
  }
  if (metrics.token_file) {
    let token: string;
    try {
      token = readFileSync(metrics.token_file, 'utf8').trim();
    } catch (error) {
      throw new Error(`Cannot read metrics.token_file ${metrics.token_file}: ${(error as Error).message}`);
    }
    if (!token) throw new Error(`metrics.token_file ${metrics.token_file} is empty.`);
    return token;
  }
  return undefined;
}
