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
import { GitHubApp } from './app-auth.ts';
import { GitHubClient } from './client.ts';
import { repoConfigOf, type GitHubConfig, type GitHubSecrets } from './config.ts';
import { IntegrationContext, type ConnectedRepo, type Disconnection } from './context.ts';
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
  /** The coordinator config's own settings per repo (`repos:` entries): they win over the repo's files. */
  repoSettings?: ReadonlyMap<string, Record<string, unknown>>;
  /** Longest rate-limit wait done inside a request (default 60 s); longer ones pause GitHub calls until the reset. */
  maxInlineWaitMs?: number;
  /** Least time between two writes of one client (default 1 s, as GitHub asks; tests set 0). */
  writeSpacingMs?: number;
  now?: () => number;
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
    // A PR just attached to its lease waits for checks: look at them now rather than at the next poll.
    for (const e of events) if (e.type === 'pr.attached') void this.sync(e.repo)?.checksChanged();
  };

  private readonly app: GitHubApp | undefined;
  /** The installation each repo was found through (App route). */
  private readonly installationOf = new Map<string, number>();

  constructor(private readonly options: GitHubIntegrationOptions) {
    const log = options.log ?? silentLogger();
    const clientOptions = {
      ...(options.maxInlineWaitMs !== undefined ? { maxInlineWaitMs: options.maxInlineWaitMs } : {}),
      ...(options.writeSpacingMs !== undefined ? { writeSpacingMs: options.writeSpacingMs } : {}),
    };
    const app = options.config.app;
    if (app) {
      if (!options.secrets.appPrivateKey) throw new Error('github: app: needs its private key (private_key_file or private_key_env)');
      this.app = new GitHubApp({ apiUrl: options.config.api_url, appId: app.id, privateKey: options.secrets.appPrivateKey, log, client: clientOptions, ...(options.now ? { now: options.now } : {}) });
    }
    // The token route knows its repos now; the App route finds them at attach (its installations).
    const repos: ConnectedRepo[] = this.app
      ? []
      : options.config.repos.map((config) => {
          const [owner, name] = config.repo.split('/') as [string, string];
          const token = options.secrets.tokens.get(config.repo);
          if (!token) throw new Error(`github: no token for ${config.repo}`);
          const client = new GitHubClient({ apiUrl: options.config.api_url, token, log, ...clientOptions, ...(options.now ? { now: options.now } : {}) });
          return { config, owner, name, client };
        });
    const state = new SyncState(options.stateStore ?? new MemorySyncStateStore());
    this.context = new IntegrationContext(options.config, state, [], log);
    for (const repo of repos) this.connect(repo);
    this.comments = new StatusComments(this.context);
    this.reputation = new Reputation(this.context);
    this.beforeCommand = prVerifier(this.context);
    const secret = options.secrets.webhookSecret;
    const repoSecrets = options.secrets.repoWebhookSecrets;
    this.webhookHandler = secret || repoSecrets.size > 0
      ? webhookHandler({ path: options.config.webhook_path, secret, repoSecrets, state, log, dispatch: (event, payload) => this.dispatch(event, payload) })
      : () => false;
  }

  private connect(repo: ConnectedRepo): RepoSync {
    const key = repo.config.repo.toLowerCase();
    const existing = this.syncs.get(key);
    if (existing) return existing;
    this.context.add(repo);
    const sync = new RepoSync(repo, this.context, this.options.repoSettings?.get(repo.config.repo) ?? {});
    this.syncs.set(key, sync);
    return sync;
  }

  /**
   * The App route: who the App is (its `<slug>[bot]` login writes the status comments), its
   * installations (or the configured one) and the repositories each reaches, read back from
   * GitHub; repos gained are connected (and made in OWP), repos lost are no longer followed.
   */
  private async discover(installationId?: number): Promise<RepoSync[]> {
    const app = this.app;
    if (!app) return [];
    const me = await app.whoAmI();
    const only = this.options.config.app?.installation_id;
    const ids = installationId !== undefined ? [installationId] : (await app.installations()).map((i) => i.id);
    const gained: RepoSync[] = [];
    if (installationId === undefined) {
      // An installation gone while no webhook reached us (the coordinator was down): let go of its repos too.
      for (const inst of new Set(this.installationOf.values())) if (!ids.includes(inst)) await this.disconnect(inst, 'app_uninstalled');
    }
    for (const id of ids) {
      if (only !== undefined && id !== only) continue;
      const client = await app.clientOf(id);
      let reached: string[];
      try {
        reached = await app.repositoriesOf(id);
      } catch (error) {
        // 404: the installation is gone; 403 "This installation has been suspended". Either way GitHub
        // will keep answering so: stop using the installation instead of failing every delivery and poll.
        const status = (error as { status?: number }).status;
        if (status !== 404 && status !== 403) throw error;
        await this.disconnect(id, status === 404 ? 'app_uninstalled' : 'app_suspended');
        continue;
      }
      const names = new Set(reached.map((r) => r.toLowerCase()));
      for (const [repo, inst] of this.installationOf) {
        if (inst === id && !names.has(repo)) {
          this.syncs.delete(repo);
          this.context.remove(repo);
          this.installationOf.delete(repo);
          this.context.log.info({ repo, installation: id }, `${repo} left installation ${id}; no longer followed (its tasks stay)`);
        }
      }
      for (const full of reached) {
        if (this.syncs.has(full.toLowerCase())) continue;
        const [owner, name] = full.split('/') as [string, string];
        this.installationOf.set(full.toLowerCase(), id);
        if (this.context.disconnected.delete(full.toLowerCase())) await this.markDisconnected(full, undefined);
        gained.push(this.connect({ config: repoConfigOf(this.options.config, full), owner, name, client }));
        this.context.log.info({ repo: full, installation: id, as: me.login }, `${full} connected through installation ${id} as ${me.login}`);
      }
    }
    return gained;
  }

  /**
   * The App's installation was uninstalled or suspended: its repos are no longer followed (no
   * polls, no token requests GitHub will refuse), PR reports there are refused as unverifiable,
   * and each repo's status says why (settings.source.disconnected). Tasks stay as they are.
   */
  private async disconnect(installationId: number, reason: Disconnection['reason']): Promise<void> {
    this.app?.tokensOf(installationId).invalidate();
    const at = (this.options.now ?? Date.now)();
    for (const [repo, inst] of [...this.installationOf]) {
      if (inst !== installationId) continue;
      const name = this.context.repo(repo)?.config.repo ?? repo;
      this.syncs.delete(repo);
      this.context.remove(repo);
      this.installationOf.delete(repo);
      this.context.disconnected.set(repo, { reason, at, installation_id: installationId });
      await this.markDisconnected(name, { reason, at, installation_id: installationId });
      this.context.log.warn({ repo: name, installation: installationId, reason }, `${name}: the GitHub App's installation ${installationId} was ${reason === 'app_suspended' ? 'suspended' : 'uninstalled'}; no longer followed, and PR reports are refused until it is installed again`);
    }
  }

  /** Writes (or clears) the repo's disconnected status in its settings' source. */
  private async markDisconnected(repo: string, disconnected: Disconnection | undefined): Promise<void> {
    const stored = this.context.runtime?.engine.state.repos.get(repo)?.settings.source;
    if (!stored && !disconnected) return;
    const { disconnected: _was, ...rest } = stored ?? { from: 'github' as const, read_at: disconnected?.at ?? Date.now(), files: [], origins: {} };
    const source = disconnected ? { ...rest, disconnected } : rest;
    await this.context.call('repo.configure', { repo, source, idempotency_key: `github:connection:${repo}:${disconnected ? `${disconnected.reason}:${disconnected.at}` : `back:${Date.now()}`}` });
  }

  private async ensureConfigured(repo: string): Promise<void> {
    const { runtime } = this.context.attached();
    if (!runtime.engine.state.repos.has(repo)) await this.context.call('repo.configure', { repo, idempotency_key: `github:connect:${repo}` });
  }

  /** Starts following a runtime: makes sure each connected repo exists in OWP, then polls. */
  async attach(runtime: Runtime, admin: Principal): Promise<void> {
    if (admin.kind !== 'maintainer' || !admin.admin) throw new Error('github: attach needs the admin principal');
    this.detach();
    // A cluster's new leader continues from what the previous one saved (a file store has nothing newer).
    await this.context.state.refresh();
    this.context.runtime = runtime;
    this.context.admin = admin;
    for (const repo of this.context.repos()) repo.client.open();
    await this.discover();
    for (const repo of this.context.repos()) await this.ensureConfigured(repo.config.repo);
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
    if (event === 'installation_repositories' || event === 'installation') {
      // Which repos the installation reaches is read back from GitHub, not taken from the payload.
      const id = (payload.installation as { id?: unknown } | undefined)?.id;
      if (!this.app || typeof id !== 'number') return;
      // Uninstalled or suspended: GitHub refuses the installation's tokens from now on, so nothing is
      // asked of it (a refused request here would fail the delivery, and GitHub's redelivery with it).
      // The payload is signed, but only says "stop": it cannot make the coordinator trust anything.
      if (event === 'installation' && (payload.action === 'deleted' || payload.action === 'suspend')) {
        await this.disconnect(id, payload.action === 'deleted' ? 'app_uninstalled' : 'app_suspended');
        return;
      }
      // A token reaches the repositories its installation had when it was minted: mint anew.
      this.app.tokensOf(id).invalidate();
      for (const sync of await this.discover(id)) {
        await this.ensureConfigured(sync.repo.config.repo);
        await sync.poll();
      }
      return;
    }
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
      // A push to the PR (synchronize) moves its head: the wait for checks restarts on the new one.
      if (n !== undefined) await sync.checksChanged(n);
    } else if (event === 'push') {
      await sync.pushed(payload);
    } else if (event === 'check_run' || event === 'check_suite' || event === 'status') {
      await sync.checksChanged();
    }
  }

  /** Resolves when every sync, comment edit and reputation update started so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.syncs.values()].map((s) => s.settled()));
    await this.reputation.settled();
    await this.comments.settled();
  }

  /**
   * Stops following the runtime (a cluster node stopped leading): no more polls, and syncs still
   * running fail with UNAVAILABLE at their next call. attach() starts again.
   */
  detach(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.context.runtime?.off('journal', this.onJournal);
    this.context.runtime = undefined;
  }

  close(): void {
    this.detach();
    for (const repo of this.context.repos()) repo.client.close();
  }
}
