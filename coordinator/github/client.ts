/**
 * The coordinator's GitHub REST calls: only what OWP needs (issues and pull requests read, issue
 * comments written, the repo's files, CI checks and statuses read), on an Octokit with the
 * retry and throttling plugins and the rate-limit pause (octokit.ts). Reads that are polled are
 * conditional (ETags: a 304 costs no rate limit) and follow Link pagination.
 */
import { createOctokit, GitHubRateLimitError, StaticToken, type GitHubOctokit, type TokenSource } from './octokit.ts';
import type { Logger } from '../log.ts';

export { GitHubRateLimitError };

export interface GitHubClientOptions {
  /** e.g. https://api.github.com or https://ghe.example.com/api/v3 */
  apiUrl: string;
  /** A personal access token, or where an App installation's tokens come from. */
  token?: string;
  auth?: TokenSource;
  /** The login this client acts as when it is known without asking (an App's `<slug>[bot]`). */
  login?: string;
  /** Longest rate-limit wait done inside a request; longer ones pause the client until the reset. Default 60 s. */
  maxInlineWaitMs?: number;
  /** Least time between two writes (default 1 s, as GitHub asks). */
  writeSpacingMs?: number;
  log?: Logger;
  now?: () => number;
}

/** The parts of GitHub's JSON that OWP reads. */
export interface GitHubUser {
  login: string;
  /** `User`, `Bot` or `Organization`. */
  type?: string;
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
export interface GitHubRepoRef {
  full_name: string;
  fork?: boolean;
  owner?: { login: string };
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
  head: { ref: string; sha: string; repo?: GitHubRepoRef | null };
  base: { ref: string; repo?: { full_name: string } | null };
  draft?: boolean;
}
export interface GitHubPullFile {
  filename: string;
  status: string;
  previous_filename?: string;
}
export interface GitHubCommit {
  sha: string;
  commit: { verification?: { verified: boolean; reason: string } | null };
}
export interface GitHubCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  details_url?: string | null;
  html_url?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
}
export interface GitHubStatus {
  id: number;
  context: string;
  state: string;
  target_url?: string | null;
  updated_at?: string;
}
export interface GitHubCombinedStatus {
  state: string;
  sha: string;
  statuses: GitHubStatus[];
}
export interface GitHubFile {
  type: string;
  path: string;
  sha: string;
  encoding?: string;
  content?: string;
}
export interface GitHubBranch {
  name: string;
  commit: { sha: string };
}
export interface GitHubComment {
  id: number;
  body?: string;
  user: GitHubUser | null;
  html_url: string;
  /** The issue's (or PR's) API URL, ending in /issues/{number}: the repo-wide list names no number. */
  issue_url?: string;
  created_at?: string;
  updated_at?: string;
}

interface HttpError {
  status?: number;
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
  readonly octokit: GitHubOctokit;
  private readonly cache = new Map<string, Cached>();
  private readonly knownLogin: string | undefined;
  private closing = new AbortController();
  private login: Promise<string | null> | undefined;

  constructor(options: GitHubClientOptions) {
    const auth = options.auth ?? (options.token ? new StaticToken(options.token) : undefined);
    if (!auth) throw new Error('GitHubClient needs a token or an auth source');
    this.knownLogin = options.login;
    this.octokit = createOctokit({
      apiUrl: options.apiUrl,
      auth,
      ...(options.log ? { log: options.log } : {}),
      ...(options.maxInlineWaitMs !== undefined ? { maxInlineWaitMs: options.maxInlineWaitMs } : {}),
      ...(options.writeSpacingMs !== undefined ? { writeSpacingMs: options.writeSpacingMs } : {}),
      ...(options.now ? { now: options.now } : {}),
      signal: () => this.closing.signal,
    });
  }

  /** Cancels the requests in flight; later calls fail at once until open() (the integration is shutting down). */
  close(): void {
    // No reason: fetch then fails with an AbortError, which neither plugin retries.
    this.closing.abort();
  }

  /** Sends requests again after close() (an integration attached anew). */
  open(): void {
    if (this.closing.signal.aborted) this.closing = new AbortController();
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

  /** A user's role on the repo (`role_name`: read, triage, write, maintain, admin, or a custom role). */
  async collaboratorRole(owner: string, repo: string, username: string): Promise<string> {
    const { data } = await this.getConditional<{ role_name?: string; permission?: string }>('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { owner, repo, username });
    return data.role_name ?? data.permission ?? 'none';
  }

  /** The files a PR changes (paginated; GitHub lists at most 3000). */
  async pullFiles(owner: string, repo: string, number: number): Promise<GitHubPullFile[]> {
    return (await this.listAll<GitHubPullFile>('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', { owner, repo, pull_number: number })).data;
  }

  async comments(owner: string, repo: string, number: number): Promise<GitHubComment[]> {
    return (await this.listAll<GitHubComment>('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: number })).data;
  }

  /**
   * Every comment in the repo updated at or after `since` (ISO 8601), oldest update first, all
   * pages, each asked conditionally: with the same `since` an unchanged repo costs 304s only.
   */
  repoComments(owner: string, repo: string, since: string): Promise<Conditional<GitHubComment[]>> {
    return this.listAll<GitHubComment>('GET /repos/{owner}/{repo}/issues/comments', { owner, repo, sort: 'updated', direction: 'asc', since });
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

  /**
   * The login this client writes as: an App's `<slug>[bot]`, else the token's user (GET /user);
   * null when it cannot be learned now (asked again next time).
   */
  viewerLogin(): Promise<string | null> {
    if (this.knownLogin) return Promise.resolve(this.knownLogin);
    this.login ??= this.octokit
      .request('GET /user')
      .then((r) => (r.data as GitHubUser).login)
      .catch(() => {
        this.login = undefined;
        return null;
      });
    return this.login;
  }

  /** The repository's default branch (conditional). */
  async defaultBranch(owner: string, repo: string): Promise<string> {
    return (await this.getConditional<{ default_branch: string }>('GET /repos/{owner}/{repo}', { owner, repo })).data.default_branch;
  }

  /** The head commit of a branch (conditional: a 304 when it did not move). */
  async branchHead(owner: string, repo: string, branch: string): Promise<Conditional<string>> {
    const r = await this.getConditional<GitHubBranch>('GET /repos/{owner}/{repo}/branches/{branch}', { owner, repo, branch });
    return { data: r.data.commit.sha, changed: r.changed };
  }

  /** A file's text at a ref, or undefined when there is none (404); conditional like every polled read. */
  async fileText(owner: string, repo: string, path: string, ref: string): Promise<string | undefined> {
    try {
      const r = await this.getConditional<GitHubFile | GitHubFile[]>('GET /repos/{owner}/{repo}/contents/{path}', { owner, repo, path, ref });
      const file = r.data;
      if (Array.isArray(file) || file.type !== 'file') return undefined;
      if (file.encoding !== 'base64' || file.content === undefined) throw new Error(`GitHub answered ${path} without base64 content (encoding ${file.encoding ?? 'none'})`);
      return Buffer.from(file.content, 'base64').toString('utf8');
    } catch (error) {
      if ((error as HttpError).status === 404) return undefined;
      throw error;
    }
  }

  /** The check runs on a commit (every page; GitHub's `latest` filter). */
  async checkRuns(owner: string, repo: string, ref: string): Promise<GitHubCheckRun[]> {
    const runs: GitHubCheckRun[] = [];
    for (let page = 1; page <= 10; page += 1) {
      const r = await this.getConditional<{ total_count: number; check_runs: GitHubCheckRun[] }>('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { owner, repo, ref, per_page: 100, page });
      runs.push(...r.data.check_runs);
      if (!r.link || !/rel="next"/.test(r.link)) break;
    }
    return runs;
  }

  /** The combined commit status of a commit (latest status per context). */
  async combinedStatus(owner: string, repo: string, ref: string): Promise<GitHubCombinedStatus> {
    return (await this.getConditional<GitHubCombinedStatus>('GET /repos/{owner}/{repo}/commits/{ref}/status', { owner, repo, ref, per_page: 100 })).data;
  }
}
