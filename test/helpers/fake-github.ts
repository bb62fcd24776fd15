/**
 * A strict, local, GitHub-shaped REST server for tests (GitHub itself is unreachable here).
 * It answers the way api.github.com does — status codes, `{ message, documentation_url, errors }`
 * bodies, ETag/304 conditional requests, X-RateLimit-* headers, Link pagination, 401 for missing
 * or bad tokens, 403 for fine-grained tokens lacking a permission, 404 for unknown routes — with
 * bodies shaped from `@octokit/fixtures`' recorded responses. Every request is recorded so tests
 * can assert exactly what was sent. It can also deliver signed webhooks to a URL.
 *
 * Run it as its own process with `node --import tsx test/helpers/fake-github-cli.ts --port N`.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  COMMON_HEADERS,
  ISSUE_TEMPLATE,
  LABEL_TEMPLATE,
  REPOSITORY_TEMPLATE,
  USER_TEMPLATE,
  VALIDATION_TEMPLATE,
  retarget,
} from './github-fixtures.ts';

export type PermissionLevel = 'none' | 'read' | 'write';
/** Fine-grained token repository permissions this server enforces. */
export interface TokenPermissions {
  issues: PermissionLevel;
  pull_requests: PermissionLevel;
}

export interface FakeTokenSeed {
  token: string;
  login: string;
  /** Default: issues write, pull_requests write. */
  permissions?: Partial<TokenPermissions>;
  /** Repos (`owner/name`) the token may see; default all. Others answer 404 as GitHub does. */
  repos?: string[];
}

export interface FakeRepoSeed {
  full_name: string;
  private?: boolean;
  default_branch?: string;
  /** Branches that exist besides the default one (used when `branches: 'listed'`). */
  branches?: string[];
  labels?: string[];
  /** Logins with write access: their issues show author_association COLLABORATOR. */
  collaborators?: string[];
}

export interface FakeGitHubOptions {
  port?: number;
  host?: string;
  tokens?: FakeTokenSeed[];
  repos?: Array<string | FakeRepoSeed>;
  /** `any` (default): a PR's head branch is created on the fly; `listed`: it must exist (422 otherwise). */
  branches?: 'any' | 'listed';
  /** Where html_url links point; default https://github.com (what workers put in their reports). */
  htmlBaseUrl?: string;
  /** Requests per token per hour; default 5000 (60 for anonymous requests). */
  rateLimit?: number;
  /** Deliver signed webhooks for issue and pull request changes to this URL. */
  webhook?: { url: string; secret: string };
  /** Serve the test-control routes under /_fake/ (for a fake running as its own process). */
  control?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** The token's login, or null for anonymous / bad tokens. */
  login: string | null;
  body: unknown;
  status: number;
  headers: Record<string, string>;
}

export interface FakeCommit {
  sha: string;
  message: string;
  author: string;
  verified: boolean;
  date: string;
}

interface PullData {
  head_ref: string;
  head_owner: string;
  base_ref: string;
  draft: boolean;
  merged_at: string | null;
  merged_by: string | null;
  merge_commit_sha: string | null;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  user: string;
  labels: string[];
  state: 'open' | 'closed';
  state_reason: string | null;
  locked: boolean;
  assignees: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  comments: number;
  pull?: PullData;
}

export interface FakeComment {
  id: number;
  repo: string;
  issue_number: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  default_branch: string;
  labels: Map<string, { id: number; name: string; color: string }>;
  issues: Map<number, FakeIssue>;
  branches: Map<string, FakeCommit[]>;
  next_number: number;
  created_at: string;
  collaborators: Set<string>;
}

export interface WebhookDelivery {
  id: string;
  event: string;
  action: string | undefined;
  body: string;
  status: number | null;
  error?: string;
}

interface TokenInfo {
  login: string;
  permissions: TokenPermissions;
  repos: Set<string> | null;
}

export class GitHubApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const DOCS = 'https://docs.github.com/rest';
const ISO = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const lower = (s: string): string => s.toLowerCase();

/** The in-memory GitHub. Tests seed and change it directly; HTTP clients see it through the API. */
export class FakeGitHubState {
  readonly requests: RecordedRequest[] = [];
  readonly deliveries: WebhookDelivery[] = [];
  readonly tokens = new Map<string, TokenInfo>();
  branchPolicy: 'any' | 'listed';
  webhook: { url: string; secret: string } | undefined;
  /** Set by the server once it listens. */
  apiUrl = 'http://127.0.0.1';
  readonly htmlUrl: string;
  readonly rateLimitPerHour: number;
  private readonly repos = new Map<string, FakeRepo>();
  private readonly users = new Map<string, number>();
  private readonly comments = new Map<number, FakeComment>();
  private readonly used = new Map<string, { windowStart: number; used: number }>();
  private exhaustedUntil = 0;
  private secondary: { count: number; retryAfterSeconds: number } = { count: 0, retryAfterSeconds: 0 };
  private nextId = 1000;
  private inflight = new Set<Promise<void>>();

  constructor(options: FakeGitHubOptions = {}) {
    this.branchPolicy = options.branches ?? 'any';
    this.webhook = options.webhook;
    this.htmlUrl = (options.htmlBaseUrl ?? 'https://github.com').replace(/\/$/, '');
    this.rateLimitPerHour = options.rateLimit ?? 5000;
    for (const t of options.tokens ?? []) this.addToken(t);
    for (const r of options.repos ?? []) this.addRepo(typeof r === 'string' ? { full_name: r } : r);
  }

  // ---- seeding -------------------------------------------------------------------------------------

  addToken(seed: FakeTokenSeed): void {
    this.userId(seed.login);
    this.tokens.set(seed.token, {
      login: seed.login,
      permissions: { issues: 'write', pull_requests: 'write', ...seed.permissions },
      repos: seed.repos ? new Set(seed.repos.map(lower)) : null,
    });
  }

  addRepo(seed: FakeRepoSeed): void {
    const [owner, name] = seed.full_name.split('/') as [string, string];
    if (!owner || !name) throw new Error(`repo must be owner/name, got ${seed.full_name}`);
    this.userId(owner);
    const defaultBranch = seed.default_branch ?? 'main';
    const repo: FakeRepo = {
      id: this.id(),
      owner,
      name,
      private: seed.private ?? false,
      default_branch: defaultBranch,
      labels: new Map(),
      issues: new Map(),
      branches: new Map([[defaultBranch, [this.commit(owner, 'Initial commit', false)]]]),
      next_number: 1,
      created_at: ISO(Date.now()),
      collaborators: new Set((seed.collaborators ?? []).map(lower)),
    };
    this.repos.set(lower(seed.full_name), repo);
    for (const b of seed.branches ?? []) this.addBranch(seed.full_name, b);
    for (const l of seed.labels ?? []) this.ensureLabel(repo, l);
  }

  /** Creates (or replaces) a branch whose commits are signed or not. */
  addBranch(fullName: string, branch: string, options: { commits?: Array<{ message?: string; verified?: boolean; author?: string }> } = {}): void {
    const repo = this.repo(fullName);
    const commits = (options.commits ?? [{}]).map((c) => this.commit(c.author ?? repo.owner, c.message ?? `Work on ${branch}`, c.verified ?? false));
    repo.branches.set(branch, commits);
  }

  addIssue(fullName: string, fields: { title: string; body?: string | null; labels?: string[]; user?: string; assignees?: string[]; locked?: boolean; state?: 'open' | 'closed' }): number {
    const repo = this.repo(fullName);
    const now = ISO(Date.now());
    const issue: FakeIssue = {
      number: repo.next_number++,
      title: fields.title,
      body: fields.body ?? null,
      user: fields.user ?? repo.owner,
      labels: [],
      state: fields.state ?? 'open',
      state_reason: fields.state === 'closed' ? 'completed' : null,
      locked: fields.locked ?? false,
      assignees: fields.assignees ?? [],
      created_at: now,
      updated_at: now,
      closed_at: fields.state === 'closed' ? now : null,
      comments: 0,
    };
    for (const l of fields.labels ?? []) issue.labels.push(this.ensureLabel(repo, l).name);
    this.userId(issue.user);
    repo.issues.set(issue.number, issue);
    this.deliver('issues', 'opened', repo, { issue: this.issueJson(repo, issue) }, issue.user);
    return issue.number;
  }

  /** Changes an issue as a person on GitHub would, delivering the matching webhooks. */
  updateIssue(fullName: string, number: number, patch: { title?: string; body?: string | null; state?: 'open' | 'closed'; labels?: string[]; assignees?: string[]; locked?: boolean }, by?: string): FakeIssue {
    const repo = this.repo(fullName);
    const issue = this.issueOf(repo, number);
    const actor = by ?? repo.owner;
    const before = { ...issue, labels: [...issue.labels] };
    if (patch.title !== undefined) issue.title = patch.title;
    if (patch.body !== undefined) issue.body = patch.body;
    if (patch.assignees !== undefined) issue.assignees = [...patch.assignees];
    if (patch.locked !== undefined) issue.locked = patch.locked;
    if (patch.labels !== undefined) issue.labels = patch.labels.map((l) => this.ensureLabel(repo, l).name);
    if (patch.state !== undefined && patch.state !== issue.state) {
      issue.state = patch.state;
      issue.closed_at = patch.state === 'closed' ? ISO(Date.now()) : null;
      issue.state_reason = patch.state === 'closed' ? 'completed' : 'reopened';
    }
    issue.updated_at = ISO(Date.now());
    const kind = issue.pull ? 'pull_request' : 'issues';
    const json = (): Record<string, unknown> => (issue.pull ? { number: issue.number, pull_request: this.pullJson(repo, issue) } : { issue: this.issueJson(repo, issue) });
    if (patch.title !== undefined || patch.body !== undefined) this.deliver(kind, 'edited', repo, json(), actor);
    for (const l of issue.labels.filter((x) => !before.labels.includes(x))) this.deliver(kind, 'labeled', repo, { ...json(), label: this.labelJson(repo, l) }, actor);
    for (const l of before.labels.filter((x) => !issue.labels.includes(x))) this.deliver(kind, 'unlabeled', repo, { ...json(), label: this.labelJson(repo, l) }, actor);
    if (before.assignees.join() !== issue.assignees.join()) this.deliver(kind, issue.assignees.length > 0 ? 'assigned' : 'unassigned', repo, json(), actor);
    if (before.locked !== issue.locked) this.deliver(kind, issue.locked ? 'locked' : 'unlocked', repo, json(), actor);
    if (before.state !== issue.state) this.deliver(kind, issue.state === 'closed' ? 'closed' : 'reopened', repo, json(), actor);
    return issue;
  }

  /** Opens a PR as `login`, exactly as POST /repos/{o}/{r}/pulls does. Returns its number. */
  openPull(fullName: string, login: string, fields: { head: string; base?: string; title: string; body?: string; draft?: boolean }): number {
    const repo = this.repo(fullName);
    return this.createPull(repo, login, { ...fields, base: fields.base ?? repo.default_branch }).number;
  }

  /** Merges a PR (as a maintainer would in the UI); closes the issues it says it closes. */
  mergePull(fullName: string, number: number, by?: string): void {
    const repo = this.repo(fullName);
    const pr = this.pullOf(repo, number);
    if (pr.state !== 'open' || !pr.pull) throw new Error(`PR #${number} is not open`);
    const now = ISO(Date.now());
    pr.state = 'closed';
    pr.closed_at = now;
    pr.updated_at = now;
    pr.pull.merged_at = now;
    pr.pull.merged_by = by ?? repo.owner;
    pr.pull.merge_commit_sha = this.sha(`merge ${repo.id} ${number} ${now}`);
    this.deliver('pull_request', 'closed', repo, { number, pull_request: this.pullJson(repo, pr) }, by ?? repo.owner);
    if (pr.pull.base_ref === repo.default_branch) {
      for (const n of closingReferences(`${pr.title}\n${pr.body ?? ''}`)) {
        const target = repo.issues.get(n);
        if (target && !target.pull && target.state === 'open') this.updateIssue(fullName, n, { state: 'closed' }, by ?? repo.owner);
      }
    }
  }

  /** Closes a PR without merging. */
  closePull(fullName: string, number: number, by?: string): void {
    const repo = this.repo(fullName);
    const pr = this.pullOf(repo, number);
    if (pr.state !== 'open') throw new Error(`PR #${number} is not open`);
    pr.state = 'closed';
    pr.closed_at = ISO(Date.now());
    pr.updated_at = pr.closed_at;
    this.deliver('pull_request', 'closed', repo, { number, pull_request: this.pullJson(repo, pr) }, by ?? repo.owner);
  }

  /** Marks every commit of a PR's head branch signed (verified) or not. */
  setPullCommitsVerified(fullName: string, number: number, verified: boolean): void {
    const repo = this.repo(fullName);
    const pr = this.pullOf(repo, number);
    for (const c of repo.branches.get((pr.pull as PullData).head_ref) ?? []) c.verified = verified;
  }

  issue(fullName: string, number: number): FakeIssue {
    return this.issueOf(this.repo(fullName), number);
  }

  commentsOn(fullName: string, number: number): FakeComment[] {
    return [...this.comments.values()].filter((c) => c.repo === lower(fullName) && c.issue_number === number);
  }

  /** Requests matching a method and a path (string = exact, RegExp = test). */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  /** The primary rate limit is used up until `resetInMs` from now: requests get 403 with X-RateLimit-Remaining 0. */
  exhaustRateLimit(resetInMs: number): void {
    this.exhaustedUntil = Date.now() + resetInMs;
  }

  /** The next `count` requests hit a secondary rate limit (403 with Retry-After). */
  secondaryRateLimit(count: number, retryAfterSeconds = 1): void {
    this.secondary = { count, retryAfterSeconds };
  }

  /** Sends a recorded delivery again with the same delivery id (GitHub's "Redeliver"). */
  redeliver(id: string): Promise<void> {
    const delivery = this.deliveries.find((d) => d.id === id);
    if (!delivery) throw new Error(`no delivery ${id}`);
    const again: WebhookDelivery = { ...delivery, status: null };
    this.deliveries.push(again);
    return this.track(this.post(again));
  }

  /** Resolves when every webhook delivery in flight has been answered. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  // ---- internals used by the HTTP layer ----------------------------------------------------------

  authenticate(header: string | undefined): TokenInfo | null {
    if (header === undefined) return null;
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
    const info = match ? this.tokens.get(match[1] as string) : undefined;
    if (!info) throw new GitHubApiError(401, 'Bad credentials', { documentation_url: DOCS, status: '401' });
    return info;
  }

  /** Counts a request against the caller's rate limit; throws 403 when it is exhausted. */
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
      throw new GitHubApiError(403, `API rate limit exceeded for ${who ? `user ID ${this.userId(who.login)}` : ip}.`, { documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' }, headers);
    }
    if (this.secondary.count > 0) {
      this.secondary.count -= 1;
      throw new GitHubApiError(403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', { documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' }, { 'retry-after': String(this.secondary.retryAfterSeconds) });
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

  /** The repo as the caller may see it: unknown, private-and-anonymous or out-of-scope answer 404. */
  visibleRepo(owner: string, name: string, who: TokenInfo | null): FakeRepo {
    const repo = this.repos.get(lower(`${owner}/${name}`));
    if (!repo || (repo.private && !who) || (who?.repos && !who.repos.has(lower(`${owner}/${name}`)))) throw notFound();
    return repo;
  }

  requirePermission(who: TokenInfo | null, kind: keyof TokenPermissions, level: 'read' | 'write'): void {
    if (!who) {
      if (level === 'write') throw new GitHubApiError(401, 'Requires authentication', { documentation_url: DOCS });
      return;
    }
    const have = who.permissions[kind];
    if (have === 'write' || (have === 'read' && level === 'read')) return;
    throw new GitHubApiError(403, 'Resource not accessible by personal access token', { documentation_url: DOCS, status: '403' });
  }

  issueOf(repo: FakeRepo, number: number): FakeIssue {
    const issue = repo.issues.get(number);
    if (!issue) throw notFound();
    return issue;
  }

  pullOf(repo: FakeRepo, number: number): FakeIssue & { pull: PullData } {
    const issue = repo.issues.get(number);
    if (!issue?.pull) throw notFound();
    return issue as FakeIssue & { pull: PullData };
  }

  allIssues(repo: FakeRepo): FakeIssue[] {
    return [...repo.issues.values()];
  }

  comment(id: number, repo: FakeRepo): FakeComment {
    const c = this.comments.get(id);
    if (!c || c.repo !== lower(`${repo.owner}/${repo.name}`)) throw notFound();
    return c;
  }

  addComment(repo: FakeRepo, issue: FakeIssue, login: string, body: string): FakeComment {
    const now = ISO(Date.now());
    const c: FakeComment = { id: this.id(), repo: lower(`${repo.owner}/${repo.name}`), issue_number: issue.number, body, user: login, created_at: now, updated_at: now };
    this.comments.set(c.id, c);
    issue.comments += 1;
    this.deliver('issue_comment', 'created', repo, { issue: this.issueJson(repo, issue), comment: this.commentJson(c) }, login);
    return c;
  }

  editComment(repo: FakeRepo, c: FakeComment, body: string, login: string): void {
    c.body = body;
    c.updated_at = ISO(Date.now());
    this.deliver('issue_comment', 'edited', repo, { issue: this.issueJson(repo, this.issueOf(repo, c.issue_number)), comment: this.commentJson(c) }, login);
  }

  createPull(repo: FakeRepo, login: string, fields: { head: string; base: string; title: string; body?: string; draft?: boolean }): FakeIssue & { pull: PullData } {
    const [headOwner, headRef] = fields.head.includes(':') ? (fields.head.split(':', 2) as [string, string]) : [repo.owner, fields.head];
    const invalid = (field: string, code = 'invalid'): GitHubApiError =>
      new GitHubApiError(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', field, code }], documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request' });
    if (!repo.branches.has(fields.base)) throw invalid('base');
    if (!repo.branches.has(headRef)) {
      if (this.branchPolicy === 'listed') throw invalid('head');
      this.addBranch(`${repo.owner}/${repo.name}`, headRef, { commits: [{ author: login }] });
    }
    for (const existing of repo.issues.values()) {
      if (existing.pull && existing.state === 'open' && existing.pull.head_ref === headRef && lower(existing.pull.head_owner) === lower(headOwner)) {
        throw new GitHubApiError(422, 'Validation Failed', {
          errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${headOwner}:${headRef}.` }],
          documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
        });
      }
    }
    const now = ISO(Date.now());
    const pr: FakeIssue & { pull: PullData } = {
      number: repo.next_number++,
      title: fields.title,
      body: fields.body ?? null,
      user: login,
      labels: [],
      state: 'open',
      state_reason: null,
      locked: false,
      assignees: [],
      created_at: now,
      updated_at: now,
      closed_at: null,
      comments: 0,
      pull: { head_ref: headRef, head_owner: headOwner, base_ref: fields.base, draft: fields.draft ?? false, merged_at: null, merged_by: null, merge_commit_sha: null },
    };
    repo.issues.set(pr.number, pr);
    this.deliver('pull_request', 'opened', repo, { number: pr.number, pull_request: this.pullJson(repo, pr) }, login);
    return pr;
  }

  branchCommits(repo: FakeRepo, ref: string): FakeCommit[] {
    return repo.branches.get(ref) ?? [];
  }

  // ---- JSON shapes ---------------------------------------------------------------------------------

  userJson(login: string): Record<string, unknown> {
    const id = this.userId(login);
    const json = retarget(USER_TEMPLATE, [
      ['https://api.github.com', this.apiUrl],
      ['https://github.com', this.htmlUrl],
      ['octokit-fixture-user-a', login],
    ]);
    return { ...json, id, avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`, type: this.repoOwners().has(lower(login)) ? 'Organization' : 'User' };
  }

  repoJson(repo: FakeRepo, who: TokenInfo | null): Record<string, unknown> {
    const full = `${repo.owner}/${repo.name}`;
    const json = retarget(REPOSITORY_TEMPLATE, [
      ['https://api.github.com', this.apiUrl],
      ['https://github.com', this.htmlUrl],
      ['octokit-fixture-org/hello-world', full],
      ['octokit-fixture-org', repo.owner],
      ['hello-world', repo.name],
    ]);
    const openIssues = [...repo.issues.values()].filter((i) => i.state === 'open').length;
    const owner = who && lower(who.login) === lower(repo.owner);
    return {
      ...json,
      id: repo.id,
      owner: this.userJson(repo.owner),
      private: repo.private,
      visibility: repo.private ? 'private' : 'public',
      default_branch: repo.default_branch,
      open_issues: openIssues,
      open_issues_count: openIssues,
      created_at: repo.created_at,
      permissions: { admin: Boolean(owner), maintain: Boolean(owner), push: Boolean(owner), triage: Boolean(owner), pull: true },
    };
  }

  labelJson(repo: FakeRepo, name: string): Record<string, unknown> {
    const label = this.ensureLabel(repo, name);
    return {
      ...LABEL_TEMPLATE,
      id: label.id,
      url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
    };
  }

  issueJson(repo: FakeRepo, issue: FakeIssue): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.htmlUrl}/${repo.owner}/${repo.name}`;
    const json: Record<string, unknown> = {
      ...ISSUE_TEMPLATE,
      url: `${api}/issues/${issue.number}`,
      repository_url: api,
      labels_url: `${api}/issues/${issue.number}/labels{/name}`,
      comments_url: `${api}/issues/${issue.number}/comments`,
      events_url: `${api}/issues/${issue.number}/events`,
      html_url: `${html}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`,
      id: issue.number + repo.id * 100_000,
      number: issue.number,
      title: issue.title,
      user: this.userJson(issue.user),
      labels: issue.labels.map((l) => this.labelJson(repo, l)),
      state: issue.state,
      locked: issue.locked,
      active_lock_reason: issue.locked ? 'resolved' : null,
      assignee: issue.assignees[0] ? this.userJson(issue.assignees[0]) : null,
      assignees: issue.assignees.map((a) => this.userJson(a)),
      comments: issue.comments,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      body: issue.body,
      state_reason: issue.state_reason,
      author_association: this.association(repo, issue.user),
      reactions: { ...(ISSUE_TEMPLATE.reactions as object), url: `${api}/issues/${issue.number}/reactions` },
      timeline_url: `${api}/issues/${issue.number}/timeline`,
    };
    if (issue.pull) {
      json.draft = issue.pull.draft;
      json.pull_request = {
        url: `${api}/pulls/${issue.number}`,
        html_url: `${html}/pull/${issue.number}`,
        diff_url: `${html}/pull/${issue.number}.diff`,
        patch_url: `${html}/pull/${issue.number}.patch`,
        merged_at: issue.pull.merged_at,
      };
    }
    return json;
  }

  pullJson(repo: FakeRepo, pr: FakeIssue, full = true): Record<string, unknown> {
    const pull = pr.pull as PullData;
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.htmlUrl}/${repo.owner}/${repo.name}`;
    const commits = repo.branches.get(pull.head_ref) ?? [];
    const base = repo.branches.get(pull.base_ref) ?? [];
    const side = (ref: string, owner: string, sha: string): Record<string, unknown> => ({
      label: `${owner}:${ref}`,
      ref,
      sha,
      user: this.userJson(owner),
      repo: this.repoJson(repo, null),
    });
    const json: Record<string, unknown> = {
      url: `${api}/pulls/${pr.number}`,
      id: pr.number + repo.id * 100_000,
      node_id: 'MDA6RW50aXR5MQ==',
      html_url: `${html}/pull/${pr.number}`,
      diff_url: `${html}/pull/${pr.number}.diff`,
      patch_url: `${html}/pull/${pr.number}.patch`,
      issue_url: `${api}/issues/${pr.number}`,
      number: pr.number,
      state: pr.state,
      locked: pr.locked,
      title: pr.title,
      user: this.userJson(pr.user),
      body: pr.body,
      created_at: pr.created_at,
      updated_at: pr.updated_at,
      closed_at: pr.closed_at,
      merged_at: pull.merged_at,
      merge_commit_sha: pull.merge_commit_sha,
      assignee: pr.assignees[0] ? this.userJson(pr.assignees[0]) : null,
      assignees: pr.assignees.map((a) => this.userJson(a)),
      requested_reviewers: [],
      requested_teams: [],
      labels: pr.labels.map((l) => this.labelJson(repo, l)),
      milestone: null,
      draft: pull.draft,
      commits_url: `${api}/pulls/${pr.number}/commits`,
      review_comments_url: `${api}/pulls/${pr.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${pr.number}/comments`,
      statuses_url: `${api}/statuses/${commits.at(-1)?.sha ?? ''}`,
      head: side(pull.head_ref, pull.head_owner, commits.at(-1)?.sha ?? ''),
      base: side(pull.base_ref, repo.owner, base.at(-1)?.sha ?? ''),
      _links: {
        self: { href: `${api}/pulls/${pr.number}` },
        html: { href: `${html}/pull/${pr.number}` },
        issue: { href: `${api}/issues/${pr.number}` },
        comments: { href: `${api}/issues/${pr.number}/comments` },
        commits: { href: `${api}/pulls/${pr.number}/commits` },
      },
      author_association: this.association(repo, pr.user),
      auto_merge: null,
      active_lock_reason: null,
    };
    if (full) {
      Object.assign(json, {
        merged: pull.merged_at !== null,
        mergeable: pr.state === 'open' ? true : null,
        rebaseable: pr.state === 'open' ? true : null,
        mergeable_state: pr.state === 'open' ? 'clean' : 'unknown',
        merged_by: pull.merged_by ? this.userJson(pull.merged_by) : null,
        comments: pr.comments,
        review_comments: 0,
        maintainer_can_modify: false,
        commits: commits.length,
        additions: commits.length * 3,
        deletions: commits.length,
        changed_files: commits.length,
      });
    }
    return json;
  }

  commitJson(repo: FakeRepo, c: FakeCommit): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const person = { name: c.author, email: `${c.author}@users.noreply.github.com`, date: c.date };
    return {
      sha: c.sha,
      node_id: 'MDA6RW50aXR5MQ==',
      commit: {
        author: person,
        committer: person,
        message: c.message,
        tree: { sha: this.sha(`tree ${c.sha}`), url: `${api}/git/trees/${this.sha(`tree ${c.sha}`)}` },
        url: `${api}/git/commits/${c.sha}`,
        comment_count: 0,
        verification: c.verified
          ? { verified: true, reason: 'valid', signature: '-----BEGIN PGP SIGNATURE-----\n\nfake\n-----END PGP SIGNATURE-----', payload: `tree ${c.sha}\n`, verified_at: c.date }
          : { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
      },
      url: `${api}/commits/${c.sha}`,
      html_url: `${this.htmlUrl}/${repo.owner}/${repo.name}/commit/${c.sha}`,
      comments_url: `${api}/commits/${c.sha}/comments`,
      author: this.userJson(c.author),
      committer: this.userJson(c.author),
      parents: [],
    };
  }

  commentJson(c: FakeComment): Record<string, unknown> {
    const repo = this.repos.get(c.repo) as FakeRepo;
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      url: `${api}/issues/comments/${c.id}`,
      html_url: `${this.htmlUrl}/${repo.owner}/${repo.name}/issues/${c.issue_number}#issuecomment-${c.id}`,
      issue_url: `${api}/issues/${c.issue_number}`,
      id: c.id,
      node_id: 'MDA6RW50aXR5MQ==',
      user: this.userJson(c.user),
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: this.association(repo, c.user),
      body: c.body,
      reactions: { ...(ISSUE_TEMPLATE.reactions as object), url: `${api}/issues/comments/${c.id}/reactions` },
      performed_via_github_app: null,
    };
  }

  userDetailJson(login: string): Record<string, unknown> {
    return { ...this.userJson(login), name: login, company: null, blog: '', location: null, email: null, hireable: null, bio: null, twitter_username: null, public_repos: 0, public_gists: 0, followers: 0, following: 0, created_at: '2017-10-10T16:00:00Z', updated_at: '2017-10-10T16:00:00Z' };
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private association(repo: FakeRepo, login: string): string {
    if (lower(login) === lower(repo.owner)) return 'OWNER';
    return repo.collaborators.has(lower(login)) ? 'COLLABORATOR' : 'NONE';
  }

  private repo(fullName: string): FakeRepo {
    const repo = this.repos.get(lower(fullName));
    if (!repo) throw new Error(`fake GitHub has no repo ${fullName}`);
    return repo;
  }

  private repoOwners(): Set<string> {
    return new Set([...this.repos.values()].map((r) => lower(r.owner)));
  }

  ensureLabel(repo: FakeRepo, name: string): { id: number; name: string; color: string } {
    let label = repo.labels.get(lower(name));
    if (!label) repo.labels.set(lower(name), (label = { id: this.id(), name, color: 'ededed' }));
    return label;
  }

  private id(): number {
    this.nextId += 1;
    return this.nextId;
  }

  private userId(login: string): number {
    let id = this.users.get(lower(login));
    if (id === undefined) this.users.set(lower(login), (id = this.id()));
    return id;
  }

  private sha(seed: string): string {
    return createHash('sha1').update(`${seed} ${this.id()}`).digest('hex');
  }

  private commit(author: string, message: string, verified: boolean): FakeCommit {
    return { sha: this.sha(message), message, author, verified, date: ISO(Date.now()) };
  }

  private deliver(event: string, action: string, repo: FakeRepo, payload: Record<string, unknown>, sender: string): void {
    if (!this.webhook) return;
    const body = JSON.stringify({ action, ...payload, repository: this.repoJson(repo, null), sender: this.userJson(sender) });
    const delivery: WebhookDelivery = { id: randomUUID(), event, action, body, status: null };
    this.deliveries.push(delivery);
    void this.track(this.post(delivery));
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private async post(delivery: WebhookDelivery): Promise<void> {
    const hook = this.webhook;
    if (!hook) return;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/fake',
          'x-github-event': delivery.event,
          'x-github-delivery': delivery.id,
          'x-github-hook-id': '1',
          'x-hub-signature': `sha1=${createHmac('sha1', hook.secret).update(delivery.body).digest('hex')}`,
          'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(delivery.body).digest('hex')}`,
        },
        body: delivery.body,
        signal: AbortSignal.timeout(10_000),
      });
      delivery.status = res.status;
      await res.arrayBuffer();
    } catch (error) {
      delivery.error = (error as Error).message;
    }
  }
}

/** Issue numbers a PR text closes on merge (GitHub's closing keywords). */
export function closingReferences(text: string): number[] {
  const out = new Set<number>();
  for (const m of text.matchAll(/\b(?:close|closes|closed|fix|fixes|fixed|resolve|resolves|resolved)\s*:?\s+#(\d+)\b/gi)) out.add(Number(m[1]));
  return [...out];
}

function notFound(): GitHubApiError {
  return new GitHubApiError(404, 'Not Found', { documentation_url: DOCS, status: '404' });
}

// ---- the HTTP layer ----------------------------------------------------------------------------------

interface Ctx {
  state: FakeGitHubState;
  who: TokenInfo | null;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  url: URL;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (ctx: Ctx) => Reply;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const seg = '([^/]+)';
const num = '([0-9]+)';

function field(body: Record<string, unknown>, name: string, type: 'string' | 'boolean' | 'array', required: boolean, resource = 'Issue'): unknown {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new GitHubApiError(422, 'Validation Failed', { errors: [{ resource, code: 'missing_field', field: name }], documentation_url: DOCS });
    return undefined;
  }
  const ok = type === 'array' ? Array.isArray(value) : typeof value === type;
  if (!ok) throw new GitHubApiError(422, `Invalid request.\n\nFor 'properties/${name}', ${JSON.stringify(value)} is not ${type === 'array' ? 'an array' : `a ${type}`}.`, { documentation_url: DOCS });
  return value;
}

function invalidParam(resource: string, name: string): GitHubApiError {
  return new GitHubApiError(422, VALIDATION_TEMPLATE.message, { errors: [{ resource, code: 'invalid', field: name }], documentation_url: DOCS });
}

function oneOf(query: URLSearchParams, name: string, allowed: string[], fallback: string, resource: string): string {
  const v = query.get(name) ?? fallback;
  if (!allowed.includes(v)) throw invalidParam(resource, name);
  return v;
}

/** Slices a list into a page and builds GitHub's Link header from the request URL. */
function paginate<T>(ctx: Ctx, items: T[], map: (item: T) => unknown): Reply {
  const perPageRaw = Number(ctx.query.get('per_page') ?? 30);
  const perPage = Number.isFinite(perPageRaw) && perPageRaw > 0 ? Math.min(100, Math.floor(perPageRaw)) : 30;
  const pageRaw = Number(ctx.query.get('page') ?? 1);
  const page = Number.isFinite(pageRaw) && pageRaw > 0 ? Math.floor(pageRaw) : 1;
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (p: number, rel: string): string => {
    const u = new URL(ctx.url.pathname + ctx.url.search, ctx.state.apiUrl);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return { status: 200, body: slice.map(map), headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

function sortAndFilterByTime<T extends { created_at: string; updated_at: string }>(items: T[], query: URLSearchParams, sorts: string[], resource: string): T[] {
  const sort = oneOf(query, 'sort', sorts, 'created', resource);
  const direction = oneOf(query, 'direction', ['asc', 'desc'], 'desc', resource);
  const since = query.get('since');
  let out = items;
  if (since !== null) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) throw invalidParam(resource, 'since');
    out = out.filter((i) => Date.parse(i.updated_at) >= t);
  }
  const key = sort === 'updated' ? 'updated_at' : 'created_at';
  const ordered = [...out].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0) || ((a as unknown as { number?: number; id?: number }).number ?? (a as unknown as { id: number }).id) - ((b as unknown as { number?: number; id?: number }).number ?? (b as unknown as { id: number }).id));
  return direction === 'desc' ? ordered.reverse() : ordered;
}

function repoOf(ctx: Ctx): FakeRepo {
  return ctx.state.visibleRepo(ctx.params[0] as string, ctx.params[1] as string, ctx.who);
}

const ROUTES: Route[] = [];
function route(method: string, path: string, handler: Handler): void {
  ROUTES.push({ method, pattern: new RegExp(`^${path}/?$`), handler });
}

route('GET', '/user', (ctx) => {
  if (!ctx.who) throw new GitHubApiError(401, 'Requires authentication', { documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user' });
  return { status: 200, body: ctx.state.userDetailJson(ctx.who.login) };
});

route('GET', '/rate_limit', (ctx) => {
  const h = ctx.state.rateLimit(ctx.who, '?', false);
  const core = { limit: Number(h['x-ratelimit-limit']), remaining: Number(h['x-ratelimit-remaining']), reset: Number(h['x-ratelimit-reset']), used: Number(h['x-ratelimit-used']) };
  return { status: 200, body: { resources: { core }, rate: core } };
});

route('GET', `/repos/${seg}/${seg}`, (ctx) => ({ status: 200, body: ctx.state.repoJson(repoOf(ctx), ctx.who) }));

route('GET', `/repos/${seg}/${seg}/issues`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'read');
  const state = oneOf(ctx.query, 'state', ['open', 'closed', 'all'], 'open', 'Issue');
  let items = ctx.state.allIssues(repo).filter((i) => state === 'all' || i.state === state);
  const labels = ctx.query.get('labels');
  if (labels) {
    const wanted = labels.split(',').map((l) => lower(l.trim())).filter(Boolean);
    items = items.filter((i) => wanted.every((w) => i.labels.some((l) => lower(l) === w)));
  }
  const assignee = ctx.query.get('assignee');
  if (assignee === 'none') items = items.filter((i) => i.assignees.length === 0);
  else if (assignee === '*') items = items.filter((i) => i.assignees.length > 0);
  else if (assignee) items = items.filter((i) => i.assignees.some((a) => lower(a) === lower(assignee)));
  const creator = ctx.query.get('creator');
  if (creator) items = items.filter((i) => lower(i.user) === lower(creator));
  items = sortAndFilterByTime(items, ctx.query, ['created', 'updated', 'comments'], 'Issue');
  return paginate(ctx, items, (i) => ctx.state.issueJson(repo, i));
});

route('GET', `/repos/${seg}/${seg}/issues/comments/${num}`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'read');
  return { status: 200, body: ctx.state.commentJson(ctx.state.comment(Number(ctx.params[2]), repo)) };
});

route('PATCH', `/repos/${seg}/${seg}/issues/comments/${num}`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'write');
  const c = ctx.state.comment(Number(ctx.params[2]), repo);
  const body = field(ctx.body, 'body', 'string', true, 'IssueComment') as string;
  ctx.state.editComment(repo, c, body, (ctx.who as TokenInfo).login);
  return { status: 200, body: ctx.state.commentJson(c) };
});

route('GET', `/repos/${seg}/${seg}/issues/${num}`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'read');
  return { status: 200, body: ctx.state.issueJson(repo, ctx.state.issueOf(repo, Number(ctx.params[2]))) };
});

route('PATCH', `/repos/${seg}/${seg}/issues/${num}`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'write');
  const number = Number(ctx.params[2]);
  ctx.state.issueOf(repo, number);
  const title = field(ctx.body, 'title', 'string', false) as string | undefined;
  const body = field(ctx.body, 'body', 'string', false) as string | undefined;
  const state = field(ctx.body, 'state', 'string', false) as string | undefined;
  if (state !== undefined && state !== 'open' && state !== 'closed') throw invalidParam('Issue', 'state');
  const labels = field(ctx.body, 'labels', 'array', false) as unknown[] | undefined;
  const assignees = field(ctx.body, 'assignees', 'array', false) as unknown[] | undefined;
  const names = (list: unknown[] | undefined): string[] | undefined =>
    list?.map((l) => (typeof l === 'string' ? l : typeof l === 'object' && l !== null && typeof (l as { name?: unknown }).name === 'string' ? (l as { name: string }).name : (() => { throw invalidParam('Issue', 'labels'); })()));
  const updated = ctx.state.updateIssue(`${repo.owner}/${repo.name}`, number, {
    ...(title !== undefined ? { title } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(state !== undefined ? { state: state as 'open' | 'closed' } : {}),
    ...(labels !== undefined ? { labels: names(labels) as string[] } : {}),
    ...(assignees !== undefined ? { assignees: assignees.map(String) } : {}),
  }, (ctx.who as TokenInfo).login);
  return { status: 200, body: ctx.state.issueJson(repo, updated) };
});

route('GET', `/repos/${seg}/${seg}/issues/${num}/comments`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'read');
  const issue = ctx.state.issueOf(repo, Number(ctx.params[2]));
  let items = ctx.state.commentsOn(`${repo.owner}/${repo.name}`, issue.number).sort((a, b) => a.id - b.id);
  const since = ctx.query.get('since');
  if (since !== null) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) throw invalidParam('IssueComment', 'since');
    items = items.filter((c) => Date.parse(c.updated_at) >= t);
  }
  return paginate(ctx, items, (c) => ctx.state.commentJson(c));
});

route('POST', `/repos/${seg}/${seg}/issues/${num}/comments`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'write');
  const issue = ctx.state.issueOf(repo, Number(ctx.params[2]));
  const body = field(ctx.body, 'body', 'string', true, 'IssueComment') as string;
  if (issue.locked && lower((ctx.who as TokenInfo).login) !== lower(repo.owner)) {
    throw new GitHubApiError(403, 'Unable to create comment because issue is locked.', { documentation_url: DOCS });
  }
  const c = ctx.state.addComment(repo, issue, (ctx.who as TokenInfo).login, body);
  return { status: 201, body: ctx.state.commentJson(c), headers: { location: `${ctx.state.apiUrl}/repos/${repo.owner}/${repo.name}/issues/comments/${c.id}` } };
});

route('GET', `/repos/${seg}/${seg}/pulls`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'pull_requests', 'read');
  const state = oneOf(ctx.query, 'state', ['open', 'closed', 'all'], 'open', 'PullRequest');
  let items = ctx.state.allIssues(repo).filter((i) => i.pull && (state === 'all' || i.state === state));
  const head = ctx.query.get('head');
  if (head) {
    const [owner, ref] = head.includes(':') ? head.split(':', 2) : [head, undefined];
    items = items.filter((i) => lower((i.pull as PullData).head_owner) === lower(owner as string) && (ref === undefined || (i.pull as PullData).head_ref === ref));
  }
  const base = ctx.query.get('base');
  if (base) items = items.filter((i) => (i.pull as PullData).base_ref === base);
  items = sortAndFilterByTime(items, ctx.query, ['created', 'updated', 'popularity', 'long-running'], 'PullRequest');
  return paginate(ctx, items, (i) => ctx.state.pullJson(repo, i, false));
});

route('POST', `/repos/${seg}/${seg}/pulls`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'pull_requests', 'write');
  const head = field(ctx.body, 'head', 'string', true, 'PullRequest') as string;
  const base = field(ctx.body, 'base', 'string', true, 'PullRequest') as string;
  const title = field(ctx.body, 'title', 'string', true, 'PullRequest') as string;
  const body = field(ctx.body, 'body', 'string', false, 'PullRequest') as string | undefined;
  const draft = field(ctx.body, 'draft', 'boolean', false, 'PullRequest') as boolean | undefined;
  const pr = ctx.state.createPull(repo, (ctx.who as TokenInfo).login, { head, base, title, ...(body !== undefined ? { body } : {}), ...(draft !== undefined ? { draft } : {}) });
  return { status: 201, body: ctx.state.pullJson(repo, pr), headers: { location: `${ctx.state.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${pr.number}` } };
});

route('GET', `/repos/${seg}/${seg}/pulls/${num}`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'pull_requests', 'read');
  return { status: 200, body: ctx.state.pullJson(repo, ctx.state.pullOf(repo, Number(ctx.params[2]))) };
});

route('GET', `/repos/${seg}/${seg}/pulls/${num}/commits`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'pull_requests', 'read');
  const pr = ctx.state.pullOf(repo, Number(ctx.params[2]));
  return paginate(ctx, ctx.state.branchCommits(repo, pr.pull.head_ref), (c) => ctx.state.commitJson(repo, c));
});

route('GET', `/repos/${seg}/${seg}/labels`, (ctx) => {
  const repo = repoOf(ctx);
  ctx.state.requirePermission(ctx.who, 'issues', 'read');
  return paginate(ctx, [...repo.labels.values()], (l) => ctx.state.labelJson(repo, l.name));
});

const SUPPORTED_API_VERSIONS = new Set(['2022-11-28', '2026-03-10']);

export async function readBody(req: IncomingMessage): Promise<{ raw: string; json: Record<string, unknown> }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 25 * 1024 * 1024) throw new GitHubApiError(413, 'Payload too large', { documentation_url: DOCS });
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return { raw, json: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new GitHubApiError(400, 'Problems parsing JSON', { documentation_url: DOCS });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GitHubApiError(400, 'Body should be a JSON object', { documentation_url: DOCS });
  return { raw, json: parsed as Record<string, unknown> };
}

function etagOf(body: string, who: TokenInfo | null): string {
  return `W/"${createHash('sha256').update(`${who?.login ?? ''}\u0000${body}`).digest('hex').slice(0, 32)}"`;
}

export type ControlHandler = (state: FakeGitHubState, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

async function handle(state: FakeGitHubState, req: IncomingMessage, res: ServerResponse, control?: ControlHandler): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const method = req.method ?? 'GET';
  if (control && url.pathname.startsWith('/_fake/')) return control(state, req, res, url);
  const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), login: null, body: undefined, status: 0, headers: {} };
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'authorization') record.headers[k] = v;
  state.requests.push(record);
  let rateHeaders: Record<string, string> = {};
  const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
    record.status = status;
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...COMMON_HEADERS,
      ...rateHeaders,
      date: new Date().toUTCString(),
      'x-github-request-id': randomUUID().toUpperCase().slice(0, 23),
      'x-github-api-version-selected': '2022-11-28',
      ...extra,
    };
    if (text) {
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = String(Buffer.byteLength(text));
    } else {
      delete headers['content-type'];
    }
    res.writeHead(status, headers);
    res.end(text);
  };
  try {
    const version = req.headers['x-github-api-version'];
    if (typeof version === 'string' && !SUPPORTED_API_VERSIONS.has(version)) {
      throw new GitHubApiError(400, `API version ${version} is not supported.`, { documentation_url: 'https://docs.github.com/rest/overview/api-versions' });
    }
    const who = state.authenticate(req.headers.authorization);
    record.login = who?.login ?? null;
    const { raw, json } = method === 'GET' || method === 'HEAD' ? { raw: '', json: {} } : await readBody(req);
    record.body = raw === '' ? undefined : json;
    const matched = ROUTES.filter((r) => r.pattern.test(url.pathname));
    const found = matched.find((r) => r.method === (method === 'HEAD' ? 'GET' : method));
    // GitHub answers an unknown route, and a known path with a method it lacks, with 404.
    if (!found) throw notFound();
    const conditional = method === 'GET' && typeof req.headers['if-none-match'] === 'string';
    rateHeaders = state.rateLimit(who, req.socket.remoteAddress ?? '?', !conditional);
    const params = (found.pattern.exec(url.pathname) as RegExpExecArray).slice(1).map((p) => decodeURIComponent(p));
    const reply = found.handler({ state, who, params, query: url.searchParams, body: json, url });
    if (method === 'GET' || method === 'HEAD') {
      const text = JSON.stringify(reply.body);
      const etag = etagOf(text, who);
      const cache = { etag, 'cache-control': 'private, max-age=60, s-maxage=60', vary: 'Accept, Authorization, Cookie, X-GitHub-OTP' };
      const inm = req.headers['if-none-match'];
      if (typeof inm === 'string' && inm.split(',').map((s) => s.trim()).includes(etag)) {
        return send(304, undefined, { ...cache, ...(reply.headers ?? {}) });
      }
      // A conditional request that changed still counts.
      if (conditional) rateHeaders = state.rateLimit(who, req.socket.remoteAddress ?? '?', true);
      return send(reply.status, method === 'HEAD' ? undefined : reply.body, { ...cache, ...(reply.headers ?? {}) });
    }
    return send(reply.status, reply.body, reply.headers ?? {});
  } catch (error) {
    if (error instanceof GitHubApiError) return send(error.status, { message: error.message, ...error.extra }, error.headers);
    send(500, { message: `fake GitHub failed: ${(error as Error).message}` });
  }
}

export interface FakeGitHub {
  /** API base URL, e.g. http://127.0.0.1:PORT (what Octokit's baseUrl takes). */
  url: string;
  state: FakeGitHubState;
  server: Server;
  close(): Promise<void>;
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const state = new FakeGitHubState(options);
  const control = options.control ? (await import('./fake-github-control.ts')).handleControl : undefined;
  const server = createServer((req, res) => void handle(state, req, res, control));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  state.apiUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url: state.apiUrl,
    state,
    server,
    async close() {
      await state.settled().catch(() => undefined);
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
