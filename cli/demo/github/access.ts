/**
 * Who is asking and what they may do, as GitHub decides it: tokens (`token X` or `Bearer X`;
 * a bad one is 401 `Bad credentials`), fine-grained permissions (403 `Resource not accessible by
 * personal access token`), and the primary and secondary rate limits with their X-RateLimit-*
 * headers (403 when used up, with Retry-After for a secondary limit).
 */
import type { Apps } from './apps.ts';
import { DOCS, GitHubApiError, lower, type FakeTokenSeed, type TokenInfo, type TokenPermissions } from './model.ts';

const RATE_LIMIT_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

const SECONDARY_MESSAGE = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';

interface SecondaryLimit {
  count: number;
  retryAfterSeconds: number | null;
  status: 403 | 429;
  message: string;
}

export class Access {
  readonly tokens = new Map<string, TokenInfo>();
  private readonly used = new Map<string, { windowStart: number; used: number }>();
  private exhaustedUntil = 0;
  private secondary: SecondaryLimit = { count: 0, retryAfterSeconds: 0, status: 403, message: SECONDARY_MESSAGE };

  constructor(
    /** Requests per token per hour (anonymous requests get 60). */
    readonly rateLimitPerHour: number,
    /** GitHub's numeric user id of a login, for messages that name it. */
    private readonly userId: (login: string) => number,
  ) {}

  addToken(seed: FakeTokenSeed): void {
    this.userId(seed.login);
    this.tokens.set(seed.token, {
      login: seed.login,
      permissions: { issues: 'write', pull_requests: 'write', contents: 'write', checks: 'write', statuses: 'write', ...seed.permissions },
      repos: seed.repos ? new Set(seed.repos.map(lower)) : null,
    });
  }

  /** GitHub Apps: their JWTs and installation tokens (set by the state). */
  apps: Apps | undefined;

  /** The caller, null when anonymous; a token GitHub does not know (or an expired installation token) is 401. */
  authenticate(header: string | undefined): TokenInfo | null {
    if (header === undefined) return null;
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
    const credential = match?.[1];
    // A JWT (three base64url parts) is an App speaking for itself.
    if (credential && this.apps && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(credential)) return this.apps.authenticateJwt(credential);
    const info = credential ? (this.tokens.get(credential) ?? this.apps?.authenticateToken(credential)) : undefined;
    if (!info) throw new GitHubApiError(401, 'Bad credentials', { documentation_url: DOCS, status: '401' });
    return info;
  }

  requirePermission(who: TokenInfo | null, kind: keyof TokenPermissions, level: 'read' | 'write'): void {
    if (!who) {
      if (level === 'write') throw new GitHubApiError(401, 'Requires authentication', { documentation_url: DOCS });
      return;
    }
    const have = who.permissions[kind];
    if (have === 'write' || (have === 'read' && level === 'read')) return;
    throw new GitHubApiError(403, `Resource not accessible by ${who.kind === 'installation' || who.kind === 'app' ? 'integration' : 'personal access token'}`, { documentation_url: DOCS, status: '403' });
  }

  /** The primary rate limit is used up until `resetInMs` from now: requests get 403 with X-RateLimit-Remaining 0. */
  exhaustRateLimit(resetInMs: number): void {
    this.exhaustedUntil = Date.now() + resetInMs;
  }

  /**
   * The next `count` requests hit a secondary rate limit: 403 with Retry-After and GitHub's usual
   * wording by default. GitHub's docs promise only "a 403 or 429 response": `status`, `message`
   * (an older "abuse detection" wording, or a bare "Too many requests") and a missing Retry-After
   * (`retryAfterSeconds: null`: the client should wait at least a minute) vary it.
   */
  secondaryRateLimit(count: number, retryAfterSeconds: number | null = 1, shape: { status?: 403 | 429; message?: string } = {}): void {
    this.secondary = { count, retryAfterSeconds, status: shape.status ?? 403, message: shape.message ?? SECONDARY_MESSAGE };
  }

  /** Counts a request against the caller's rate limit (when `count`); throws 403 when it is exhausted. */
  rateLimit(who: TokenInfo | null, ip: string, count: boolean): Record<string, string> {
    const key = who ? `login:${who.login}` : `ip:${ip}`;
    const limit = who ? this.rateLimitPerHour : 60;
    const now = Date.now();
    let window = this.used.get(key);
    if (!window || now - window.windowStart >= 3_600_000) this.used.set(key, (window = { windowStart: now, used: 0 }));
    const exhausted = this.exhaustedUntil > now;
    const reset = Math.ceil((exhausted ? this.exhaustedUntil : window.windowStart + 3_600_000) / 1000);
    if (exhausted || window.used >= limit) {
      const headers = { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset), 'x-ratelimit-used': String(limit), 'x-ratelimit-resource': 'core' };
      throw new GitHubApiError(403, `API rate limit exceeded for ${who ? `user ID ${this.userId(who.login)}` : ip}.`, { documentation_url: RATE_LIMIT_DOCS }, headers);
    }
    if (this.secondary.count > 0) {
      this.secondary.count -= 1;
      const { status, message, retryAfterSeconds } = this.secondary;
      throw new GitHubApiError(status, message, { documentation_url: `${RATE_LIMIT_DOCS}#about-secondary-rate-limits` }, retryAfterSeconds === null ? {} : { 'retry-after': String(retryAfterSeconds) });
    }
    if (count) window.used += 1;
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(limit - window.used),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-used': String(window.used),
      'x-ratelimit-resource': 'core',
    };
  }
}
