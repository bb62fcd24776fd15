/**
 * Pushing the task branch to a GitHub repository with the volunteer's token: through a named git
 * remote for that repository (added once; its URL carries no secret), with the token handed to
 * git for that URL only as an `http.<url>.extraHeader` in the environment of the one git process
 * (GIT_CONFIG_COUNT), so it is never written to .git/config nor shown in a process's arguments.
 * A fork GitHub is still copying refuses pushes for a moment: those are retried until it is ready.
 */
import { git, GitError, parseRemoteUrl } from './git.ts';
import { DEFAULT_FORK_TIMEOUT_MS, ForkError, sleep, type ForkWaiting } from './fork.ts';

export type PushErrorCode = 'PUSH_REJECTED' | 'PUSH_AUTH_FAILED';

export class PushError extends Error {
  constructor(
    readonly code: PushErrorCode,
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface PushBranchOptions {
  dir: string;
  branch: string;
  /** The repository's git URL (`clone_url`). */
  url: string;
  /** The volunteer's token, for an http(s) URL; an SSH URL uses their SSH key instead. */
  token?: string;
  /** Name for the remote when none points at `url` yet (e.g. the fork owner's login). */
  remoteName: string;
  /** Set when the repository was just forked: pushes GitHub refuses while copying are retried until then. */
  retryWhileNew?: ForkWaiting;
}

/**
 * The environment that lets git authenticate to `url` with `token`, and only there. Entries the
 * parent environment already passes through GIT_CONFIG_COUNT are kept.
 */
export function tokenAuthEnv(url: string, token: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const count = Number(base.GIT_CONFIG_COUNT ?? 0) || 0;
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: String(count + 1),
    [`GIT_CONFIG_KEY_${count}`]: `http.${url}.extraheader`,
    [`GIT_CONFIG_VALUE_${count}`]: `AUTHORIZATION: basic ${basic}`,
  };
}

const sameRepo = (a: string, b: string): boolean => {
  if (a === b) return true;
  const pa = parseRemoteUrl(a);
  const pb = parseRemoteUrl(b);
  return pa !== undefined && pb !== undefined && pa.host.toLowerCase() === pb.host.toLowerCase() && pa.owner.toLowerCase() === pb.owner.toLowerCase() && pa.repo.toLowerCase() === pb.repo.toLowerCase();
};

/** The remote that points at `url` (any protocol), adding one named `preferred` (or a free variant) when none does. */
export async function ensureRemote(dir: string, url: string, preferred: string): Promise<string> {
  const lines = await git(dir, ['config', '--get-regexp', '^remote\\..*\\.url$']).catch(() => '');
  const remotes = new Map<string, string>();
  for (const line of lines.split('\n').filter(Boolean)) {
    const space = line.indexOf(' ');
    remotes.set(line.slice('remote.'.length, space - '.url'.length), line.slice(space + 1));
  }
  for (const [name, existing] of remotes) if (sameRepo(existing, url)) return name;
  const safe = preferred.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[-.]+/, '') || 'fork';
  const candidates = [safe, `${safe}-fork`, 'owp-fork', ...Array.from({ length: 8 }, (_, i) => `owp-fork-${i + 2}`)];
  const name = candidates.find((c) => !remotes.has(c));
  if (!name) throw new GitError(`Too many remotes named like ${safe} in ${dir}; remove one with \`git remote remove NAME\`.`, [], '', undefined);
  await git(dir, ['remote', 'add', name, url]);
  return name;
}

/** GitHub refuses pushes to a fork it is still copying with "not found"-like answers. */
const NOT_READY = /not found|does not exist|does not appear to be a git repository|could not read from remote repository/i;
const AUTH = /authentication failed|could not read username|invalid username or password|403|permission to .* denied|terminal prompts disabled/i;

/** Pushes `branch` to the repository at `url`; returns the remote's name. Throws PushError or ForkError. */
export async function pushBranch(options: PushBranchOptions): Promise<string> {
  const { dir, branch, url } = options;
  const remote = await ensureRemote(dir, url, options.remoteName);
  const env = options.token && /^https?:\/\//i.test(url) ? tokenAuthEnv(url, options.token) : {};
  const args = ['push', '--quiet', '--set-upstream', remote, `refs/heads/${branch}:refs/heads/${branch}`];
  const waiting = options.retryWhileNew;
  const now = waiting?.now ?? Date.now;
  const deadline = now() + (waiting?.timeoutMs ?? DEFAULT_FORK_TIMEOUT_MS);
  let interval = waiting?.intervalMs ?? 1000;
  for (;;) {
    try {
      await git(dir, args, { env });
      return remote;
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      const stderr = error.stderr.trim();
      if (waiting && NOT_READY.test(stderr) && !AUTH.test(stderr)) {
        if (now() >= deadline) throw new ForkError('FORK_NOT_READY', `The new fork at ${url} still refuses pushes after ${Math.round((waiting.timeoutMs ?? DEFAULT_FORK_TIMEOUT_MS) / 1000)} s (GitHub is still copying it). Your work is committed locally; submit again in a few minutes.`);
        await (waiting.sleep ?? sleep)(Math.min(interval, Math.max(0, deadline - now())), waiting.signal);
        interval = Math.min(interval * 2, 10_000);
        continue;
      }
      const said = stderr.split('\n').filter((l) => l.trim() && !/^hint:/.test(l)).slice(0, 4).join(' ').slice(0, 400);
      if (AUTH.test(stderr)) throw new PushError('PUSH_AUTH_FAILED', `Pushing ${branch} to ${url} was refused for your token (${said}). Use a token that may push to that repository (classic: public_repo; fine-grained: Contents read and write on it).`, stderr);
      throw new PushError('PUSH_REJECTED', `Pushing ${branch} to ${url} was rejected (${said}). ${/non-fast-forward|fetch first|\[rejected\]/.test(stderr) ? `The branch there has commits you do not have: pull them into ${branch} (git pull ${remote} ${branch}) and submit again.` : 'Check the repository and your access, then submit again.'}`, stderr);
    }
  }
}
