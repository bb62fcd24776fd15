/**
 * The GitHub integration, composed: issues in (RepoSync), comments out (StatusComments), PR
 * verification (a runtime beforeCommand hook), PR outcomes and reputation, and the webhook
 * receiver. Build it before the coordinator (its hook and webhook handler go into the
 * coordinator's options), then `attach()` it to the running runtime with the admin principal.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Principal } from '../auth.ts';
import type { StaticHandler } from '../http.ts';
import type { Runtime } from '../runtime.ts';
import { GitHubClient } from './client.ts';
import type { GitHubConfig, GitHubSecrets } from './config.ts';
import { IntegrationContext, type ConnectedRepo } from './context.ts';
import { prVerifier, type BeforeCommand } from './pr-verify.ts';
import { RepoSync } from './repo-sync.ts';
import { Reputation } from './reputation.ts';
import { StatusComments } from './status-comments.ts';
import { MemorySyncStateStore, SyncState, type SyncStateStore } from './sync-state.ts';
import { webhookHandler } from './webhooks.ts';
import { silentLogger, type Logger } from '../log.ts';

export interface GitHubIntegrationOptions {
  config: GitHubConfig;
  secrets: GitHubSecrets;
  /** Where delivery ids, issue links and streaks live; default in memory. */
  stateStore?: SyncStateStore;
  log?: Logger;
  /** For tests that must not really wait out a rate limit. */
  sleep?: (ms: number) => Promise<void>;
  maxRateLimitWaitMs?: number;
}

export class GitHubIntegration {
  readonly beforeCommand: BeforeCommand;
  /** Serves the webhook path (a StaticHandler for the coordinator's HTTP server). */
  readonly webhookHandler: StaticHandler;
  readonly context: IntegrationContext;
  private readonly syncs = new Map<string, RepoSync>();
  private readonly comments: StatusComments;
  private readonly reputation: Reputation;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly onJournal = (events: JournalEvent[]): void => {
    this.reputation.onEvents(events);
    this.comments.onEvents(events);
  };

  constructor(options: GitHubIntegrationOptions) {
    const log = options.log ?? silentLogger();
    const repos: ConnectedRepo[] = options.config.repos.map((config) => {
      const [owner, name] = config.repo.split('/') as [string, string];
      const token = options.secrets.tokens.get(config.repo);
      if (!token) throw new Error(`github: no token for ${config.repo}`);
      const client = new GitHubClient({
        apiUrl: options.config.api_url,
        token,
        log,
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.maxRateLimitWaitMs !== undefined ? { maxRateLimitWaitMs: options.maxRateLimitWaitMs } : {}),
      });
      return { config, owner, name, client };
    });
    const state = new SyncState(options.stateStore ?? new MemorySyncStateStore());
    this.context = new IntegrationContext(options.config, state, repos, log);
    for (const repo of repos) this.syncs.set(repo.config.repo.toLowerCase(), new RepoSync(repo, this.context));
    this.comments = new StatusComments(this.context);
    this.reputation = new Reputation(this.context);
    this.beforeCommand = prVerifier(this.context);
    const secret = options.secrets.webhookSecret;
    this.webhookHandler = secret
      ? webhookHandler({ path: options.config.webhook_path, secret, state, log, dispatch: (event, payload) => this.dispatch(event, payload) })
      : () => false;
  }

  /** Starts following a runtime: makes sure each connected repo exists in OWP, then polls. */
  async attach(runtime: Runtime, admin: Principal): Promise<void> {
    if (admin.kind !== 'maintainer' || !admin.admin) throw new Error('github: attach needs the admin principal');
    this.context.runtime = runtime;
    this.context.admin = admin;
    for (const repo of this.context.repos()) {
      if (!runtime.engine.state.repos.has(repo.config.repo)) {
        await this.context.call('repo.configure', { repo: repo.config.repo, idempotency_key: `github:connect:${repo.config.repo}` });
      }
    }
    runtime.on('journal', this.onJournal);
    const every = this.context.config.poll_interval_ms;
    if (every > 0) {
      void this.pollNow();
      this.pollTimer = setInterval(() => void this.pollNow(), every);
      this.pollTimer.unref();
    }
  }

  /** One reconciliation pass over every connected repo (or one); failures are logged, not thrown. */
  async pollNow(repo?: string): Promise<void> {
    const targets = repo ? [this.sync(repo)].filter((s): s is RepoSync => s !== undefined) : [...this.syncs.values()];
    await Promise.all(
      targets.map((s) =>
        s.poll().catch((error: unknown) => {
          this.context.log.error({ repo: s.repo.config.repo, err: error }, `sync of ${s.repo.config.repo} failed`);
        }),
      ),
    );
  }

  private sync(repo: string | undefined): RepoSync | undefined {
    return repo ? this.syncs.get(repo.toLowerCase()) : undefined;
  }

  /** A verified delivery: treat it as a hint and re-read the named issue or PR from GitHub. */
  private async dispatch(event: string, payload: Record<string, unknown>): Promise<void> {
    if (!this.context.runtime) throw new OwpError('UNAVAILABLE', 'not attached yet');
    const repository = payload.repository as { full_name?: unknown } | undefined;
    const sync = this.sync(typeof repository?.full_name === 'string' ? repository.full_name : undefined);
    if (!sync) return; // ping, or a repo that is not connected
    const numberOf = (key: string): number | undefined => {
      const n = (payload[key] as { number?: unknown } | undefined)?.number;
      return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
    };
    if (event === 'issues') {
      const n = numberOf('issue');
      if (n !== undefined) await sync.issueChanged(n);
    } else if (event === 'pull_request') {
      const n = numberOf('pull_request');
      if (n !== undefined) await sync.pullChanged(n);
    }
  }

  /** Resolves when every sync, comment edit and reputation update started so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.syncs.values()].map((s) => s.settled()));
    await this.reputation.settled();
    await this.comments.settled();
  }

  close(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.context.runtime?.off('journal', this.onJournal);
  }
}
