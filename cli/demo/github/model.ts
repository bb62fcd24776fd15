/**
 * What the GitHub-shaped server keeps and is seeded with: tokens, repositories, issues and pull
 * requests (one numbering, as on GitHub), branches with their commits, comments, recorded
 * requests and webhook deliveries; and the error it answers with.
 */

export type PermissionLevel = 'none' | 'read' | 'write';

/** Fine-grained token repository permissions this server enforces. */
export interface TokenPermissions {
  issues: PermissionLevel;
  pull_requests: PermissionLevel;
  /** Code: merging a pull request needs write; reading files (the contents API) needs read. */
  contents: PermissionLevel;
  /** Check runs and check suites. */
  checks: PermissionLevel;
  /** Commit statuses. */
  statuses: PermissionLevel;
}

export interface FakeTokenSeed {
  token: string;
  login: string;
  /** Default: write on everything. */
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
  /**
   * A bare git repository holding the repo's code. Its branches are the repo's branches (a pull
   * request needs its head pushed there), and merging a pull request merges in it for real.
   */
  git?: string;
  /** Default true. False: `POST …/forks` is refused (403), as an owner who disabled forking gets. */
  allow_forking?: boolean;
  /** This repo is the `owner` of the seed's fork of `fork_of` (`owner/name`), made earlier. */
  fork_of?: string;
  /** Files on the default branch's first commit (path → text), for repos not backed by git. */
  files?: Record<string, string>;
}

export interface TokenInfo {
  login: string;
  permissions: TokenPermissions;
  repos: Set<string> | null;
  /** `user` (a personal access token), `installation` (a GitHub App installation token, acting as `<slug>[bot]`) or `app` (the App's JWT). */
  kind?: 'user' | 'installation' | 'app';
  /** For `app` and `installation`: the App; for `installation`: the installation. */
  appId?: number;
  installationId?: number;
}

/** A GitHub App registered on this server: its id, slug, public key (to verify JWTs) and installations. */
export interface FakeAppSeed {
  id: number;
  slug: string;
  name?: string;
  owner?: string;
  /** PEM public key of the App's private key: JWTs must be RS256-signed by it. */
  publicKey: string;
  /** What an installation may do; default read on everything and write on issues. */
  permissions?: Partial<TokenPermissions>;
  events?: string[];
  installations?: Array<{ id: number; account: string; repositories?: 'all' | string[] }>;
}

export interface FakeApp extends Required<Omit<FakeAppSeed, 'installations' | 'permissions'>> {
  permissions: TokenPermissions;
}

export interface FakeInstallation {
  id: number;
  app_id: number;
  account: string;
  /** `all` the account's repositories, or the listed `owner/name`s (lower-case). */
  repositories: 'all' | Set<string>;
  created_at: string;
  /** Set while the owner has suspended the installation: its tokens are refused with 403. */
  suspended_at?: string;
  suspended_by?: string;
}

/** A check run on a commit (GitHub Actions or another App reports them). */
export interface FakeCheckRun {
  id: number;
  repo: string;
  head_sha: string;
  head_branch: string | null;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | 'stale' | null;
  started_at: string;
  completed_at: string | null;
  details_url: string | null;
  suite_id: number;
  app_slug: string;
}

/** A commit status (the Statuses API). */
export interface FakeStatus {
  id: number;
  repo: string;
  sha: string;
  context: string;
  state: 'pending' | 'success' | 'failure' | 'error';
  target_url: string | null;
  description: string | null;
  creator: string;
  created_at: string;
  updated_at: string;
}

export interface FakeCommit {
  sha: string;
  message: string;
  author: string;
  verified: boolean;
  date: string;
  /** The files at this commit (path → text), for repos not backed by git; absent: no files (an empty tree). */
  tree?: Record<string, string>;
}

export interface PullData {
  head_ref: string;
  head_owner: string;
  /** The repository the head branch lives in (`owner/name`): the base repo, or a fork of it. */
  head_repo: string;
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

export type FakePull = FakeIssue & { pull: PullData };

export interface FakeComment {
  id: number;
  repo: string;
  issue_number: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface FakeRepo {
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
  /** The bare repository behind it, if any (see FakeRepoSeed.git). */
  git?: string;
  allow_forking: boolean;
  /** A fork's parent (`owner/name`). */
  parent?: string;
  /** A fork GitHub is still making: 404 everywhere until it is finished (forks.ts). */
  pending?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string (and without /api/v3 on an Enterprise-shaped server). */
  path: string;
  query: Record<string, string>;
  /** The token's login, or null for anonymous / bad tokens. */
  login: string | null;
  body: unknown;
  status: number;
  headers: Record<string, string>;
}

export interface WebhookDelivery {
  id: string;
  event: string;
  action: string | undefined;
  body: string;
  status: number | null;
  error?: string;
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

export const DOCS = 'https://docs.github.com/rest';

export function notFound(): GitHubApiError {
  return new GitHubApiError(404, 'Not Found', { documentation_url: DOCS, status: '404' });
}

/** GitHub's timestamps: whole seconds, `Z`. */
export const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Logins and repo names compare case-insensitively on GitHub. */
export const lower = (s: string): string => s.toLowerCase();

/** Issue numbers a PR text closes on merge (GitHub's closing keywords). */
export function closingReferences(text: string): number[] {
  const out = new Set<number>();
  for (const m of text.matchAll(/\b(?:close|closes|closed|fix|fixes|fixed|resolve|resolves|resolved)\s*:?\s+#(\d+)\b/gi)) out.add(Number(m[1]));
  return [...out];
}
