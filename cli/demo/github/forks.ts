/**
 * Forks in the in-memory GitHub, as `POST /repos/{o}/{r}/forks` makes them: one per user and
 * repository (asking again returns the existing one), named after the parent unless the user
 * already has a repository of that name (then `name-1`, …), with the parent's default branch (or
 * all its branches) and its own bare git repository when the parent has one. GitHub makes forks asynchronously: with the `manual` fork policy the new fork
 * answers 404 until the test calls `finishFork`.
 */
import type { GitBacking } from './git-backing.ts';
import { DOCS, GitHubApiError, lower, type FakeRepo } from './model.ts';
import type { FakeGitHubState } from './state.ts';

const fullName = (repo: FakeRepo): string => `${repo.owner}/${repo.name}`;

/** The user's fork of `parent`, finished or not. */
export function forkOf(state: FakeGitHubState, parent: FakeRepo, owner: string): FakeRepo | undefined {
  return state.allRepos().find((r) => r.parent !== undefined && lower(r.parent) === lower(fullName(parent)) && lower(r.owner) === lower(owner));
}

/** The finished forks of `parent`. */
export function forksOf(state: FakeGitHubState, parent: FakeRepo): FakeRepo[] {
  return state.allRepos().filter((r) => r.parent !== undefined && lower(r.parent) === lower(fullName(parent)) && !r.pending);
}

/** The repository at the root of a fork network. */
export function sourceOf(state: FakeGitHubState, repo: FakeRepo): FakeRepo {
  let at = repo;
  for (let parent = at.parent ? state.findRepo(at.parent) : undefined; parent; parent = at.parent ? state.findRepo(at.parent) : undefined) at = parent;
  return at;
}

export async function createFork(state: FakeGitHubState, git: GitBacking, parent: FakeRepo, login: string, options: { name?: string; defaultBranchOnly?: boolean }): Promise<FakeRepo> {
  const existing = forkOf(state, parent, login);
  if (existing) return existing;
  if (!parent.allow_forking) throw new GitHubApiError(403, 'Forking is disabled for this repository.', { documentation_url: `${DOCS}/repos/forks#create-a-fork`, status: '403' });
  const taken = (name: string): boolean => state.findRepo(`${login}/${name}`) !== undefined;
  const wanted = options.name ?? parent.name;
  let name = wanted;
  for (let i = 1; taken(name); i += 1) name = `${wanted}-${i}`;
  const full = `${login}/${name}`;
  state.addRepo({ full_name: full, private: parent.private, default_branch: parent.default_branch, fork_of: fullName(parent) });
  const fork = state.repo(full);
  if (!options.defaultBranchOnly) for (const [branch, commits] of parent.branches) fork.branches.set(branch, [...commits]);
  if (parent.git) fork.git = await git.cloneBare(parent.git, full, options.defaultBranchOnly ? parent.default_branch : undefined);
  fork.pending = state.forkPolicy === 'manual';
  return fork;
}
