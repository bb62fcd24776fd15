/**
 * Pull requests in the in-memory GitHub: opened (head and base checked, one open PR per head),
 * merged (closing the issues the PR says it closes), closed. They are issues with pull data, as on
 * GitHub, numbered with the repo's issues; every change delivers its `pull_request` webhook.
 */
import { forkOf } from './forks.ts';
import { GitHubApiError, closingReferences, iso, lower, type FakePull, type FakeRepo } from './model.ts';
import type { FakeGitHubState } from './state.ts';

/** The repository a head `owner:branch` names from `repo`: itself, or that owner's finished fork of it. */
export function headRepoFor(state: FakeGitHubState, repo: FakeRepo, headOwner: string): FakeRepo | undefined {
  if (lower(headOwner) === lower(repo.owner)) return repo;
  const fork = forkOf(state, repo, headOwner);
  return fork && !fork.pending ? fork : undefined;
}

/** Where a pull request's head branch lives. */
export function headRepoOf(state: FakeGitHubState, repo: FakeRepo, pr: FakePull): FakeRepo {
  return state.findRepo(pr.pull.head_repo) ?? repo;
}

const CREATE_DOCS = 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request';

export function createPull(state: FakeGitHubState, repo: FakeRepo, login: string, fields: { head: string; base: string; title: string; body?: string; draft?: boolean }): FakePull {
  const [headOwner, headRef] = fields.head.includes(':') ? (fields.head.split(':', 2) as [string, string]) : [repo.owner, fields.head];
  const invalid = (field: string, code = 'invalid'): GitHubApiError => new GitHubApiError(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', field, code }], documentation_url: CREATE_DOCS });
  if (!repo.branches.has(fields.base)) throw invalid('base');
  // `owner:branch` from another owner names a branch of their fork: no fork, no head.
  const headRepo = headRepoFor(state, repo, headOwner);
  if (!headRepo) throw invalid('head');
  if (!headRepo.branches.has(headRef)) {
    // A repo backed by git has exactly its pushed branches (the route loads them before this).
    if (state.branchPolicy === 'listed' || headRepo.git) throw invalid('head');
    state.addBranch(`${headRepo.owner}/${headRepo.name}`, headRef, { commits: [{ author: login }] });
  }
  for (const existing of repo.issues.values()) {
    if (existing.pull && existing.state === 'open' && existing.pull.head_ref === headRef && lower(existing.pull.head_owner) === lower(headOwner)) {
      throw new GitHubApiError(422, 'Validation Failed', {
        errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${headOwner}:${headRef}.` }],
        documentation_url: CREATE_DOCS,
      });
    }
  }
  const now = iso(Date.now());
  const pr: FakePull = {
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
    pull: { head_ref: headRef, head_owner: headRepo.owner, head_repo: `${headRepo.owner}/${headRepo.name}`, base_ref: fields.base, draft: fields.draft ?? false, merged_at: null, merged_by: null, merge_commit_sha: null },
  };
  repo.issues.set(pr.number, pr);
  state.deliver('pull_request', 'opened', repo, { number: pr.number, pull_request: state.shapes.pull(repo, pr) }, login);
  return pr;
}

export function mergePull(state: FakeGitHubState, repo: FakeRepo, number: number, by?: string, mergeCommitSha?: string): FakePull {
  const pr = state.pullOf(repo, number);
  if (pr.state !== 'open') throw new Error(`PR #${number} is not open`);
  const now = iso(Date.now());
  const actor = by ?? repo.owner;
  pr.state = 'closed';
  pr.closed_at = now;
  pr.updated_at = now;
  pr.pull.merged_at = now;
  pr.pull.merged_by = actor;
  pr.pull.merge_commit_sha = mergeCommitSha ?? state.sha(`merge ${repo.id} ${number} ${now}`);
  state.deliver('pull_request', 'closed', repo, { number, pull_request: state.shapes.pull(repo, pr) }, actor);
  if (pr.pull.base_ref === repo.default_branch) {
    for (const n of closingReferences(`${pr.title}\n${pr.body ?? ''}`)) {
      const target = repo.issues.get(n);
      if (target && !target.pull && target.state === 'open') state.updateIssue(`${repo.owner}/${repo.name}`, n, { state: 'closed' }, actor);
    }
  }
  return pr;
}

export function closePull(state: FakeGitHubState, repo: FakeRepo, number: number, by?: string): void {
  const pr = state.pullOf(repo, number);
  if (pr.state !== 'open') throw new Error(`PR #${number} is not open`);
  pr.state = 'closed';
  pr.closed_at = iso(Date.now());
  pr.updated_at = pr.closed_at;
  state.deliver('pull_request', 'closed', repo, { number, pull_request: state.shapes.pull(repo, pr) }, by ?? repo.owner);
}
