/**
 * A real coordinator (real HTTP, socket.io, store) wired to the GitHub integration, which talks
 * to the local fake GitHub server; volunteers are real WorkerClients that open their PRs on the
 * fake GitHub with their own tokens, through the worker-side client/pull-request.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { branchName } from '../../protocol/branch-name.ts';
import { DEFAULT_CONTRACT } from '../../client/contract.ts';
import { openPullRequest } from '../../client/pull-request.ts';
import type { WorkerClient, WorkerProfile } from '../../client/worker-client.ts';
import { parseGitHubConfig } from '../../coordinator/github/config.ts';
import { GitHubIntegration } from '../../coordinator/github/integration.ts';
import { FileSyncStateStore, type SyncStateStore } from '../../coordinator/github/sync-state.ts';
import type { Task } from '../../protocol/model.ts';
import { startPool, tempDir, type StoreKind, type TestPool } from './coordinator.ts';
import { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from '../../cli/demo/github/server.ts';
import { createLogger } from '../../coordinator/log.ts';

export const BOT_TOKEN = 'ghp_owpbot000000000000000000000000000000';
export const BOT_LOGIN = 'owp-bot';
export const WEBHOOK_SECRET = 'It\'s a Secret to Everybody';
export const REPO = 'acme/site';

export interface GitHubPoolOptions {
  store?: StoreKind;
  /** Extra settings for the acme/site entry of the github config section. */
  repo?: Record<string, unknown>;
  github?: Record<string, unknown>;
  fake?: FakeGitHubOptions;
  /** Deliver the fake's webhooks to the coordinator. */
  webhooks?: boolean;
  stateStore?: SyncStateStore;
  /**
   * Connect as a GitHub App instead of the bot token: the fake knows the App (its public key)
   * installed on acme (acme/site only, unless `repositories` says otherwise).
   */
  app?: { id: number; slug: string; privateKey: string; publicKey: string; installationId: number; repositories?: string[] };
  /** acme/site's own webhook secret (token route), besides the section's. */
  repoWebhookSecret?: string;
  /** The integration's clock (rate-limit pauses), for tests that move time. */
  now?: () => number;
  /** The coordinator config's own settings for acme/site (they win over its files on GitHub). */
  repoSettings?: Record<string, unknown>;
}

export interface Volunteer {
  worker: WorkerClient & { token: string };
  login: string;
  githubToken: string;
  /** Pushes a branch for the task (signed commits or not) and opens its PR as this volunteer. */
  openPr(task: Task, options?: { branch?: string; verified?: boolean; body?: string }): Promise<{ url: string; number: number; branch: string }>;
}

export interface GitHubPool {
  gh: FakeGitHub;
  pool: TestPool;
  integration: GitHubIntegration;
  logs: string[];
  /** The durable sync state file (lowdb pools only). */
  stateFile: string | undefined;
  volunteer(login: string, profile?: Partial<WorkerProfile>, options?: { trust?: number }): Promise<Volunteer>;
  /** One polling pass, then everything it set off (comments, reputation) finished. */
  poll(): Promise<void>;
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startGitHubPool(options: GitHubPoolOptions = {}): Promise<GitHubPool> {
  const gh = await startFakeGitHub({
    tokens: [{ token: BOT_TOKEN, login: BOT_LOGIN, permissions: { issues: 'write', pull_requests: 'read' } }],
    repos: [{ full_name: REPO, collaborators: ['maintainer-mo'] }],
    ...(options.app ? { apps: [{ id: options.app.id, slug: options.app.slug, publicKey: options.app.publicKey, installations: [{ id: options.app.installationId, account: 'acme', repositories: options.app.repositories ?? [REPO] }] }] } : {}),
    ...options.fake,
  });
  const logs: string[] = [];
  const stateDir = options.store === 'lowdb' ? tempDir('owp-github-') : undefined;
  const stateFile = stateDir ? join(stateDir, 'github-sync.json') : undefined;
  const config = parseGitHubConfig({
    api_url: gh.url,
    web_url: 'https://github.com',
    poll_interval_ms: 0,
    ...(options.app ? { app: { id: options.app.id, private_key_env: 'OWP_TEST_APP_KEY' } } : {}),
    ...options.github,
    repos: [{ repo: REPO, comments: true, ...options.repo }],
  });
  const integration = new GitHubIntegration({
    config,
    secrets: options.app
      ? { tokens: new Map(), webhookSecret: WEBHOOK_SECRET, repoWebhookSecrets: new Map(), appPrivateKey: options.app.privateKey }
      : { tokens: new Map([[REPO, BOT_TOKEN]]), webhookSecret: WEBHOOK_SECRET, repoWebhookSecrets: new Map(options.repoWebhookSecret ? [[REPO, options.repoWebhookSecret]] : []) },
    // The 1 s between comment writes GitHub asks for only slows the tests down.
    writeSpacingMs: 0,
    ...(options.now ? { now: options.now } : {}),
    ...(options.repoSettings ? { repoSettings: new Map([[REPO, options.repoSettings]]) } : {}),
    stateStore: options.stateStore ?? (stateFile ? new FileSyncStateStore(stateFile) : undefined),
    log: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } }),
  });
  const pool = await startPool(options.store ?? 'memory', { beforeCommand: [integration.beforeCommand], staticHandler: integration.webhookHandler });
  const admin = pool.coordinator.runtime.authenticate(pool.adminToken);
  if (!admin) throw new Error('admin token did not authenticate');
  await integration.attach(pool.coordinator.runtime, admin);
  if (options.webhooks) gh.state.webhook = { url: `${pool.url}/webhooks/github`, secret: WEBHOOK_SECRET };

  const settled = async (): Promise<void> => {
    for (let i = 0; i < 3; i += 1) {
      await gh.state.settled();
      await pool.coordinator.runtime.whenIdle();
      await integration.settled();
    }
  };

  return {
    gh,
    pool,
    integration,
    logs,
    stateFile,
    async volunteer(login, profile = {}, opts = {}) {
      const githubToken = `ghp_${login.replace(/[^a-z0-9]/gi, '')}_token`;
      gh.state.addToken({ token: githubToken, login });
      const worker = await pool.join({ github_login: login, skills: ['docs'], capacity: 3, ...profile }, opts.trust !== undefined ? { trust: opts.trust } : {});
      return {
        worker,
        login,
        githubToken,
        async openPr(task, prOptions = {}) {
          const branch = prOptions.branch ?? branchName(DEFAULT_CONTRACT.branch, { task_id: task.id, title: task.title });
          gh.state.addBranch(REPO, branch, { commits: [{ author: login, verified: prOptions.verified ?? false }] });
          const contract = prOptions.body !== undefined ? { ...DEFAULT_CONTRACT, pr: { ...DEFAULT_CONTRACT.pr, body: prOptions.body } } : DEFAULT_CONTRACT;
          const task2 = prOptions.body !== undefined ? { ...task, issue: undefined } : task;
          const opened = await openPullRequest({ token: githubToken, owner: 'acme', repo: 'site', head: branch, base: 'main', task: task2, contract, apiBaseUrl: gh.url, attribution: `Opened by ${login} via OWP` });
          return { ...opened, branch };
        },
      };
    },
    async poll() {
      await integration.pollNow();
      await settled();
    },
    settled,
    async close() {
      integration.close();
      await pool.close();
      await gh.close();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
