/**
 * Where a worker does a task: its own git worktree on the task's branch, made from the freshly
 * fetched default branch. A worktree per task keeps the volunteer's own checkout (and any work in
 * progress there) untouched, and lets a worker with capacity for several tasks hold them side by
 * side. The branch name comes from the contract on the default branch, so a repo's template
 * applies before any of its files are checked out.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Task } from '../protocol/model.ts';
import { branchName } from '../protocol/branch-name.ts';
import { CONTRACT_FILE, DEFAULT_CONTRACT, parseContract, type RepoContract } from './contract.ts';
import { addWorktree, currentBranch, defaultBranch, git, hasRemote, isGitRepo, repoRoot, showFile } from './git.ts';

export interface TaskWorkspace {
  /** The worktree the task is checked out in. */
  dir: string;
  branch: string;
  /** The default branch it was made from. */
  base: string;
  contract: RepoContract;
  /** False when an earlier worktree for this task was picked up again. */
  created: boolean;
}

export interface PrepareOptions {
  repoDir: string;
  task: Pick<Task, 'id' | 'title'> & Partial<Pick<Task, 'issue'>>;
  /** Folder for task worktrees; default `<repo>-owp` next to the clone. */
  tasksDir?: string;
  remote?: string;
}

export function defaultTasksDir(root: string): string {
  return join(dirname(root), `${basename(root)}-owp`);
}

/**
 * One workspace change at a time per clone: two tasks fetching into the same clone at once race
 * on `refs/remotes/origin/*` ("cannot lock ref"), and `git worktree add` takes the same locks.
 */
const clones = new Map<string, Promise<unknown>>();

function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = clones.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  clones.set(key, settled);
  void settled.then(() => {
    if (clones.get(key) === settled) clones.delete(key);
  });
  return next;
}

export async function prepareTaskWorkspace(options: PrepareOptions): Promise<TaskWorkspace> {
  return serialised(resolve(options.repoDir), () => prepareNow(options));
}

async function prepareNow(options: PrepareOptions): Promise<TaskWorkspace> {
  if (!(await isGitRepo(options.repoDir))) throw new Error(`${resolve(options.repoDir)} is not a git checkout. Clone the repo and pass its folder with --repo-dir.`);
  const root = await repoRoot(options.repoDir);
  const remote = options.remote ?? 'origin';
  const withRemote = await hasRemote(root, remote);
  if (withRemote) await git(root, ['fetch', '--quiet', remote]);
  const base = await defaultBranch(root, remote);
  const startPoint = withRemote ? `${remote}/${base}` : base;
  const contract = await contractAt(root, startPoint);
  const branch = branchName(contract.branch, { task_id: options.task.id, title: options.task.title, ...(options.task.issue ? { issue_number: options.task.issue.number } : {}) });
  const dir = join(options.tasksDir ?? defaultTasksDir(root), options.task.id);
  let created = false;
  if (existsSync(dir) && (await isGitRepo(dir))) {
    const onBranch = await currentBranch(dir);
    if (onBranch !== branch) await git(dir, ['checkout', '--quiet', branch]);
  } else {
    await mkdir(dirname(dir), { recursive: true });
    created = (await addWorktree(root, dir, branch, startPoint)).created;
  }
  return { dir, branch, base, contract, created };
}

/** The contract at a revision (defaults when the repo has none there). */
export async function contractAt(dir: string, rev: string): Promise<RepoContract> {
  const text = await showFile(dir, rev, CONTRACT_FILE);
  return text === undefined ? structuredClone(DEFAULT_CONTRACT) : parseContract(text);
}

/**
 * The contract a task's gates follow: the default branch's, freshly fetched, never the task
 * branch's own copy. An AI tool steered by a hostile issue could edit `.owp.yml` on the branch to
 * weaken its gates (`test: "true"`); the evidence must come from the rules the maintainers merged.
 */
export async function baseContract(dir: string, base: string, remote = 'origin'): Promise<RepoContract> {
  if (!(await hasRemote(dir, remote))) return contractAt(dir, base);
  await git(dir, ['fetch', '--quiet', remote, base]).catch(() => undefined);
  return contractAt(dir, `${remote}/${base}`);
}
