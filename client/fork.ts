/**
 * Where the volunteer's task branch goes, decided as a person on github.com would, with their own
 * token: to the upstream repository when they may push there, else to their fork of it — found
 * (`GET /repos/{login}/{repo}`, else the upstream's fork list) or created (`POST …/forks`, which
 * GitHub answers 202 before the fork exists: it is made asynchronously, so we wait for it). The
 * pull request then opens against upstream with `head: "<fork owner>:<branch>"`.
 */
import type { Octokit } from '@octokit/rest';
import { githubFailure } from './github-api.ts';

/** `auto`: upstream with push access, else a fork. `fork` / `upstream` force one. */
export type PushMode = 'auto' | 'fork' | 'upstream';

export const PUSH_MODES: readonly PushMode[] = ['auto', 'fork', 'upstream'];

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface PushTarget {
  kind: 'upstream' | 'fork';
  /** The repository the branch is pushed to. */
  owner: string;
  repo: string;
  /** Its HTTPS git URL, as GitHub gives it (`clone_url`). */
  cloneUrl: string;
  /** The upstream's default branch: the PR's base. */
  base: string;
  /** `fork` only: made by this call (GitHub may still be copying its git objects). */
  created?: boolean;
  /** `upstream` only: GitHub did not say whether the volunteer may push there; try, and fork if refused. */
  uncertain?: boolean;
  /** Why this target, for the volunteer ("no push access to acme/site: using your fork alice/site"). */
  reason: string;
}

/** Time, injected so tests move it instead of sleeping. */
export interface ForkWaiting {
  /** How long a new fork may take to appear; default 5 minutes (GitHub: "contact support" past that). */
  timeoutMs?: number;
  /** First pause between looks; doubles up to 10 s. Default 1 s. */
  intervalMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

export type ForkErrorCode = 'UPSTREAM_NOT_VISIBLE' | 'FORK_REFUSED' | 'FORK_NOT_READY' | 'FORK_LOOKUP_FAILED';

export class ForkError extends Error {
  constructor(
    readonly code: ForkErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export const DEFAULT_FORK_TIMEOUT_MS = 5 * 60_000;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface RepoJson {
  full_name: string;
  name: string;
  owner: { login: string } | null;
  fork: boolean;
  clone_url?: string;
  default_branch?: string;
  allow_forking?: boolean;
  permissions?: { push?: boolean };
  parent?: { full_name: string };
  source?: { full_name: string };
}

const same = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * Decides where to push and, for a fork, finds or creates it (and waits until GitHub shows it).
 * `login` is the token's user; it is asked from `GET /user` when not given.
 */
export async function resolvePushTarget(octokit: Octokit, upstream: RepoRef, mode: PushMode, options: { login?: string; waiting?: ForkWaiting; onProgress?: (message: string) => void } = {}): Promise<PushTarget> {
  const full = `${upstream.owner}/${upstream.repo}`;
  const up = await getRepo(octokit, upstream).catch((error: unknown) => {
    const { status, detail } = githubFailure(error);
    if (status === 404) throw new ForkError('UPSTREAM_NOT_VISIBLE', `GitHub cannot see ${full} with your token (404). Check the token can read public repositories (classic: public_repo; fine-grained: Metadata read).`, 404);
    throw new ForkError('FORK_LOOKUP_FAILED', `Could not read ${full} from GitHub (${status ?? 'no answer'}: ${detail}).`, status);
  });
  if (!up) throw new ForkError('UPSTREAM_NOT_VISIBLE', `GitHub cannot see ${full} with your token (404).`, 404);
  const base = up.default_branch ?? 'main';
  const upstreamTarget = (reason: string): PushTarget => ({ kind: 'upstream', owner: upstream.owner, repo: upstream.repo, cloneUrl: up.clone_url ?? '', base, reason });
  if (mode === 'upstream') return upstreamTarget(`pushing to ${full} (forced)`);
  if (mode === 'auto' && up.permissions?.push === true) return upstreamTarget(`you have push access to ${full}`);
  // Some tokens get no `permissions` in the answer: try upstream, fall back to a fork (publish.ts).
  if (mode === 'auto' && up.permissions === undefined) return { ...upstreamTarget(`GitHub did not say whether you may push to ${full}`), uncertain: true };

  const login = options.login ?? (await octokit.rest.users.getAuthenticated()).data.login;
  if (same(login, upstream.owner)) return upstreamTarget(`${full} is yours`);
  const why = mode === 'fork' ? 'forced' : `no push access to ${full}`;
  const found = await findFork(octokit, upstream, login);
  if (found) return forkTarget(found, base, false, `${why}: using your fork ${found.full_name}`);

  if (up.allow_forking === false) throw new ForkError('FORK_REFUSED', `${full} does not allow forks, and you have no push access to it. Ask a maintainer for access, or for forking to be allowed.`);
  options.onProgress?.(`forking ${full} to ${login}`);
  let created: RepoJson;
  try {
    created = (await octokit.request('POST /repos/{owner}/{repo}/forks', { owner: upstream.owner, repo: upstream.repo, default_branch_only: true })).data as unknown as RepoJson;
  } catch (error) {
    const { status, detail } = githubFailure(error);
    if (status === 403 || status === 422 || status === 404) {
      throw new ForkError('FORK_REFUSED', `GitHub refused to fork ${full} for ${login} (${status}: ${detail}). ${status === 403 ? 'Your token may lack the right to create repositories (classic: public_repo; fine-grained: Administration write), or the owner forbids forks.' : 'Forking may be disabled for this repository or organization.'} Ask a maintainer for push access, or fork it on github.com and submit again.`, status);
    }
    throw new ForkError('FORK_LOOKUP_FAILED', `Forking ${full} failed (${status ?? 'no answer'}: ${detail}). Try again in a moment.`, status);
  }
  options.onProgress?.(`waiting for GitHub to finish the fork ${created.full_name}`);
  const ready = await waitForFork(octokit, created, options.waiting ?? {});
  return forkTarget(ready, base, true, `${why}: forked ${full} to ${ready.full_name}`);
}

function forkTarget(fork: RepoJson, base: string, created: boolean, reason: string): PushTarget {
  const [owner, repo] = fork.full_name.split('/') as [string, string];
  return { kind: 'fork', owner, repo, cloneUrl: fork.clone_url ?? '', base, created, reason };
}

async function getRepo(octokit: Octokit, ref: RepoRef): Promise<RepoJson | undefined> {
  try {
    return (await octokit.rest.repos.get({ owner: ref.owner, repo: ref.repo })).data as unknown as RepoJson;
  } catch (error) {
    if (githubFailure(error).status === 404) return undefined;
    throw error;
  }
}

/** Is `repo` a fork of `upstream` (directly, or further down its network)? */
function isForkOf(repo: RepoJson, upstream: string): boolean {
  return repo.fork && (same(repo.parent?.full_name, upstream) || same(repo.source?.full_name, upstream));
}

/** The login's fork of upstream: same name first (the usual case), else the upstream's fork list. */
async function findFork(octokit: Octokit, upstream: RepoRef, login: string): Promise<RepoJson | undefined> {
  const full = `${upstream.owner}/${upstream.repo}`;
  try {
    const direct = await getRepo(octokit, { owner: login, repo: upstream.repo });
    // A repo of that name that is not a fork of upstream (their own project) is no fork of it.
    if (direct && isForkOf(direct, full)) return direct;
    // A fork renamed, or named `repo-1` because the name was taken: look through the forks.
    // Popular repositories have many; after 10 pages, creating the fork returns the existing one.
    let pages = 0;
    for await (const page of octokit.paginate.iterator('GET /repos/{owner}/{repo}/forks', { owner: upstream.owner, repo: upstream.repo, per_page: 100, sort: 'newest' })) {
      const mine = (page.data as unknown as RepoJson[]).find((r) => same(r.owner?.login, login));
      if (mine) return mine;
      if (++pages >= 10) break;
    }
    return undefined;
  } catch (error) {
    const { status, detail } = githubFailure(error);
    throw new ForkError('FORK_LOOKUP_FAILED', `Could not look for your fork of ${full} (${status ?? 'no answer'}: ${detail}). Try again in a moment.`, status);
  }
}

/** Waits until GitHub shows the new fork (404 until its copy starts); gives up after the timeout. */
async function waitForFork(octokit: Octokit, fork: RepoJson, waiting: ForkWaiting): Promise<RepoJson> {
  const now = waiting.now ?? Date.now;
  const pause = waiting.sleep ?? sleep;
  const deadline = now() + (waiting.timeoutMs ?? DEFAULT_FORK_TIMEOUT_MS);
  const [owner, repo] = fork.full_name.split('/') as [string, string];
  let interval = waiting.intervalMs ?? 1000;
  for (;;) {
    const seen = await getRepo(octokit, { owner, repo }).catch(() => undefined);
    if (seen) return { ...fork, ...seen };
    if (now() >= deadline) {
      throw new ForkError('FORK_NOT_READY', `GitHub has not finished forking to ${fork.full_name} after ${Math.round((waiting.timeoutMs ?? DEFAULT_FORK_TIMEOUT_MS) / 1000)} s. Your work is committed locally; submit again in a few minutes.`);
    }
    await pause(Math.min(interval, Math.max(0, deadline - now())), waiting.signal);
    interval = Math.min(interval * 2, 10_000);
  }
}
