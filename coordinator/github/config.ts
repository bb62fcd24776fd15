/**
 * The `github:` section of the coordinator config: which repos are connected, where their
 * tokens and the webhook secret come from (environment variables or files — never the config
 * file itself, never the journal), and how sync, comments and reputation behave.
 *
 *   github:
 *     api_url: https://api.github.com        # GitHub Enterprise: https://HOST/api/v3
 *     web_url: https://github.com            # where PR links point; derived from api_url if left out
 *     token_env: OWP_GITHUB_TOKEN            # or token_file: /run/secrets/github-token
 *     webhook_secret_env: OWP_GITHUB_WEBHOOK_SECRET   # or webhook_secret_file
 *     webhook_path: /webhooks/github
 *     poll_interval_ms: 60000                # polling fallback (conditional requests)
 *     reputation: { promote_after_merged: 3, demote_on_closed: 1, max_trust: 3 }
 *     repos:
 *       - repo: acme/site
 *         label: owp                         # issues with this label become tasks
 *         comments: true                     # one status comment per issue (off by default)
 *         branch: owp/{task_id}-{slug}       # the contract's branch naming, checked on pr_opened
 *         body_block: maintainers            # read ```owp blocks from: maintainers | any | off
 *         token_env: OWP_GITHUB_TOKEN_ACME   # per-repo token (else the section's)
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
}

export interface GitHubRepoConfig {
  repo: string;
  label: string;
  comments: boolean;
  branch: string;
  body_block: 'maintainers' | 'any' | 'off';
  verify_prs: boolean;
  token_env?: string;
  token_file?: string;
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
  repos: GitHubRepoConfig[];
}

/** Secrets resolved at start; kept apart from the config so the config can be shown and logged. */
export interface GitHubSecrets {
  tokens: Map<string, string>;
  webhookSecret: string | undefined;
}

export const DEFAULT_REPUTATION: ReputationConfig = { promote_after_merged: 3, demote_on_closed: 1, max_trust: 3, enabled: true };

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
  known(raw, ['api_url', 'web_url', 'token_env', 'token_file', 'webhook_secret_env', 'webhook_secret_file', 'webhook_path', 'poll_interval_ms', 'reputation', 'repos'], '');
  const apiUrl = optionalString(raw, 'api_url', '') ?? 'https://api.github.com';
  if (!/^https?:\/\//.test(apiUrl)) fail('api_url must be an http(s) URL');
  const webUrl = optionalString(raw, 'web_url', '') ?? webUrlFor(apiUrl);
  const webhookPath = optionalString(raw, 'webhook_path', '') ?? '/webhooks/github';
  if (!webhookPath.startsWith('/') || webhookPath.startsWith('/v1/')) fail('webhook_path must start with / and not with /v1/');
  const poll = raw.poll_interval_ms ?? 60_000;
  if (typeof poll !== 'number' || !Number.isInteger(poll) || poll < 0) fail('poll_interval_ms must be a non-negative integer (0 turns polling off)');
  const rep = (raw.reputation ?? {}) as Record<string, unknown>;
  if (typeof rep !== 'object' || Array.isArray(rep)) fail('reputation must be a mapping');
  known(rep, ['promote_after_merged', 'demote_on_closed', 'max_trust', 'enabled'], 'reputation');
  const reputation: ReputationConfig = { ...DEFAULT_REPUTATION, ...rep } as ReputationConfig;
  for (const [key, max] of [['promote_after_merged', 1000], ['demote_on_closed', 3], ['max_trust', 3]] as const) {
    const v = reputation[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(`reputation.${key} must be an integer from 0 to ${max}`);
  }
  if (typeof reputation.enabled !== 'boolean') fail('reputation.enabled must be true or false');
  if (!Array.isArray(raw.repos) || raw.repos.length === 0) fail('repos must list at least one repo (repo: owner/name)');
  const seen = new Set<string>();
  const repos = raw.repos.map((entry, i): GitHubRepoConfig => {
    const r = (typeof entry === 'string' ? { repo: entry } : entry) as Record<string, unknown>;
    if (r === null || typeof r !== 'object') fail(`repos[${i}] must be a mapping or owner/name`);
    const where = `repos[${i}].`;
    known(r, ['repo', 'label', 'comments', 'branch', 'body_block', 'verify_prs', 'token_env', 'token_file'], `repos[${i}]`);
    const repo = optionalString(r, 'repo', where);
    if (!repo || !REPO.test(repo)) fail(`${where}repo must be owner/name`);
    if (seen.has(repo.toLowerCase())) fail(`${repo} is listed twice`);
    seen.add(repo.toLowerCase());
    const bodyBlock = r.body_block ?? 'maintainers';
    if (bodyBlock !== 'maintainers' && bodyBlock !== 'any' && bodyBlock !== 'off') fail(`${where}body_block must be maintainers, any or off`);
    for (const flag of ['comments', 'verify_prs']) {
      if (r[flag] !== undefined && typeof r[flag] !== 'boolean') fail(`${where}${flag} must be true or false`);
    }
    const branch = optionalString(r, 'branch', where) ?? DEFAULT_BRANCH_TEMPLATE;
    if (!branch.includes('{task_id}')) fail(`${where}branch must contain {task_id} so a PR's branch names its task`);
    const tokenEnv = optionalString(r, 'token_env', where);
    const tokenFile = optionalString(r, 'token_file', where);
    return {
      repo,
      label: optionalString(r, 'label', where) ?? 'owp',
      comments: r.comments === true,
      branch,
      body_block: bodyBlock,
      verify_prs: r.verify_prs !== false,
      ...(tokenEnv ? { token_env: tokenEnv } : {}),
      ...(tokenFile ? { token_file: tokenFile } : {}),
    };
  });
  const out: GitHubConfig = { api_url: apiUrl.replace(/\/$/, ''), web_url: webUrl.replace(/\/$/, ''), webhook_path: webhookPath, poll_interval_ms: poll, reputation, repos };
  for (const key of ['token_env', 'token_file', 'webhook_secret_env', 'webhook_secret_file'] as const) {
    const v = optionalString(raw, key, '');
    if (v) out[key] = v;
  }
  return out;
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
  const fallback = secretFrom(config.token_env, config.token_file, 'token', environment);
  const tokens = new Map<string, string>();
  for (const r of config.repos) {
    const token = secretFrom(r.token_env, r.token_file, `token for ${r.repo}`, environment) ?? fallback;
    if (!token) fail(`no token for ${r.repo}: set token_env or token_file in the github section or on the repo`);
    tokens.set(r.repo, token);
  }
  return { tokens, webhookSecret: secretFrom(config.webhook_secret_env, config.webhook_secret_file, 'webhook secret', environment) };
}
