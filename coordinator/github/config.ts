/**
 * The `github:` section of the coordinator config: how the coordinator authenticates (a GitHub
 * App, or tokens), which repos are connected, where the secrets come from (environment variables
 * or files — never the config file itself, never the journal), and how sync, comments and
 * reputation behave.
 *
 *   github:
 *     api_url: https://api.github.com        # GitHub Enterprise: https://HOST/api/v3
 *     web_url: https://github.com            # where PR links point; derived from api_url if left out
 *     app:                                   # the App route (recommended) …
 *       id: 123456
 *       private_key_file: /run/secrets/owp-app.pem     # or private_key_env: OWP_GITHUB_APP_KEY
 *     token_env: OWP_GITHUB_TOKEN            # … or the token route (or token_file)
 *     webhook_secret_env: OWP_GITHUB_WEBHOOK_SECRET   # or webhook_secret_file (an App has one secret)
 *     webhook_path: /webhooks/github
 *     poll_interval_ms: 60000                # polling fallback (conditional requests)
 *     reputation: { promote_after_merged: 3, demote_on_closed: 1, max_trust: 3 }
 *     defaults: { label: owp, comments: true }        # for every repo (with an App: each repo it is installed on)
 *     repos:                                 # the token route: every repo; an App: per-repo overrides (optional)
 *       - repo: acme/site
 *         label: owp                         # issues with this label become tasks
 *         comments: true                     # one status comment per issue (off by default)
 *         branch: owp/{task_id}-{slug}       # checked on pr_opened; default: the contract's `branch`
 *         body_block: maintainers            # read ```owp blocks from: maintainers | any | off
 *         token_env: OWP_GITHUB_TOKEN_ACME   # per-repo token (else the section's)
 *         webhook_secret_env: OWP_HOOK_ACME  # per-repo webhook secret (token route; else the section's)
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_BRANCH_TEMPLATE } from '../../protocol/branch-name.ts';

export interface ReputationConfig {
  /** Consecutive merged PRs at (or above) a worker's trust level that raise it by one. BOINC's N. */
  promote_after_merged: number;
  /** Trust levels a PR closed without merging takes away (0 turns demotion off). */
  demote_on_closed: number;
  /** Promotion never goes above this. */
  max_trust: number;
  enabled: boolean;
  /**
   * Trust halves (rounded down) for every this many days a worker has no lease, PR or merge: easy to
   * lose, slow to earn again (promote_after_merged merges per level). 0 turns decay off.
   */
  decay_half_life_days: number;
}

export interface GitHubRepoConfig {
  repo: string;
  label: string;
  comments: boolean;
  /** The branch naming checked on pr_opened: the config's, else the contract's (repo-files-sync.ts), else the default. */
  branch: string;
  /** True when the config sets `branch`: the contract's then does not replace it. */
  branch_from_config: boolean;
  body_block: 'maintainers' | 'any' | 'off';
  verify_prs: boolean;
  token_env?: string;
  token_file?: string;
  webhook_secret_env?: string;
  webhook_secret_file?: string;
}

export interface GitHubAppConfig {
  id: number;
  private_key_env?: string;
  private_key_file?: string;
  /** Only this installation (default: every installation of the App). */
  installation_id?: number;
}

export interface GitHubConfig {
  api_url: string;
  web_url: string;
  token_env?: string;
  token_file?: string;
  webhook_secret_env?: string;
  webhook_secret_file?: string;
  webhook_path: string;
  poll_interval_ms: number;
  reputation: ReputationConfig;
  /** The App route; absent: the token route. */
  app?: GitHubAppConfig;
  /** Settings for repos the config does not list (with an App: the ones it is installed on). */
  defaults: Omit<GitHubRepoConfig, 'repo'>;
  repos: GitHubRepoConfig[];
}

/** Secrets resolved at start; kept apart from the config so the config can be shown and logged. */
export interface GitHubSecrets {
  tokens: Map<string, string>;
  webhookSecret: string | undefined;
  /** Per-repo webhook secrets (token route), by lower-case `owner/name`. */
  repoWebhookSecrets: Map<string, string>;
  /** The App's private key (PEM), for the App route. */
  appPrivateKey?: string;
}

export const DEFAULT_REPUTATION: ReputationConfig = { promote_after_merged: 3, demote_on_closed: 1, max_trust: 3, enabled: true, decay_half_life_days: 0 };

const REPO = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}\/[A-Za-z0-9_.-]{1,100}$/;

function fail(message: string): never {
  throw new Error(`github config: ${message}`);
}

function optionalString(raw: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') fail(`${where}${key} must be a non-empty string`);
  return v;
}

function known(raw: Record<string, unknown>, keys: string[], where: string): void {
  const unknown = Object.keys(raw).filter((k) => !keys.includes(k));
  if (unknown.length > 0) fail(`unknown setting(s) ${unknown.join(', ')} in ${where || 'github'}; known: ${keys.join(', ')}`);
}

/** GitHub.com's web URL for its API URL; for GitHub Enterprise, the API URL without /api/v3. */
export function webUrlFor(apiUrl: string): string {
  const u = new URL(apiUrl);
  if (u.hostname === 'api.github.com') return 'https://github.com';
  return `${u.origin}${u.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '')}`;
}

export function parseGitHubConfig(input: unknown): GitHubConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) fail('the github section must be a mapping');
  const raw = input as Record<string, unknown>;
  known(raw, ['api_url', 'web_url', 'app', 'token_env', 'token_file', 'webhook_secret_env', 'webhook_secret_file', 'webhook_path', 'poll_interval_ms', 'reputation', 'defaults', 'repos'], '');
  const apiUrl = optionalString(raw, 'api_url', '') ?? 'https://api.github.com';
  if (!/^https?:\/\//.test(apiUrl)) fail('api_url must be an http(s) URL');
  const webUrl = optionalString(raw, 'web_url', '') ?? webUrlFor(apiUrl);
  const webhookPath = optionalString(raw, 'webhook_path', '') ?? '/webhooks/github';
  if (!webhookPath.startsWith('/') || webhookPath.startsWith('/v1/')) fail('webhook_path must start with / and not with /v1/');
  const poll = raw.poll_interval_ms ?? 60_000;
  if (typeof poll !== 'number' || !Number.isInteger(poll) || poll < 0) fail('poll_interval_ms must be a non-negative integer (0 turns polling off)');
  const rep = (raw.reputation ?? {}) as Record<string, unknown>;
  if (typeof rep !== 'object' || Array.isArray(rep)) fail('reputation must be a mapping');
  known(rep, ['promote_after_merged', 'demote_on_closed', 'max_trust', 'enabled', 'decay_half_life_days'], 'reputation');
  const reputation: ReputationConfig = { ...DEFAULT_REPUTATION, ...rep } as ReputationConfig;
  for (const [key, max] of [['promote_after_merged', 1000], ['demote_on_closed', 3], ['max_trust', 3]] as const) {
    const v = reputation[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(`reputation.${key} must be an integer from 0 to ${max}`);
  }
  if (typeof reputation.enabled !== 'boolean') fail('reputation.enabled must be true or false');
  const halfLife = reputation.decay_half_life_days;
  if (typeof halfLife !== 'number' || !Number.isFinite(halfLife) || halfLife < 0 || halfLife > 3650) fail('reputation.decay_half_life_days must be a number of days from 0 (off) to 3650');
  const app = raw.app === undefined || raw.app === null ? undefined : parseApp(raw.app);
  const rawRepos = raw.repos ?? [];
  if (!Array.isArray(rawRepos)) fail('repos must be a list');
  if (!app && rawRepos.length === 0) fail('repos must list at least one repo (repo: owner/name), or configure app: to connect the repos the GitHub App is installed on');
  if (app && (raw.token_env !== undefined || raw.token_file !== undefined)) fail('give app: or token_env/token_file, not both: the App mints its own tokens');
  const defaultsRaw = raw.defaults ?? {};
  if (defaultsRaw === null || typeof defaultsRaw !== 'object' || Array.isArray(defaultsRaw)) fail('defaults must be a mapping');
  known(defaultsRaw as Record<string, unknown>, ['label', 'comments', 'branch', 'body_block', 'verify_prs'], 'defaults');
  const { repo: _r, ...defaults } = repoConfig({ ...(defaultsRaw as Record<string, unknown>), repo: 'defaults/defaults' }, 'defaults.', ['repo', 'label', 'comments', 'branch', 'body_block', 'verify_prs'], undefined);
  const seen = new Set<string>();
  const repos = rawRepos.map((entry, i): GitHubRepoConfig => {
    const r = (typeof entry === 'string' ? { repo: entry } : entry) as Record<string, unknown>;
    if (r === null || typeof r !== 'object') fail(`repos[${i}] must be a mapping or owner/name`);
    const repo = repoConfig(r, `repos[${i}].`, ['repo', 'label', 'comments', 'branch', 'body_block', 'verify_prs', 'token_env', 'token_file', 'webhook_secret_env', 'webhook_secret_file'], defaults);
    if (seen.has(repo.repo.toLowerCase())) fail(`${repo.repo} is listed twice`);
    seen.add(repo.repo.toLowerCase());
    if (app && (repo.token_env || repo.token_file || repo.webhook_secret_env || repo.webhook_secret_file)) fail(`${repo.repo}: with app: the App's tokens and its one webhook secret are used; remove token_*/webhook_secret_* from the repo`);
    return repo;
  });
  const out: GitHubConfig = { api_url: apiUrl.replace(/\/$/, ''), web_url: webUrl.replace(/\/$/, ''), webhook_path: webhookPath, poll_interval_ms: poll, reputation, defaults, repos, ...(app ? { app } : {}) };
  for (const key of ['token_env', 'token_file', 'webhook_secret_env', 'webhook_secret_file'] as const) {
    const v = optionalString(raw, key, '');
    if (v) out[key] = v;
  }
  return out;
}

function parseApp(input: unknown): GitHubAppConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('app must be a mapping (id, private_key_file or private_key_env)');
  const raw = input as Record<string, unknown>;
  known(raw, ['id', 'private_key_env', 'private_key_file', 'installation_id'], 'app');
  if (typeof raw.id !== 'number' || !Number.isInteger(raw.id) || raw.id <= 0) fail('app.id must be the App\'s numeric id (its settings page shows "App ID")');
  if (raw.private_key !== undefined) fail('app.private_key must not be in the config file: use private_key_file or private_key_env');
  const keyEnv = optionalString(raw, 'private_key_env', 'app.');
  const keyFile = optionalString(raw, 'private_key_file', 'app.');
  if (!keyEnv === !keyFile) fail('app needs exactly one of private_key_file or private_key_env');
  const installation = raw.installation_id;
  if (installation !== undefined && (typeof installation !== 'number' || !Number.isInteger(installation) || installation <= 0)) fail('app.installation_id must be a positive integer');
  return { id: raw.id, ...(keyEnv ? { private_key_env: keyEnv } : {}), ...(keyFile ? { private_key_file: keyFile } : {}), ...(installation !== undefined ? { installation_id: installation as number } : {}) };
}

/** One repo entry (or the defaults), filled from `base` (the defaults) and then the built-in defaults. */
function repoConfig(r: Record<string, unknown>, where: string, keys: string[], base: Omit<GitHubRepoConfig, 'repo'> | undefined): GitHubRepoConfig {
  known(r, keys, where.replace(/\.$/, ''));
  const repo = optionalString(r, 'repo', where);
  if (!repo || !REPO.test(repo)) fail(`${where}repo must be owner/name`);
  const bodyBlock = r.body_block ?? base?.body_block ?? 'maintainers';
  if (bodyBlock !== 'maintainers' && bodyBlock !== 'any' && bodyBlock !== 'off') fail(`${where}body_block must be maintainers, any or off`);
  for (const flag of ['comments', 'verify_prs']) {
    if (r[flag] !== undefined && typeof r[flag] !== 'boolean') fail(`${where}${flag} must be true or false`);
  }
  const ownBranch = optionalString(r, 'branch', where);
  const branch = ownBranch ?? base?.branch ?? DEFAULT_BRANCH_TEMPLATE;
  if (!branch.includes('{task_id}')) fail(`${where}branch must contain {task_id} so a PR's branch names its task`);
  const out: GitHubRepoConfig = {
    repo,
    label: optionalString(r, 'label', where) ?? base?.label ?? 'owp',
    comments: typeof r.comments === 'boolean' ? r.comments : (base?.comments ?? false),
    branch,
    branch_from_config: ownBranch !== undefined || (base?.branch_from_config ?? false),
    body_block: bodyBlock,
    verify_prs: typeof r.verify_prs === 'boolean' ? r.verify_prs : (base?.verify_prs ?? true),
  };
  for (const key of ['token_env', 'token_file', 'webhook_secret_env', 'webhook_secret_file'] as const) {
    const v = optionalString(r, key, where);
    if (v) out[key] = v;
  }
  return out;
}

/** A repo's settings: its entry in `repos`, else the defaults. */
export function repoConfigOf(config: GitHubConfig, repo: string): GitHubRepoConfig {
  return config.repos.find((r) => r.repo.toLowerCase() === repo.toLowerCase()) ?? { ...config.defaults, repo };
}

function secretFrom(env: string | undefined, file: string | undefined, what: string, environment: NodeJS.ProcessEnv): string | undefined {
  if (env) {
    const value = environment[env]?.trim();
    if (!value) fail(`${what}: the environment variable ${env} is not set`);
    return value;
  }
  if (file) {
    let value: string;
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch (error) {
      fail(`${what}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (!value) fail(`${what}: ${file} is empty`);
    return value;
  }
  return undefined;
}

/** Reads every token and the webhook secret; fails with a message naming what is missing. */
export function resolveGitHubSecrets(config: GitHubConfig, environment: NodeJS.ProcessEnv = process.env): GitHubSecrets {
  const webhookSecret = secretFrom(config.webhook_secret_env, config.webhook_secret_file, 'webhook secret', environment);
  const repoWebhookSecrets = new Map<string, string>();
  for (const r of config.repos) {
    const secret = secretFrom(r.webhook_secret_env, r.webhook_secret_file, `webhook secret for ${r.repo}`, environment);
    if (secret) repoWebhookSecrets.set(r.repo.toLowerCase(), secret);
  }
  const tokens = new Map<string, string>();
  if (config.app) {
    const key = secretFrom(config.app.private_key_env, config.app.private_key_file, 'app private key', environment) as string;
    if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(key)) fail('app private key: not a PEM private key (download it from the App\'s settings, "Generate a private key")');
    return { tokens, webhookSecret, repoWebhookSecrets, appPrivateKey: `${key}\n` };
  }
  const fallback = secretFrom(config.token_env, config.token_file, 'token', environment);
  for (const r of config.repos) {
    const token = secretFrom(r.token_env, r.token_file, `token for ${r.repo}`, environment) ?? fallback;
    if (!token) fail(`no token for ${r.repo}: set token_env or token_file in the github section or on the repo`);
    tokens.set(r.repo, token);
  }
  return { tokens, webhookSecret, repoWebhookSecrets };
}
