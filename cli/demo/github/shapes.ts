/**
 * The JSON GitHub answers with, per object: users, repositories, labels, issues, pull requests,
 * commits and comments. Users, repositories, labels and issues start from recorded GitHub
 * responses (templates.ts) retargeted to this server; what the recordings lack (pull requests,
 * commits, comments) is built field by field after GitHub's REST reference.
 */
import { createHash } from 'node:crypto';
import type { FakeComment, FakeCommit, FakeIssue, FakeRepo, PullData, TokenInfo } from './model.ts';
import { lower } from './model.ts';
import { pullNodeId } from './node-ids.ts';
import { ISSUE_TEMPLATE, LABEL_TEMPLATE, REPOSITORY_TEMPLATE, USER_TEMPLATE } from './templates.ts';

/** What the shapes read from the state. */
export interface ShapeSource {
  /** API base URL (what clients were given), and where html_url links point. */
  readonly apiUrl: string;
  readonly htmlUrl: string;
  userId(login: string): number;
  isOrganization(login: string): boolean;
  findRepo(fullName: string): FakeRepo | undefined;
  ensureLabel(repo: FakeRepo, name: string): { id: number; name: string; color: string };
  repoOfComment(comment: FakeComment): FakeRepo;
  sha(seed: string): string;
}

/** Deep-copies a template, rewriting GitHub's hosts and the fixture's names to ours. */
export function retarget<T>(template: T, replacements: Array<[string, string]>): T {
  let text = JSON.stringify(template);
  for (const [from, to] of replacements) text = text.split(from).join(to);
  return JSON.parse(text) as T;
}

export class Shapes {
  constructor(private readonly s: ShapeSource) {}

  user(login: string): Record<string, unknown> {
    const id = this.s.userId(login);
    const json = retarget(USER_TEMPLATE, [
      ['https://api.github.com', this.s.apiUrl],
      ['https://github.com', this.s.htmlUrl],
      ['octokit-fixture-user-a', login],
    ]);
    const type = login.endsWith('[bot]') ? 'Bot' : this.s.isOrganization(login) ? 'Organization' : 'User';
    return { ...json, id, avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`, type };
  }

  userDetail(login: string): Record<string, unknown> {
    return { ...this.user(login), name: login, company: null, blog: '', location: null, email: null, hireable: null, bio: null, twitter_username: null, public_repos: 0, public_gists: 0, followers: 0, following: 0, created_at: '2017-10-10T16:00:00Z', updated_at: '2017-10-10T16:00:00Z' };
  }

  repo(repo: FakeRepo, who: TokenInfo | null): Record<string, unknown> {
    const full = `${repo.owner}/${repo.name}`;
    const json = retarget(REPOSITORY_TEMPLATE, [
      ['https://api.github.com', this.s.apiUrl],
      ['https://github.com', this.s.htmlUrl],
      ['octokit-fixture-org/hello-world', full],
      ['octokit-fixture-org', repo.owner],
      ['hello-world', repo.name],
    ]);
    const openIssues = [...repo.issues.values()].filter((i) => i.state === 'open').length;
    const owner = who && lower(who.login) === lower(repo.owner);
    // A collaborator with write access may push (GitHub's `permissions.push`), as the owner may.
    const writer = Boolean(owner) || Boolean(who && repo.collaborators.has(lower(who.login)));
    return {
      ...json,
      id: repo.id,
      owner: this.user(repo.owner),
      private: repo.private,
      visibility: repo.private ? 'private' : 'public',
      default_branch: repo.default_branch,
      open_issues: openIssues,
      open_issues_count: openIssues,
      created_at: repo.created_at,
      allow_forking: repo.allow_forking,
      permissions: { admin: Boolean(owner), maintain: Boolean(owner), push: writer, triage: writer, pull: true },
      ...this.forkFields(repo),
    };
  }

  /** A fork says so, with its parent and the root of its network (`source`), as GitHub's full repository does. */
  private forkFields(repo: FakeRepo): Record<string, unknown> {
    const parent = repo.parent ? this.s.findRepo(repo.parent) : undefined;
    if (!parent) return { fork: false };
    let source = parent;
    for (let up = source.parent ? this.s.findRepo(source.parent) : undefined; up; up = source.parent ? this.s.findRepo(source.parent) : undefined) source = up;
    return { fork: true, parent: this.repo(parent, null), source: this.repo(source, null) };
  }

  label(repo: FakeRepo, name: string): Record<string, unknown> {
    const label = this.s.ensureLabel(repo, name);
    return {
      ...LABEL_TEMPLATE,
      id: label.id,
      url: `${this.s.apiUrl}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
    };
  }

  issue(repo: FakeRepo, issue: FakeIssue): Record<string, unknown> {
    const api = `${this.s.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.s.htmlUrl}/${repo.owner}/${repo.name}`;
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
      user: this.user(issue.user),
      labels: issue.labels.map((l) => this.label(repo, l)),
      state: issue.state,
      locked: issue.locked,
      active_lock_reason: issue.locked ? 'resolved' : null,
      assignee: issue.assignees[0] ? this.user(issue.assignees[0]) : null,
      assignees: issue.assignees.map((a) => this.user(a)),
      comments: issue.comments,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      body: issue.body,
      state_reason: issue.state_reason,
      author_association: association(repo, issue.user),
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

  /** A pull request; `full` adds what only GET /pulls/{n} (not the list) answers. */
  pull(repo: FakeRepo, pr: FakeIssue, full = true): Record<string, unknown> {
    const pull = pr.pull as PullData;
    const api = `${this.s.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.s.htmlUrl}/${repo.owner}/${repo.name}`;
    const headRepo = this.s.findRepo(pull.head_repo) ?? repo;
    const commits = headRepo.branches.get(pull.head_ref) ?? [];
    const base = repo.branches.get(pull.base_ref) ?? [];
    const side = (ref: string, on: FakeRepo, sha: string): Record<string, unknown> => ({ label: `${on.owner}:${ref}`, ref, sha, user: this.user(on.owner), repo: this.repo(on, null) });
    const json: Record<string, unknown> = {
      url: `${api}/pulls/${pr.number}`,
      id: pr.number + repo.id * 100_000,
      node_id: pullNodeId(repo, pr.number),
      html_url: `${html}/pull/${pr.number}`,
      diff_url: `${html}/pull/${pr.number}.diff`,
      patch_url: `${html}/pull/${pr.number}.patch`,
      issue_url: `${api}/issues/${pr.number}`,
      number: pr.number,
      state: pr.state,
      locked: pr.locked,
      title: pr.title,
      user: this.user(pr.user),
      body: pr.body,
      created_at: pr.created_at,
      updated_at: pr.updated_at,
      closed_at: pr.closed_at,
      merged_at: pull.merged_at,
      merge_commit_sha: pull.merge_commit_sha,
      assignee: pr.assignees[0] ? this.user(pr.assignees[0]) : null,
      assignees: pr.assignees.map((a) => this.user(a)),
      requested_reviewers: [],
      requested_teams: [],
      labels: pr.labels.map((l) => this.label(repo, l)),
      milestone: null,
      draft: pull.draft,
      commits_url: `${api}/pulls/${pr.number}/commits`,
      review_comments_url: `${api}/pulls/${pr.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${pr.number}/comments`,
      statuses_url: `${api}/statuses/${commits.at(-1)?.sha ?? ''}`,
      head: side(pull.head_ref, headRepo, commits.at(-1)?.sha ?? ''),
      base: side(pull.base_ref, repo, base.at(-1)?.sha ?? ''),
      _links: {
        self: { href: `${api}/pulls/${pr.number}` },
        html: { href: `${html}/pull/${pr.number}` },
        issue: { href: `${api}/issues/${pr.number}` },
        comments: { href: `${api}/issues/${pr.number}/comments` },
        commits: { href: `${api}/pulls/${pr.number}/commits` },
      },
      author_association: association(repo, pr.user),
      auto_merge: null,
      active_lock_reason: null,
    };
    if (full) {
      Object.assign(json, {
        merged: pull.merged_at !== null,
        mergeable: pr.state === 'open' ? true : null,
        rebaseable: pr.state === 'open' ? true : null,
        mergeable_state: pr.state === 'open' ? 'clean' : 'unknown',
        merged_by: pull.merged_by ? this.user(pull.merged_by) : null,
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

  commit(repo: FakeRepo, c: FakeCommit): Record<string, unknown> {
    const api = `${this.s.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const person = { name: c.author, email: `${c.author}@users.noreply.github.com`, date: c.date };
    // Derived from the commit, so the same commit always has the same tree (and a stable ETag).
    const tree = createHash('sha1').update(`tree ${c.sha}`).digest('hex');
    return {
      sha: c.sha,
      node_id: 'MDA6RW50aXR5MQ==',
      commit: {
        author: person,
        committer: person,
        message: c.message,
        tree: { sha: tree, url: `${api}/git/trees/${tree}` },
        url: `${api}/git/commits/${c.sha}`,
        comment_count: 0,
        verification: c.verified
          ? { verified: true, reason: 'valid', signature: '-----BEGIN PGP SIGNATURE-----\n\nfake\n-----END PGP SIGNATURE-----', payload: `tree ${c.sha}\n`, verified_at: c.date }
          : { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
      },
      url: `${api}/commits/${c.sha}`,
      html_url: `${this.s.htmlUrl}/${repo.owner}/${repo.name}/commit/${c.sha}`,
      comments_url: `${api}/commits/${c.sha}/comments`,
      author: this.user(c.author),
      committer: this.user(c.author),
      parents: [],
    };
  }

  comment(c: FakeComment): Record<string, unknown> {
    const repo = this.s.repoOfComment(c);
    const api = `${this.s.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      url: `${api}/issues/comments/${c.id}`,
      html_url: `${this.s.htmlUrl}/${repo.owner}/${repo.name}/issues/${c.issue_number}#issuecomment-${c.id}`,
      issue_url: `${api}/issues/${c.issue_number}`,
      id: c.id,
      node_id: 'MDA6RW50aXR5MQ==',
      user: this.user(c.user),
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: association(repo, c.user),
      body: c.body,
      reactions: { ...(ISSUE_TEMPLATE.reactions as object), url: `${api}/issues/comments/${c.id}/reactions` },
      performed_via_github_app: null,
    };
  }
}

/** How GitHub relates an author to a repo: its owner, a collaborator with write access, or nobody. */
export function association(repo: FakeRepo, login: string): string {
  if (lower(login) === lower(repo.owner)) return 'OWNER';
  return repo.collaborators.has(lower(login)) ? 'COLLABORATOR' : 'NONE';
}
