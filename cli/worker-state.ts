/**
 * What the CLI worker remembers between commands: which coordinator, its worker token, and the
 * tasks it holds (lease, epoch, branch, worktree). `owp submit`, `owp release` and `owp status`
 * read it, so they work from any terminal in the clone or in a task's worktree.
 *
 * It lives inside the clone's shared git directory (`.git/owp-worker.json`): one identity per
 * clone, the same file from every worktree, and never committed. The token is the volunteer's own
 * secret on their own machine, so it is stored as is, in a file only they can read (mode 0600),
 * written atomically. `--state FILE` or OWP_STATE_FILE puts it elsewhere.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { IssueRef } from '../protocol/model.ts';
import { gitCommonDir, isGitRepo } from '../client/git.ts';
import { UsageError } from './args.ts';

export const STATE_FILE_NAME = 'owp-worker.json';

/** Flags every command that acts for this clone's worker takes (submit, release, status). */
export const LOCAL_WORKER_FLAGS = {
  'repo-dir': { type: 'string' },
  state: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface HeldTask {
  task_id: string;
  lease_id: string;
  epoch: number;
  repo: string;
  title: string;
  branch: string;
  base: string;
  /** The task's worktree. */
  dir: string;
  issue?: { number: number; url: string };
  accepted_at: number;
  prompt_file?: string;
}

export interface WorkerState {
  version: 1;
  coordinator: string;
  token: string;
  worker_id: string;
  github_login: string;
  /** The clone the worker was started in (task worktrees hang off it). */
  repo_dir: string;
  tasks: Record<string, HeldTask>;
  /** Repository → hashes of contract commands the volunteer approved (client/command-approval.ts). */
  approved_commands?: Record<string, string[]>;
}

export type { IssueRef };

/** Where the state file is for a folder: explicit path, OWP_STATE_FILE, or the clone's git dir. */
export async function stateFilePath(repoDir: string, explicit?: string): Promise<string> {
  if (explicit) return resolve(explicit);
  if (process.env.OWP_STATE_FILE) return resolve(process.env.OWP_STATE_FILE);
  if (!(await isGitRepo(repoDir))) {
    throw new UsageError(`${resolve(repoDir)} is not a git checkout. Run this inside the clone you joined with (or a task worktree), or pass --repo-dir.`);
  }
  return join(await gitCommonDir(repoDir), STATE_FILE_NAME);
}

export async function readState(file: string): Promise<WorkerState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const state = JSON.parse(text) as WorkerState;
    if (state.version !== 1 || typeof state.token !== 'string' || typeof state.coordinator !== 'string') throw new Error('unexpected shape');
    state.tasks ??= {};
    return state;
  } catch (error) {
    throw new UsageError(`${file} is not a valid OWP worker state file (${(error as Error).message}). Delete it and run \`owp worker\` again to rejoin.`);
  }
}

/** Reads the state or explains how to create it. */
export async function requireState(file: string): Promise<WorkerState> {
  const state = await readState(file);
  if (!state) throw new UsageError(`No OWP worker has joined from here (no ${file}). Start one with \`owp worker --coordinator URL --github-login LOGIN\`.`);
  return state;
}

/** Writes atomically with mode 0600 (the file holds the worker token). */
export async function writeState(file: string, state: WorkerState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${randomUUID()}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}

/** Read-modify-write against the latest file, so the worker and `owp submit` do not undo each other. */
export async function updateState(file: string, change: (state: WorkerState) => void): Promise<WorkerState | undefined> {
  const state = await readState(file);
  if (!state) return undefined;
  change(state);
  await writeState(file, state);
  return state;
}

/** The held task for a folder: by explicit id, by worktree, or the only one. */
export function findHeldTask(state: WorkerState, where: { taskId?: string; dir?: string; branch?: string }): HeldTask {
  const tasks = Object.values(state.tasks);
  if (where.taskId) {
    const task = state.tasks[where.taskId];
    if (!task) throw new UsageError(`This worker holds no task ${where.taskId}. Held: ${tasks.map((t) => t.task_id).join(', ') || 'none'}.`);
    return task;
  }
  const here = tasks.find((t) => (where.dir && resolve(t.dir) === resolve(where.dir)) || (where.branch && t.branch === where.branch));
  if (here) return here;
  if (tasks.length === 1) return tasks[0]!;
  if (tasks.length === 0) throw new UsageError('This worker holds no task right now. Wait for an offer in `owp worker`.');
  throw new UsageError(`This worker holds several tasks (${tasks.map((t) => t.task_id).join(', ')}). Run this inside a task's worktree or pass --task T-n.`);
}
