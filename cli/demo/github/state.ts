/**
 * The in-memory GitHub: repositories with their issues, pull requests, branches and comments,
 * changed through the API (routes/) or directly by tests and the demo as a person on github.com
 * would (open an issue, merge a PR). Every change delivers the webhooks GitHub would send.
 */
import { createHash } from 'node:crypto';
import { Access } from './access.ts';
import { Apps } from './apps.ts';
import { CiState } from './ci.ts';
import { pushFiles, type PushOptions } from './files.ts';
import {
  iso,
  lower,
  notFound,
  type FakeAppSeed,
  type FakeComment,
  type FakeCommit,
  type FakeIssue,
  type FakePull,
  type FakeRepo,
  type FakeRepoSeed,
  type FakeTokenSeed,
  type RecordedRequest,
  type TokenInfo,
  type WebhookDelivery,
} from './model.ts';
import { closePull, createPull, mergePull } from './pull-requests.ts';
import { Shapes, type ShapeSource } from './shapes.ts';
import { Webhooks } from './webhooks.ts';

export interface FakeGitHubStateOptions {
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
  /**
   * `immediate` (default): a fork is there as soon as `POST …/forks` answers. `manual`: it stays
   * 404 (GitHub is still copying it) until the test calls `finishFork`.
   */
  forks?: 'immediate' | 'manual';
  /** GitHub Apps with their installations (JWTs, installation tokens). */
  apps?: FakeAppSeed[];
  /** How long installation tokens live; default one hour, as on GitHub. */
  installationTokenTtlMs?: number;
}

export class FakeGitHubState implements ShapeSource {
  readonly requests: RecordedRequest[] = [];
  readonly access: Access;
  readonly webhooks: Webhooks;
  readonly shapes = new Shapes(this);
  /** Check runs and commit statuses (ci.ts). */
  readonly ci = new CiState(this);
  /** GitHub Apps, their installations and installation tokens (apps.ts). */
  readonly apps: Apps;
  branchPolicy: 'any' | 'listed';
  forkPolicy: 'immediate' | 'manual';
  /** Set by the server once it listens. */
  apiUrl = 'http://127.0.0.1';
  htmlUrl: string;
  private readonly repos = new Map<string, FakeRepo>();
  private readonly users = new Map<string, number>();
  private readonly comments = new Map<number, FakeComment>();
  private nextId = 1000;

  constructor(options: FakeGitHubStateOptions = {}) {
    this.branchPolicy = options.branches ?? 'any';
    this.forkPolicy = options.forks ?? 'immediate';
    this.htmlUrl = (options.htmlBaseUrl ?? 'https://github.com').replace(/\/$/, '');
    this.access = new Access(options.rateLimit ?? 5000, (login) => this.userId(login));
    this.webhooks = new Webhooks(options.webhook);
    this.apps = new Apps({
      reposOf: (account) => [...this.repos.values()].filter((r) => lower(r.owner) === lower(account)).map((r) => `${r.owner}/${r.name}`),
      deliverAppEvent: (event, payload) => this.webhooks.deliver(event, payload.action as string, payload),
    }, options.installationTokenTtlMs !== undefined ? { tokenTtlMs: options.installationTokenTtlMs } : {});
    this.access.apps = this.apps;
    for (const t of options.tokens ?? []) this.addToken(t);
    for (const r of options.repos ?? []) this.addRepo(typeof r === 'string' ? { full_name: r } : r);
    for (const a of options.apps ?? []) this.apps.add(a);
  }

  // ---- seeding, and what a person does on github.com -------------------------------------------

  addToken(seed: FakeTokenSeed): void {
    this.access.addToken(seed);
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
      branches: new Map([[defaultBranch, [{ ...this.commit(owner, 'Initial commit', false), ...(seed.files ? { tree: { ...seed.files } } : {}) }]]]),
      next_number: 1,
      created_at: iso(Date.now()),
      collaborators: new Set((seed.collaborators ?? []).map(lower)),
      ...(seed.git ? { git: seed.git } : {}),
      allow_forking: seed.allow_forking ?? true,
    };
    if (seed.fork_of) {
      const parent = this.repo(seed.fork_of);
      repo.parent = `${parent.owner}/${parent.name}`;
      repo.branches = new Map([[defaultBranch, [...(parent.branches.get(parent.default_branch) ?? [])]]]);
    }
    this.repos.set(lower(seed.full_name), repo);
    for (const b of seed.branches ?? []) this.addBranch(seed.full_name, b);
    for (const l of seed.labels ?? []) this.ensureLabel(repo, l);
  }

  /** Creates (or replaces) a branch whose commits are signed or not. */
  addBranch(fullName: string, branch: string, options: { commits?: Array<{ message?: string; verified?: boolean; author?: string; sha?: string }> } = {}): void {
    const repo = this.repo(fullName);
    const commits = (options.commits ?? [{}]).map((c) => ({ ...this.commit(c.author ?? repo.owner, c.message ?? `Work on ${branch}`, c.verified ?? false), ...(c.sha ? { sha: c.sha } : {}) }));
    repo.branches.set(branch, commits);
  }

  addIssue(fullName: string, fields: { title: string; body?: string | null; labels?: string[]; user?: string; assignees?: string[]; locked?: boolean; state?: 'open' | 'closed' }): number {
    const repo = this.repo(fullName);
    const now = iso(Date.now());
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
    this.deliver('issues', 'opened', repo, { issue: this.shapes.issue(repo, issue) }, issue.user);
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
      issue.closed_at = patch.state === 'closed' ? iso(Date.now()) : null;
      issue.state_reason = patch.state === 'closed' ? 'completed' : 'reopened';
    }
    issue.updated_at = iso(Date.now());
    const kind = issue.pull ? 'pull_request' : 'issues';
    const json = (): Record<string, unknown> => (issue.pull ? { number: issue.number, pull_request: this.shapes.pull(repo, issue) } : { issue: this.shapes.issue(repo, issue) });
    if (patch.title !== undefined || patch.body !== undefined) this.deliver(kind, 'edited', repo, json(), actor);
    for (const l of issue.labels.filter((x) => !before.labels.includes(x))) this.deliver(kind, 'labeled', repo, { ...json(), label: this.shapes.label(repo, l) }, actor);
    for (const l of before.labels.filter((x) => !issue.labels.includes(x))) this.deliver(kind, 'unlabeled', repo, { ...json(), label: this.shapes.label(repo, l) }, actor);
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

  /**
   * Merges a PR (as a maintainer would in the UI) and closes the issues it says it closes. A repo
   * backed by git is merged there first (the server's `merge`), which passes the merge commit.
   */
  mergePull(fullName: string, number: number, by?: string, mergeCommitSha?: string): FakePull {
    return mergePull(this, this.repo(fullName), number, by, mergeCommitSha);
  }

  /** Closes a PR without merging. */
  closePull(fullName: string, number: number, by?: string): void {
    closePull(this, this.repo(fullName), number, by);
  }

  /** Marks every commit of a PR's head branch signed (verified) or not. */
  setPullCommitsVerified(fullName: string, number: number, verified: boolean): void {
    const repo = this.repo(fullName);
    const pr = this.pullOf(repo, number);
    for (const c of (this.findRepo(pr.pull.head_repo) ?? repo).branches.get(pr.pull.head_ref) ?? []) c.verified = verified;
  }

  // ---- reading, for tests ----------------------------------------------------------------------

  issue(fullName: string, number: number): FakeIssue {
    return this.issueOf(this.repo(fullName), number);
  }

  /** The repo's pull requests, oldest first. */
  pulls(fullName: string): FakePull[] {
    return [...this.repo(fullName).issues.values()].filter((i): i is FakePull => i.pull !== undefined);
  }

  /** Every comment on the repo's issues and pull requests. */
  commentsIn(fullName: string): FakeComment[] {
    return [...this.comments.values()].filter((c) => c.repo === lower(fullName));
  }

  commentsOn(fullName: string, number: number): FakeComment[] {
    return [...this.comments.values()].filter((c) => c.repo === lower(fullName) && c.issue_number === number);
  }

  /** Requests matching a method and a path (string = exact, RegExp = test). */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  get deliveries(): WebhookDelivery[] {
    return this.webhooks.deliveries;
  }

  get webhook(): { url: string; secret: string } | undefined {
    return this.webhooks.hook;
  }

  set webhook(hook: { url: string; secret: string } | undefined) {
    this.webhooks.hook = hook;
  }

  exhaustRateLimit(resetInMs: number): void {
    this.access.exhaustRateLimit(resetInMs);
  }

  secondaryRateLimit(count: number, retryAfterSeconds: number | null = 1, shape: { status?: 403 | 429; message?: string } = {}): void {
    this.access.secondaryRateLimit(count, retryAfterSeconds, shape);
  }

  redeliver(id: string): Promise<void> {
    return this.webhooks.redeliver(id);
  }

  settled(): Promise<void> {
    return this.webhooks.settled();
  }

  // ---- used by the routes ----------------------------------------------------------------------

  /** The repo as the caller may see it: unknown, unfinished, private-and-anonymous or out-of-scope answer 404. */
  visibleRepo(owner: string, name: string, who: TokenInfo | null): FakeRepo {
    const repo = this.repos.get(lower(`${owner}/${name}`));
    if (!repo || repo.pending || (repo.private && !who) || (who?.repos && !who.repos.has(lower(`${owner}/${name}`)))) throw notFound();
    return repo;
  }

  /** Every repository, forks included (finished or not). */
  allRepos(): FakeRepo[] {
    return [...this.repos.values()];
  }

  /** A fork GitHub was still making is finished: it answers from now on. */
  finishFork(fullName: string): void {
    this.repo(fullName).pending = false;
  }

  issueOf(repo: FakeRepo, number: number): FakeIssue {
    const issue = repo.issues.get(number);
    if (!issue) throw notFound();
    return issue;
  }

  pullOf(repo: FakeRepo, number: number): FakePull {
    const issue = repo.issues.get(number);
    if (!issue?.pull) throw notFound();
    return issue as FakePull;
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
    const now = iso(Date.now());
    const c: FakeComment = { id: this.id(), repo: lower(`${repo.owner}/${repo.name}`), issue_number: issue.number, body, user: login, created_at: now, updated_at: now };
    this.comments.set(c.id, c);
    issue.comments += 1;
    this.deliver('issue_comment', 'created', repo, { issue: this.shapes.issue(repo, issue), comment: this.shapes.comment(c) }, login);
    return c;
  }

  editComment(repo: FakeRepo, c: FakeComment, body: string, login: string): void {
    c.body = body;
    c.updated_at = iso(Date.now());
    this.deliver('issue_comment', 'edited', repo, { issue: this.shapes.issue(repo, this.issueOf(repo, c.issue_number)), comment: this.shapes.comment(c) }, login);
  }

  createPull(repo: FakeRepo, login: string, fields: { head: string; base: string; title: string; body?: string; draft?: boolean }): FakePull {
    return createPull(this, repo, login, fields);
  }

  branchCommits(repo: FakeRepo, ref: string): FakeCommit[] {
    return repo.branches.get(ref) ?? [];
  }

  ensureLabel(repo: FakeRepo, name: string): { id: number; name: string; color: string } {
    let label = repo.labels.get(lower(name));
    if (!label) repo.labels.set(lower(name), (label = { id: this.id(), name, color: 'ededed' }));
    return label;
  }

  // ---- what the shapes read --------------------------------------------------------------------

  userId(login: string): number {
    let id = this.users.get(lower(login));
    if (id === undefined) this.users.set(lower(login), (id = this.id()));
    return id;
  }

  /** Owners of repos here are organizations; everyone else (forks' owners too) is a user. */
  isOrganization(login: string): boolean {
    return [...this.repos.values()].some((r) => lower(r.owner) === lower(login) && r.parent === undefined);
  }

  /** A repo by `owner/name`, or undefined (shapes of forks and their parents). */
  findRepo(fullName: string): FakeRepo | undefined {
    return this.repos.get(lower(fullName));
  }

  repoOfComment(c: FakeComment): FakeRepo {
    return this.repos.get(c.repo) as FakeRepo;
  }

  sha(seed: string): string {
    return createHash('sha1').update(`${seed} ${this.id()}`).digest('hex');
  }

  /** The repo by `owner/name`, for seeding; a test naming a repo it never added is a mistake. */
  repo(fullName: string): FakeRepo {
    const repo = this.repos.get(lower(fullName));
    if (!repo) throw new Error(`fake GitHub has no repo ${fullName}`);
    return repo;
  }

  /** A fresh id for a user, repo, label or comment. */
  id(): number {
    this.nextId += 1;
    return this.nextId;
  }

  private commit(author: string, message: string, verified: boolean): FakeCommit {
    return { sha: this.sha(message), message, author, verified, date: iso(Date.now()) };
  }

  /** Pushes one commit of file changes to a branch (files.ts), delivering push and synchronize. */
  pushFiles(fullName: string, branch: string, changes: Record<string, string | null>, options: PushOptions = {}): FakeCommit {
    return pushFiles(this, fullName, branch, changes, options);
  }

  /** Delivers the webhook GitHub sends for a change (when webhooks are set up); an App's installation is named in it. */
  deliver(event: string, action: string | undefined, repo: FakeRepo, payload: Record<string, unknown>, sender: string): void {
    if (!this.webhooks.enabled) return;
    const installation = this.apps.installationFor(`${repo.owner}/${repo.name}`);
    this.webhooks.deliver(event, action, {
      ...payload,
      repository: this.shapes.repo(repo, null),
      sender: this.shapes.user(sender),
      ...(installation ? { installation: { id: installation.id, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${installation.id}` } } : {}),
    });
  }
}
