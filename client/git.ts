/**
 * Small git helpers for the CLI worker and the demo, over the git CLI (the extension uses VS Code's
 * git API instead but shares `parseRemoteUrl`). Every call runs `git` without a shell, with
 * arguments as a list, so branch names and messages are never interpreted by a shell.
 */
import { execFile } from 'node:child_process';
import { childEnv } from './child-env.ts';
import { GIT_SAFETY_OVERRIDES, RepoConfigCheck, unsafeSettingsMessage } from './repo-git-config.ts';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | undefined,
  ) {
    super(message);
  }
}

/** The repository's own git config would run a program (client/repo-git-config.ts): no git was run. */
export class UnsafeGitConfigError extends GitError {
  readonly code = 'UNSAFE_GIT_CONFIG';
}

/** What git itself reads from the environment (identity, config location, SSH command); never secret-looking names. */
const GIT_PASS = ['GIT_*', 'EMAIL'];
/** Only where git talks to a remote, with hooks off. */
const NETWORK_PASS = ['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'ALL_PROXY'];
const NETWORK_COMMANDS = new Set(['push', 'fetch', 'pull', 'clone', 'ls-remote']);

export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Commands that make a repository rather than work in one: there is no repository config to read yet. */
const MAKES_REPO = new Set(['clone', 'init']);

/** One check per repository, read again when its config files change (client/repo-git-config.ts). */
const configCheck = new RepoConfigCheck((cwd, args) => runGit(cwd, [...args], {}, false));

/**
 * Runs git in `cwd`; resolves with trimmed stdout, rejects with a GitError carrying stderr. Hooks
 * and fsmonitor never run, and a repository whose own config would run a program is refused with
 * UnsafeGitConfigError before git runs there (client/repo-git-config.ts).
 */
export async function git(cwd: string, args: string[], options: GitOptions = {}): Promise<string> {
  if (!MAKES_REPO.has(args[0] ?? '')) {
    const unsafe = await configCheck.unsafe(cwd);
    if (unsafe.length > 0) throw new UnsafeGitConfigError(unsafeSettingsMessage(cwd, unsafe), args, '', undefined);
  }
  return runGit(cwd, args, options, true);
}

function runGit(cwd: string, args: string[], options: GitOptions, trim: boolean): Promise<string> {
  const network = NETWORK_COMMANDS.has(args[0] ?? '');
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      // No hooks (pre-push, post-commit, reference-transaction, or a core.hooksPath the repo sets,
      // as husky does) and no fsmonitor: both run programs from a worktree the AI tool could write to.
      [...GIT_SAFETY_OVERRIDES, ...args],
      {
        cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        // No pager, no credential prompts hanging a headless worker. An allow-listed environment
        // (client/child-env.ts); commands that talk to a remote also get the SSH agent and proxies.
        env: childEnv(process.env, { pass: network ? [...GIT_PASS, ...NETWORK_PASS] : GIT_PASS, set: { GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C', ...(options.env as Record<string, string> | undefined) } }),
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : undefined;
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            reject(new GitError('git is not installed or not on PATH; install git and try again.', args, '', undefined));
            return;
          }
          const detail = String(stderr).trim() || error.message;
          reject(new GitError(`git ${args[0] ?? ''} failed: ${detail}`, args, String(stderr), code));
          return;
        }
        resolve(trim ? String(stdout).trim() : String(stdout));
      },
    );
  });
}

export async function isGitRepo(dir: string): Promise<boolean> {
  try {
    return (await git(dir, ['rev-parse', '--is-inside-work-tree'])) === 'true';
  } catch {
    return false;
  }
}

export async function repoRoot(dir: string): Promise<string> {
  return git(dir, ['rev-parse', '--show-toplevel']);
}

/** The checked-out branch, or undefined on a detached HEAD. */
export async function currentBranch(dir: string): Promise<string | undefined> {
  const name = await git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
  return name === 'HEAD' ? undefined : name;
}

export async function branchExists(dir: string, branch: string): Promise<boolean> {
  try {
    await git(dir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
    return true;
  } catch {
    return false;
  }
}

/** The remote's default branch (origin/HEAD), falling back to main, then master, then the current branch. */
export async function defaultBranch(dir: string, remote = 'origin'): Promise<string> {
  try {
    const ref = await git(dir, ['symbolic-ref', '--quiet', '--short', `refs/remotes/${remote}/HEAD`]);
    return ref.slice(remote.length + 1);
  } catch {
    // origin/HEAD is not set in every clone; guess from what exists.
  }
  for (const candidate of ['main', 'master']) {
    try {
      await git(dir, ['rev-parse', '--verify', '--quiet', `refs/remotes/${remote}/${candidate}`]);
      return candidate;
    } catch {
      // next
    }
  }
  for (const candidate of ['main', 'master']) if (await branchExists(dir, candidate)) return candidate;
  const current = await currentBranch(dir);
  if (current) return current;
  throw new GitError(`Cannot tell the default branch of ${dir}; run \`git remote set-head ${remote} --auto\`.`, [], '', undefined);
}

export async function hasRemote(dir: string, remote = 'origin'): Promise<boolean> {
  return (await git(dir, ['remote'])).split('\n').includes(remote);
}

/**
 * Creates `branch` from the freshly fetched default branch and checks it out. When the branch
 * already exists (a resumed task), it is checked out as it is.
 */
export async function createTaskBranch(dir: string, branch: string, options: { remote?: string; base?: string } = {}): Promise<{ base: string; created: boolean }> {
  const remote = options.remote ?? 'origin';
  const withRemote = await hasRemote(dir, remote);
  if (withRemote) await git(dir, ['fetch', '--quiet', remote]);
  const base = options.base ?? (await defaultBranch(dir, remote));
  if (await branchExists(dir, branch)) {
    await git(dir, ['checkout', '--quiet', branch]);
    return { base, created: false };
  }
  const startPoint = withRemote ? `${remote}/${base}` : base;
  await git(dir, ['checkout', '--quiet', '--no-track', '-b', branch, startPoint]);
  return { base, created: true };
}

export async function hasUncommittedChanges(dir: string): Promise<boolean> {
  return (await git(dir, ['status', '--porcelain'])).length > 0;
}

/** Stages everything and commits; returns the new commit's sha, or undefined when there was nothing to commit. */
export async function commitAll(dir: string, message: string, author?: { name: string; email: string }): Promise<string | undefined> {
  await git(dir, ['add', '--all']);
  if (!(await hasUncommittedChanges(dir))) return undefined;
  const identity = author ? ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`] : [];
  await git(dir, [...identity, 'commit', '--quiet', '--no-verify', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']);
}

/** Commits on `branch` that are not on `base` (remote-tracking when there is a remote). */
export async function commitsAhead(dir: string, base: string, branch = 'HEAD'): Promise<number> {
  return Number(await git(dir, ['rev-list', '--count', `${base}..${branch}`]));
}

export async function push(dir: string, branch: string, remote = 'origin'): Promise<void> {
  await git(dir, ['push', '--quiet', '--set-upstream', remote, `refs/heads/${branch}:refs/heads/${branch}`]);
}

export async function remoteUrl(dir: string, remote = 'origin'): Promise<string | undefined> {
  try {
    return await git(dir, ['remote', 'get-url', remote]);
  } catch {
    return undefined;
  }
}

export interface RemoteRepo {
  host: string;
  owner: string;
  repo: string;
}

/**
 * `https://github.com/o/r(.git)`, `git@github.com:o/r.git`, `ssh://git@host:22/o/r.git`,
 * `git://host/o/r` → { host, owner, repo }; anything else (local paths, bundles) → undefined.
 */
export function parseRemoteUrl(url: string): RemoteRepo | undefined {
  const trimmed = url.trim();
  let host: string;
  let path: string;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/.exec(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      return undefined;
    }
    if (!['https:', 'http:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:'].includes(parsed.protocol)) return undefined;
    host = parsed.hostname;
    path = decodeURIComponent(parsed.pathname);
  } else if (scp && !/^[a-z]:$/i.test(`${scp[1]}:`)) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    return undefined;
  }
  const parts = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '').split('/');
  if (parts.length !== 2 || !host) return undefined;
  const [owner, repo] = parts as [string, string];
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(owner) || !/^[A-Za-z0-9_.-]+$/.test(repo)) return undefined;
  return { host, owner, repo };
}

/** The shared .git directory of a clone (the same from every worktree), absolute. */
export async function gitCommonDir(dir: string): Promise<string> {
  return git(dir, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
}

/** A file's content at a revision, or undefined when the file is not there. */
export async function showFile(dir: string, rev: string, path: string): Promise<string | undefined> {
  try {
    return await git(dir, ['show', `${rev}:${path}`]);
  } catch {
    return undefined;
  }
}

/** Adds a worktree at `path` on `branch`, creating the branch from `startPoint` when it does not exist yet. */
export async function addWorktree(dir: string, path: string, branch: string, startPoint: string): Promise<{ created: boolean }> {
  if (await branchExists(dir, branch)) {
    await git(dir, ['worktree', 'add', '--quiet', path, branch]);
    return { created: false };
  }
  await git(dir, ['worktree', 'add', '--quiet', '--no-track', '-b', branch, path, startPoint]);
  return { created: true };
}
