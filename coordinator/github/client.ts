/**
 * The coordinator's GitHub REST client: Octokit with the API base URL from config (GitHub
 * Enterprise included), conditional requests (ETags: a 304 costs no rate limit), Link-header
 * pagination, and rate-limit answers handled by waiting until GitHub says to retry
 * (Retry-After, else X-RateLimit-Reset) instead of failing. Only the calls OWP needs, all
 * within a token that reads issues and pull requests and writes issue comments.
 */
import { Octokit } from '@octokit/rest';
import type { Logger } from '../log.ts';

export interface GitHubClientOptions {
  /** e.g. https://api.github.com or https://ghe.example.com/api/v3 */
  apiUrl: string;
  token: string;
  /** Longest single wait for a rate limit before giving up with GitHubRateLimitError. Default 15 min. */
  maxRateLimitWaitMs?: number;
  /** Injected for tests that must not really sleep; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  log?: Logger;
}

/** The parts of GitHub's JSON that OWP reads. */
export interface GitHubUser {
  login: string;
}
export interface GitHubLabel {
  name?: string;
}
export interface GitHubIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  locked: boolean;
  html_url: string;
  labels: Array<GitHubLabel | string>;
  assignees?: GitHubUser[] | null;
  assignee?: GitHubUser | null;
  user: GitHubUser | null;
  author_association?: string;
  pull_request?: unknown;
  updated_at: string;
}
export interface GitHubPull {
  number: number;
  title: string;
  body: string | null;
  state: string;
  html_url: string;
  merged?: boolean;
  merged_at: string | null;
  user: GitHubUser | null;
  head: { ref: string; sha: string; repo?: { full_name: string } | null };
  base: { ref: string; repo?: { full_name: string } | null };
  draft?: boolean;
}
export interface GitHubCommit {
  sha: string;
  commit: { verification?: { verified: boolean; reason: string } | null };
}
export interface GitHubComment {
  id: number;
  body?: string;
  user: GitHubUser | null;
  html_url: string;
}

export class GitHubRateLimitError extends Error {
  constructor(readonly waitMs: number) {
    super(`GitHub's rate limit resets in ${Math.ceil(waitMs / 1000)} s, longer than this client waits`);
  }
}

interface HttpError {
  status?: number;
  response?: { headers?: Record<string, string | number | undefined> };
  message: string;
}

interface Cached {
  etag: string;
  data: unknown;
  link: string | undefined;
}

export interface Conditional<T> {
  data: T;
  /** False when GitHub answered 304 Not Modified (data is the cached copy). */
  changed: boolean;
}

const CACHE_ENTRIES = 2000;

export class GitHubClient {
  readonly octokit: Octokit;
  private readonly cache = new Map<string, Cached>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxWaitMs: number;
  private readonly log: Logger | undefined;
  private login: Promise<string | null> | undefined;

  constructor(options: GitHubClientOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxWaitMs = options.maxRateLimitWaitMs ?? 15 * 60_000;
    this.log = options.log;
    this.octokit = new Octokit({
      auth: options.token,
      baseUrl: options.apiUrl.replace(/\/$/, ''),
      userAgent: 'owp-coordinator',
      // Octokit logs every failed request; the callers decide what is worth a line.
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    this.octokit.hook.wrap('request', async (request, options) => this.withRateLimitWaits(async () => request(options), `${options.method} ${options.url}`));
  }

  /** Runs a request, waiting and retrying while GitHub answers with a rate limit; retries brief 5xx too. */
  private async withRateLimitWaits<T>(send: () => Promise<T>, what: string): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        const e = error as HttpError;
        const wait = rateLimitWaitMs(e);
        if (wait !== undefined && attempt < 5) {
          if (wait > this.maxWaitMs) throw new GitHubRateLimitError(wait);
          this.log?.warn({ request: what, wait_s: Math.ceil(wait / 1000) }, `rate limited on ${what}; waiting ${Math.ceil(wait / 1000)} s as GitHub asks`);
          await this.sleep(wait);
          continue;
        }
        if (e.status !== undefined && [502, 503, 504].includes(e.status) && attempt < 2) {
          await this.sleep(500 * (attempt + 1));
          continue;
        }
        throw error;
      }
    }
  }

  /** A GET that sends If-None-Match for a URL seen before and serves the cached body on 304. */
  async getConditional<T>(route: string, params: Record<string, unknown>): Promise<Conditional<T> & { link: string | undefined }> {
    const endpoint = this.octokit.request.endpoint(route, params);
    const key = endpoint.url;
    const cached = this.cache.get(key);
    try {
      const response = await this.octokit.request(route, { ...params, headers: cached ? { 'if-none-match': cached.etag } : {} });
      const etag = response.headers.etag;
      const link = response.headers.link;
      if (etag) this.remember(key, { etag, data: response.data, link });
      return { data: response.data as T, changed: true, link };
    } catch (error) {
      if ((error as HttpError).status === 304 && cached) {
        this.cache.delete(key);
        this.cache.set(key, cached);
        return { data: cached.data as T, changed: false, link: cached.link };
      }
      throw error;
    }
  }

  private remember(key: string, value: Cached): void {
    this.cache.delete(key);
    this.cache.set(key, value);
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** Every page of a list, each asked conditionally; `changed` is false only when every page answered 304. */
  async listAll<T>(route: string, params: Record<string, unknown>): Promise<Conditional<T[]>> {
    const items: T[] = [];
    let page = 1;
    let changed = false;
    for (;;) {
      const result = await this.getConditional<T[]>(route, { ...params, per_page: 100, page });
      changed ||= result.changed;
      items.push(...result.data);
      if (!result.link || !/rel="next"/.test(result.link) || page >= 100) break;
      page += 1;
    }
    return { data: items, changed };
  }

  openIssues(owner: string, repo: string, label: string): Promise<Conditional<GitHubIssue[]>> {
    return this.listAll<GitHubIssue>('GET /repos/{owner}/{repo}/issues', { owner, repo, state: 'open', labels: label, sort: 'updated', direction: 'desc' });
  }

  openPulls(owner: string, repo: string): Promise<Conditional<GitHubPull[]>> {
    return this.listAll<GitHubPull>('GET /repos/{owner}/{repo}/pulls', { owner, repo, state: 'open', sort: 'updated', direction: 'desc' });
  }

  /** An issue, or null when GitHub says it does not exist (404) or is gone (410). */
  async issue(owner: string, repo: string, number: number): Promise<GitHubIssue | null> {
    try {
      return (await this.getConditional<GitHubIssue>('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner, repo, issue_number: number })).data;
    } catch (error) {
      if ([404, 410].includes((error as HttpError).status ?? 0)) return null;
      throw error;
    }
  }

  /** A pull request, or null when there is none with this number. */
  async pull(owner: string, repo: string, number: number): Promise<GitHubPull | null> {
    try {
      return (await this.getConditional<GitHubPull>('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner, repo, pull_number: number })).data;
    } catch (error) {
      if ((error as HttpError).status === 404) return null;
      throw error;
    }
  }

  async pullCommits(owner: string, repo: string, number: number): Promise<GitHubCommit[]> {
    return (await this.listAll<GitHubCommit>('GET /repos/{owner}/{repo}/pulls/{pull_number}/commits', { owner, repo, pull_number: number })).data;
  }

  async comments(owner: string, repo: string, number: number): Promise<GitHubComment[]> {
    return (await this.listAll<GitHubComment>('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: number })).data;
  }

  async createComment(owner: string, repo: string, number: number, body: string): Promise<GitHubComment> {
    return (await this.octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: number, body })).data as GitHubComment;
  }

  /** Edits a comment; null when it no longer exists (someone deleted it). */
  async updateComment(owner: string, repo: string, commentId: number, body: string): Promise<GitHubComment | null> {
    try {
      return (await this.octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { owner, repo, comment_id: commentId, body })).data as GitHubComment;
    } catch (error) {
      if ((error as HttpError).status === 404) return null;
      throw error;
    }
  }

  /** The token's own login (null for tokens that have no user, such as GitHub App installation tokens). */
  viewerLogin(): Promise<string | null> {
    this.login ??= this.octokit
      .request('GET /user')
      .then((r) => (r.data as GitHubUser).login)
      .catch(() => {
        this.login = undefined;
        return null;
      });
    return this.login;
  }
}

/** How long GitHub asks us to wait, or undefined when the error is not a rate limit. */
export function rateLimitWaitMs(error: HttpError, now = Date.now()): number | undefined {
  if (error.status !== 403 && error.status !== 429) return undefined;
  const headers = error.response?.headers ?? {};
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined && Number.isFinite(Number(retryAfter))) return Math.max(0, Number(retryAfter) * 1000);
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    // A second of margin: GitHub's reset is in whole seconds and clocks drift.
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - now) + 1000 : 60_000;
  }
  // A secondary limit without Retry-After: GitHub says to wait at least a minute.
  if (/secondary rate limit/i.test(error.message)) return 60_000;
  return undefined;
}
