/**
 * The coordinator's Octokit: `@octokit/rest` with `@octokit/plugin-retry` (transient 5xx and
 * network errors, a few times with backoff) and `@octokit/plugin-throttling` (GitHub's primary
 * and secondary rate limits: it reads `x-ratelimit-reset` and `retry-after`, and spaces out
 * writes as GitHub asks). Retry leaves 429 to throttling, as the two plugins' docs say.
 *
 * Around them, one outer hook per client:
 * - **a rate-limit pause**: a wait GitHub asks for that is short is waited inline (the plugin
 *   retries); a long one (a primary limit resetting in 20 minutes) is not retried on every poll:
 *   the client stops calling GitHub until the reset, says so once in the log, and every call
 *   until then fails at once with `GitHubRateLimitError` (no request is sent);
 * - **auth**: a personal access token, or a GitHub App installation token minted and refreshed
 *   before it expires (app-auth.ts); a 401 on an installation token refreshes it and sends the
 *   request once more (a token can expire early, or be revoked).
 */
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import type { Logger } from '../log.ts';

const ThrottledOctokit = Octokit.plugin(retry, throttling);
export type GitHubOctokit = InstanceType<typeof ThrottledOctokit>;

/** Where a client's credentials come from. */
export interface TokenSource {
  /** The value of the Authorization header. */
  header(): Promise<string>;
  /** Called after a 401: the next header() must bring a fresh credential; false when there is none to get (a static token). */
  invalidate(): boolean;
}

export class StaticToken implements TokenSource {
  constructor(private readonly token: string) {}
  async header(): Promise<string> {
    return `token ${this.token}`;
  }
  invalidate(): boolean {
    return false;
  }
}

export class GitHubRateLimitError extends Error {
  constructor(readonly waitMs: number) {
    super(`GitHub's rate limit is used up for ${Math.ceil(waitMs / 1000)} s more; the coordinator waits for the reset before calling GitHub again`);
  }
}

export interface OctokitOptions {
  /** e.g. https://api.github.com or https://ghe.example.com/api/v3 */
  apiUrl: string;
  auth: TokenSource;
  log?: Logger;
  /** Longest wait for a rate limit done inside one request; longer ones pause the client until the reset. Default 60 s. */
  maxInlineWaitMs?: number;
  /**
   * Least time between two writes (POST, PATCH, PUT, DELETE) of this client. Default: the
   * plugin's (1 s, 3 s for writes that notify people, such as comments), which keeps clear of
   * GitHub's secondary limits. Tests set 0.
   */
  writeSpacingMs?: number;
  /** Retries of a transient failure (5xx, network); default 2. */
  retries?: number;
  now?: () => number;
  /** The client's current signal, aborted when it closes: requests in flight are cancelled and none is sent (or retried) until it opens again. */
  signal?: () => AbortSignal;
}

interface HttpError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/** GitHub's advice when a limit says no more: "wait for at least one minute before retrying". */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * How long GitHub asks to wait, for a 403/429 that is a rate limit the throttling plugin leaves
 * alone; undefined when it is not one (a 403 for a missing permission, or one the plugin handled).
 * GitHub's docs ("Rate limits for the REST API", exceeding them): a secondary limit is "a 403 or
 * 429 response"; honour `retry-after` when present; else, when `x-ratelimit-remaining` is 0, wait
 * until `x-ratelimit-reset` (the plugin does that one); else wait at least a minute.
 */
export function unrecognizedRateLimitWaitMs(error: HttpError): number | undefined {
  const status = error.status;
  if (status !== 403 && status !== 429) return undefined;
  const headers = error.response?.headers ?? {};
  const message = String(error.message ?? '');
  // What the plugin handles itself (and then pauses or retries through `decide`).
  if (/\bsecondary rate\b/i.test(message) || String(headers['x-ratelimit-remaining']) === '0') return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter * 1000;
  // A 429 is always a limit; a 403 only when GitHub says so (otherwise it is a permission refusal).
  if (status === 429 || /rate limit|abuse detection|too many requests/i.test(message)) return DEFAULT_RATE_LIMIT_WAIT_MS;
  return undefined;
}

/** An Octokit for one set of credentials, with the rate-limit pause and the auth hook around the plugins. */
export function createOctokit(options: OctokitOptions): GitHubOctokit {
  const now = options.now ?? Date.now;
  const maxInlineMs = options.maxInlineWaitMs ?? 60_000;
  const log = options.log;
  let pausedUntil = 0;
  let lastPauseLogged = 0;

  /** The plugin asks whether to wait `retryAfter` seconds and retry; a long wait pauses the client instead. */
  const decide = (kind: 'primary' | 'secondary') => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
    const waitMs = Math.max(0, retryAfter) * 1000;
    if (waitMs <= maxInlineMs && retryCount < 3) {
      log?.info({ request: `${request.method} ${request.url}`, wait_s: retryAfter, limit: kind }, `rate limited (${kind}) on ${request.method} ${request.url}; retrying in ${retryAfter} s as GitHub asks`);
      return true;
    }
    pausedUntil = Math.max(pausedUntil, now() + waitMs);
    return false;
  };

  const octokit = new ThrottledOctokit({
    baseUrl: options.apiUrl.replace(/\/$/, ''),
    userAgent: 'owp-coordinator',
    // Octokit logs every failed request; the callers decide what is worth a line.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    request: {
      // Every request ends with the client: an aborted fetch is not retried by either plugin.
      fetch: async (url: string | URL, init: RequestInit = {}): Promise<Response> => {
        const stop = options.signal?.();
        if (!stop) return fetch(url, init);
        // An Error named AbortError (not the DOMException, which loggers cannot serialize): Octokit
        // passes it through unwrapped, and neither plugin retries it.
        const closed = (): Error => Object.assign(new Error('the GitHub client was closed'), { name: 'AbortError' });
        if (stop.aborted) throw closed();
        try {
          return await fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, stop]) : stop });
        } catch (error) {
          throw stop.aborted ? closed() : error;
        }
      },
    },
    retry: { doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451], retries: options.retries ?? 2 },
    throttle: {
      onRateLimit: decide('primary'),
      onSecondaryRateLimit: decide('secondary'),
      // This client's own write queues (the plugin's defaults are one queue for the whole
      // process): a second between writes, three between writes that notify people (comments).
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeSpacingMs ?? 1000 }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeSpacingMs ?? 3000 }),
    },
  });

  octokit.hook.wrap('request', async (request, endpoint) => {
    const left = pausedUntil - now();
    if (left > 0) throw new GitHubRateLimitError(left);
    const send = async (): Promise<Awaited<ReturnType<typeof request>>> => {
      endpoint.headers.authorization = await options.auth.header();
      return request(endpoint);
    };
    const sendAuthed = async (): Promise<Awaited<ReturnType<typeof request>>> => {
      try {
        return await send();
      } catch (error) {
        // An installation token GitHub no longer takes: mint a new one and try once more.
        if ((error as HttpError).status === 401 && options.auth.invalidate()) {
          log?.info({ request: `${endpoint.method} ${endpoint.url}` }, 'GitHub refused the installation token (401); minting a new one');
          return await send();
        }
        throw error;
      }
    };
    try {
      for (let retryCount = 0; ; retryCount += 1) {
        try {
          return await sendAuthed();
        } catch (error) {
          // A rate limit the throttling plugin does not recognize (it matches the words "secondary
          // rate" or X-RateLimit-Remaining: 0): GitHub only promises a 403 or 429 with these headers.
          const waitMs = unrecognizedRateLimitWaitMs(error as HttpError);
          if (waitMs === undefined) throw error;
          if (!decide('secondary')(waitMs / 1000, { method: endpoint.method, url: endpoint.url }, octokit, retryCount)) throw error;
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
      }
    } catch (error) {
      const waitMs = pausedUntil - now();
      if (waitMs > 0 && [403, 429].includes((error as HttpError).status ?? 0)) {
        // Said once per pause, not on every poll that finds the client paused.
        if (pausedUntil !== lastPauseLogged) {
          lastPauseLogged = pausedUntil;
          log?.warn({ until: new Date(pausedUntil).toISOString(), wait_s: Math.ceil(waitMs / 1000) }, `GitHub's rate limit is used up until ${new Date(pausedUntil).toISOString()}; no GitHub calls until then (polls skip, PR reports get UNAVAILABLE)`);
        }
        throw new GitHubRateLimitError(waitMs);
      }
      throw error;
    }
  });
  return octokit;
}
