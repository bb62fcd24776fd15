/**
 * GitHub Apps in the GitHub-shaped server, as GitHub documents them: an App authenticates with a
 * JWT it signs with its private key (RS256, `iss` = its id or client id, `exp` at most 10 minutes
 * after `iat`), lists its installations and mints installation access tokens (`ghs_…`, an hour
 * by default) that act as `<slug>[bot]` with the installation's permissions on its repositories.
 * An expired installation token is `401 Bad credentials`. Adding or removing repositories of an
 * installation delivers `installation_repositories`.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { DOCS, GitHubApiError, iso, lower, type FakeApp, type FakeAppSeed, type FakeInstallation, type TokenInfo, type TokenPermissions } from './model.ts';

const JWT_DOCS = 'https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app';
const DEFAULT_APP_PERMISSIONS: TokenPermissions = { issues: 'write', pull_requests: 'read', contents: 'read', checks: 'read', statuses: 'read' };

interface IssuedToken {
  info: TokenInfo;
  expiresAt: number;
}

/** What the Apps need from the rest of the server. */
export interface AppHost {
  /** Every `owner/name` the account owns (an `all` installation sees them). */
  reposOf(account: string): string[];
  /** Delivers an App-level webhook (no repository). */
  deliverAppEvent(event: string, payload: Record<string, unknown>): void;
}

/** What GitHub answers for a suspended installation's token or a token request for it. */
function suspendedError(): GitHubApiError {
  return new GitHubApiError(403, 'This installation has been suspended', { documentation_url: 'https://docs.github.com/rest/apps/apps#suspend-an-app-installation', status: '403' });
}

function jwtError(message: string): GitHubApiError {
  return new GitHubApiError(401, message, { documentation_url: JWT_DOCS });
}

export class Apps {
  readonly apps = new Map<number, FakeApp>();
  readonly installations = new Map<number, FakeInstallation>();
  private readonly tokens = new Map<string, IssuedToken>();
  /** How long a new installation token lives; GitHub's is one hour. */
  tokenTtlMs: number;

  constructor(private readonly host: AppHost, options: { tokenTtlMs?: number } = {}) {
    this.tokenTtlMs = options.tokenTtlMs ?? 3_600_000;
  }

  add(seed: FakeAppSeed): void {
    createPublicKey(seed.publicKey); // a bad key is a test's mistake: fail at seeding
    const app: FakeApp = {
      id: seed.id,
      slug: seed.slug,
      name: seed.name ?? seed.slug,
      owner: seed.owner ?? 'octo-org',
      publicKey: seed.publicKey,
      events: seed.events ?? ['issues', 'issue_comment', 'pull_request', 'push', 'check_run', 'check_suite', 'status'],
      permissions: { ...DEFAULT_APP_PERMISSIONS, ...seed.permissions },
    };
    this.apps.set(app.id, app);
    for (const i of seed.installations ?? []) this.install(app.id, i.account, i.repositories ?? 'all', i.id);
  }

  install(appId: number, account: string, repositories: 'all' | string[], id = 40_000 + this.installations.size + 1): FakeInstallation {
    const installation: FakeInstallation = { id, app_id: appId, account, repositories: repositories === 'all' ? 'all' : new Set(repositories.map(lower)), created_at: iso(Date.now()) };
    this.installations.set(id, installation);
    return installation;
  }

  /** The `<slug>[bot]` login an App's installation tokens act as. */
  botLogin(app: FakeApp): string {
    return `${app.slug}[bot]`;
  }

  /** A JWT's App, or a 401 as GitHub answers it. */
  authenticateJwt(jwt: string): TokenInfo {
    const parts = jwt.split('.');
    if (parts.length !== 3) throw jwtError('A JSON web token could not be decoded');
    const [head, body, signature] = parts as [string, string, string];
    let header: { alg?: string };
    let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw jwtError('A JSON web token could not be decoded');
    }
    const app = [...this.apps.values()].find((a) => String(a.id) === String(claims.iss) || `Iv1.${a.id}` === claims.iss);
    if (header.alg !== 'RS256' || !app) throw jwtError('A JSON web token could not be decoded');
    const ok = verify('RSA-SHA256', Buffer.from(`${head}.${body}`), createPublicKey(app.publicKey), Buffer.from(signature, 'base64url'));
    if (!ok) throw jwtError('A JSON web token could not be decoded');
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || !Number.isInteger(claims.iat) || claims.iat > now + 60) throw jwtError('\'Issued at\' claim (\'iat\') must be an Integer representing the time that the assertion was issued.');
    if (typeof claims.exp !== 'number' || claims.exp <= now) throw jwtError('\'Expiration time\' claim (\'exp\') must be a numeric value representing the future time at which the assertion expires.');
    if (claims.exp - claims.iat > 600) throw jwtError('\'Expiration time\' claim (\'exp\') is too far in the future.');
    return { login: `${app.slug}[bot]`, kind: 'app', appId: app.id, permissions: { issues: 'none', pull_requests: 'none', contents: 'none', checks: 'none', statuses: 'none' }, repos: new Set() };
  }

  /** An installation token's identity; an expired or unknown one is 401 Bad credentials, a suspended installation's 403. */
  authenticateToken(token: string): TokenInfo | undefined {
    const issued = this.tokens.get(token);
    if (!issued) return undefined;
    if (issued.expiresAt <= Date.now()) throw new GitHubApiError(401, 'Bad credentials', { documentation_url: DOCS, status: '401' });
    const installation = this.installations.get(issued.info.installationId ?? -1);
    if (installation?.suspended_at) throw suspendedError();
    return issued.info;
  }

  /**
   * The owner uninstalls the App (GitHub delivers `installation` `deleted`): the installation is
   * gone (404), and every token it issued is revoked (401 Bad credentials).
   */
  uninstall(installationId: number, payloadFor: (installation: FakeInstallation) => Record<string, unknown>): void {
    const installation = this.installations.get(installationId);
    if (!installation) throw new Error(`no installation ${installationId}`);
    const payload = payloadFor(installation);
    this.installations.delete(installationId);
    for (const [token, t] of this.tokens) if (t.info.installationId === installationId) this.tokens.delete(token);
    this.host.deliverAppEvent('installation', { action: 'deleted', ...payload });
  }

  /** The owner suspends (or unsuspends) the installation: `installation` `suspend` / `unsuspend`; while suspended, no token is minted or taken (403). */
  setSuspended(installationId: number, suspended: boolean, by: string, payloadFor: (installation: FakeInstallation) => Record<string, unknown>): void {
    const installation = this.installations.get(installationId);
    if (!installation) throw new Error(`no installation ${installationId}`);
    if (suspended) {
      installation.suspended_at = iso(Date.now());
      installation.suspended_by = by;
    } else {
      delete installation.suspended_at;
      delete installation.suspended_by;
    }
    this.host.deliverAppEvent('installation', { action: suspended ? 'suspend' : 'unsuspend', ...payloadFor(installation) });
  }

  requireApp(who: TokenInfo | null): FakeApp {
    const app = who?.kind === 'app' && who.appId !== undefined ? this.apps.get(who.appId) : undefined;
    if (!app) throw new GitHubApiError(401, 'A JSON web token could not be decoded', { documentation_url: JWT_DOCS });
    return app;
  }

  installationOf(app: FakeApp, id: number): FakeInstallation {
    const installation = this.installations.get(id);
    if (!installation || installation.app_id !== app.id) throw new GitHubApiError(404, 'Not Found', { documentation_url: DOCS, status: '404' });
    return installation;
  }

  /** The `owner/name`s (lower-case) an installation reaches now. */
  reposOfInstallation(installation: FakeInstallation): string[] {
    if (installation.repositories === 'all') return this.host.reposOf(installation.account).map(lower);
    return [...installation.repositories];
  }

  /** The installation of an App that reaches a repository, if any. */
  installationFor(fullName: string): FakeInstallation | undefined {
    return [...this.installations.values()].find((i) => this.reposOfInstallation(i).includes(lower(fullName)));
  }

  /** Mints an installation token (scoped down to some repositories or permissions when asked). */
  mint(app: FakeApp, installation: FakeInstallation, scope: { repositories?: string[]; permissions?: Partial<TokenPermissions> } = {}): { token: string; expiresAt: number; permissions: TokenPermissions; repos: string[] } {
    if (installation.suspended_at) throw suspendedError();
    const reachable = this.reposOfInstallation(installation);
    const repos = scope.repositories ? scope.repositories.map((r) => lower(r.includes('/') ? r : `${installation.account}/${r}`)) : reachable;
    if (repos.some((r) => !reachable.includes(r))) throw new GitHubApiError(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.', { documentation_url: DOCS, status: '422' });
    const permissions: TokenPermissions = { ...app.permissions };
    if (scope.permissions) {
      for (const [k, v] of Object.entries(scope.permissions) as Array<[keyof TokenPermissions, TokenPermissions[keyof TokenPermissions]]>) {
        const granted = app.permissions[k];
        if (v === 'write' && granted !== 'write') throw new GitHubApiError(422, `The permissions requested are not granted to this installation.`, { documentation_url: DOCS, status: '422' });
        permissions[k] = v;
      }
    }
    const token = `ghs_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
    const expiresAt = Date.now() + this.tokenTtlMs;
    this.tokens.set(token, { info: { login: this.botLogin(app), kind: 'installation', appId: app.id, installationId: installation.id, permissions, repos: new Set(repos) }, expiresAt });
    return { token, expiresAt, permissions, repos };
  }

  /** Every installation token issued so far expires now (an installation token expiring mid-run). */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = Math.min(t.expiresAt, Date.now());
  }

  /** Adds repositories to (or removes them from) a selected-repositories installation, delivering installation_repositories. */
  changeRepositories(installationId: number, change: { add?: string[]; remove?: string[] }, payloadFor: (installation: FakeInstallation, added: string[], removed: string[]) => Record<string, unknown>): void {
    const installation = this.installations.get(installationId);
    if (!installation) throw new Error(`no installation ${installationId}`);
    if (installation.repositories === 'all') installation.repositories = new Set(this.reposOfInstallation(installation));
    const set = installation.repositories;
    const added = (change.add ?? []).map(lower).filter((r) => !set.has(r));
    const removed = (change.remove ?? []).map(lower).filter((r) => set.has(r));
    for (const r of added) set.add(r);
    for (const r of removed) set.delete(r);
    // Tokens already issued reach exactly what they reached (GitHub scopes a token when it is minted), minus what was removed.
    for (const t of this.tokens.values()) if (t.info.installationId === installationId) for (const r of removed) t.info.repos?.delete(r);
    if (added.length + removed.length > 0) this.host.deliverAppEvent('installation_repositories', payloadFor(installation, added, removed));
  }
}
