/**
 * The coordinator as a GitHub App (`@octokit/auth-app`): the App authenticates with JWTs signed
 * by its private key; it learns its own identity (`GET /app`: its slug, so its comments are
 * written by `<slug>[bot]`), its installations (`GET /app/installations`) and their repositories
 * (`GET /installation/repositories`), and mints installation access tokens. GitHub's tokens live
 * an hour: a token is refreshed when a quarter of its life (at most 5 minutes) is left, using the
 * `expires_at` GitHub answered — not a fixed guess — and at once after a 401.
 */
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { GitHubClient, type GitHubClientOptions } from './client.ts';
import type { TokenSource } from './octokit.ts';
import type { Logger } from '../log.ts';

export interface AppCredentials {
  apiUrl: string;
  appId: number;
  /** The App's private key (PEM). Read from a file or an environment variable; never logged or journaled. */
  privateKey: string;
  log?: Logger;
  now?: () => number;
  /** Passed on to each installation's REST client (rate-limit and write pacing). */
  client?: Pick<GitHubClientOptions, 'maxInlineWaitMs' | 'writeSpacingMs'>;
}

export interface AppIdentity {
  id: number;
  slug: string;
  /** The login its installation tokens write as. */
  login: string;
}

export interface Installation {
  id: number;
  account: string;
  /** Set while the account's owner has suspended it: GitHub then refuses its tokens (403). */
  suspended_at?: string;
  suspended_by?: string;
}

const MAX_REFRESH_MARGIN_MS = 5 * 60_000;

/** One installation's tokens: minted on first use, refreshed before expiry or after a 401. */
export class InstallationTokens implements TokenSource {
  private current: { token: string; expiresAt: number; mintedAt: number } | undefined;
  private minting: Promise<string> | undefined;
  /** Tokens minted so far (tests read it to see a refresh happened). */
  minted = 0;

  constructor(
    private readonly app: GitHubApp,
    readonly installationId: number,
    private readonly now: () => number,
  ) {}

  async header(): Promise<string> {
    return `token ${await this.token()}`;
  }

  invalidate(): boolean {
    this.current = undefined;
    return true;
  }

  async token(): Promise<string> {
    const t = this.current;
    if (t) {
      const margin = Math.min(MAX_REFRESH_MARGIN_MS, (t.expiresAt - t.mintedAt) / 4);
      if (t.expiresAt - this.now() > margin) return t.token;
    }
    this.minting ??= this.mint().finally(() => {
      this.minting = undefined;
    });
    return this.minting;
  }

  private async mint(): Promise<string> {
    const auth = await this.app.mintInstallationToken(this.installationId);
    this.minted += 1;
    this.current = { token: auth.token, expiresAt: Date.parse(auth.expiresAt), mintedAt: this.now() };
    return auth.token;
  }
}

export class GitHubApp {
  /** Speaks as the App (JWT) for /app endpoints and to mint installation tokens. */
  readonly octokit: Octokit;
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly tokens = new Map<number, InstallationTokens>();
  private readonly clients = new Map<number, GitHubClient>();
  private identity: AppIdentity | undefined;
  private readonly now: () => number;

  constructor(private readonly credentials: AppCredentials) {
    this.now = credentials.now ?? Date.now;
    this.octokit = new Octokit({
      baseUrl: credentials.apiUrl.replace(/\/$/, ''),
      userAgent: 'owp-coordinator',
      authStrategy: createAppAuth,
      auth: { appId: credentials.appId, privateKey: credentials.privateKey },
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    this.auth = createAppAuth({ appId: credentials.appId, privateKey: credentials.privateKey, request: this.octokit.request, log: { warn: () => undefined } });
  }

  /** Who the App is (GET /app), asked once. */
  async whoAmI(): Promise<AppIdentity> {
    if (!this.identity) {
      const { data } = await this.octokit.request('GET /app');
      const app = data as { id: number; slug: string };
      this.identity = { id: app.id, slug: app.slug, login: `${app.slug}[bot]` };
    }
    return this.identity;
  }

  async installations(): Promise<Installation[]> {
    const out: Installation[] = [];
    for (let page = 1; page <= 50; page += 1) {
      const { data } = await this.octokit.request('GET /app/installations', { per_page: 100, page });
      const list = data as Array<{ id: number; account: { login: string } | null; suspended_at?: string | null; suspended_by?: { login: string } | null }>;
      out.push(...list.map((i) => ({
        id: i.id,
        account: i.account?.login ?? '',
        ...(i.suspended_at ? { suspended_at: i.suspended_at } : {}),
        ...(i.suspended_by?.login ? { suspended_by: i.suspended_by.login } : {}),
      })));
      if (list.length < 100) break;
    }
    return out;
  }

  /** A fresh installation token from GitHub (`POST /app/installations/{id}/access_tokens`). */
  async mintInstallationToken(installationId: number): Promise<{ token: string; expiresAt: string }> {
    const auth = await this.auth({ type: 'installation', installationId, refresh: true });
    return { token: auth.token, expiresAt: auth.expiresAt };
  }

  tokensOf(installationId: number): InstallationTokens {
    let tokens = this.tokens.get(installationId);
    if (!tokens) this.tokens.set(installationId, (tokens = new InstallationTokens(this, installationId, this.now)));
    return tokens;
  }

  /** The REST client acting as the installation (`<slug>[bot]`); one per installation, so ETags and rate-limit pauses are shared. */
  async clientOf(installationId: number): Promise<GitHubClient> {
    let client = this.clients.get(installationId);
    if (!client) {
      const { login } = await this.whoAmI();
      client = new GitHubClient({
        apiUrl: this.credentials.apiUrl,
        auth: this.tokensOf(installationId),
        login,
        ...(this.credentials.log ? { log: this.credentials.log } : {}),
        ...(this.credentials.now ? { now: this.credentials.now } : {}),
        ...this.credentials.client,
      });
      this.clients.set(installationId, client);
    }
    return client;
  }

  /** The repositories (`owner/name`) an installation reaches now. */
  async repositoriesOf(installationId: number): Promise<string[]> {
    const client = await this.clientOf(installationId);
    const out: string[] = [];
    for (let page = 1; page <= 50; page += 1) {
      const { data } = await client.octokit.request('GET /installation/repositories', { per_page: 100, page });
      const list = (data as { repositories: Array<{ full_name: string }> }).repositories;
      out.push(...list.map((r) => r.full_name));
      if (list.length < 100) break;
    }
    return out;
  }
}
