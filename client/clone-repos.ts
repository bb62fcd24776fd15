/**
 * Which repositories a clone can work on, read from its git remotes: a worker in a clone declares
 * them (SPEC MATCH-005) so that it is offered only their tasks, and refuses any other.
 */
import { git, parseRemoteUrl } from './git.ts';

/** The remotes a clone's repos are read from: the clone itself, and the repo it forks. */
export const REPO_REMOTES = ['origin', 'upstream'] as const;

/**
 * `owner/name` from a remote URL. Hosted remotes are read by parseRemoteUrl; local remotes
 * (/srv/git/owner/name.git, file:// URLs, as in demos and tests) by their last two path segments.
 */
export function repoFromRemoteUrl(remote: string): string | undefined {
  const hosted = parseRemoteUrl(remote);
  if (hosted) return `${hosted.owner}/${hosted.repo}`;
  let path = remote.trim();
  if (/^file:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    return undefined;
  }
  const segments = path.replace(/\\/g, '/').replace(/\/+$/, '').replace(/\.git$/i, '').split('/').filter(Boolean);
  if (segments.length < 2) return undefined;
  return `${segments[segments.length - 2]}/${segments[segments.length - 1]}`;
}

/** Repo ids compare case-insensitively, as GitHub does. */
export function sameRepo(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Whether `repo` is one of `repos` (case-insensitively). */
export function includesRepo(repos: readonly string[], repo: string): boolean {
  return repos.some((r) => sameRepo(r, repo));
}

/** The repos named by the clone's origin and upstream remotes (fetch URLs), in that order, without repeats. */
export async function cloneRepos(dir: string): Promise<string[]> {
  const repos: string[] = [];
  for (const remote of REPO_REMOTES) {
    let url: string;
    try {
      url = await git(dir, ['remote', 'get-url', remote]);
    } catch {
      continue;
    }
    const repo = repoFromRemoteUrl(url);
    if (repo && !includesRepo(repos, repo)) repos.push(repo);
  }
  return repos;
}
