/**
 * Which checkout belongs to a task's repo (`owner/name`), read from git remote URLs, and where
 * the web side of a GitHub API lives (github.com, GitHub Enterprise, or a local test server).
 */
import { parseRemoteUrl } from '../../client/git.ts';

/**
 * `owner/name` from a remote URL. Hosted remotes are read by the worker side's parseRemoteUrl;
 * local remotes (/srv/git/owner/name.git, file:// URLs, as in demos and tests) by their last two
 * path segments.
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

/** The first remote (origin preferred) whose URL points at the repo. */
export function remoteForRepo(remotes: ReadonlyArray<{ name: string; fetchUrl?: string; pushUrl?: string }>, repo: string): string | undefined {
  const ordered = [...remotes].sort((a, b) => (a.name === 'origin' ? -1 : b.name === 'origin' ? 1 : 0));
  for (const remote of ordered) {
    for (const url of [remote.fetchUrl, remote.pushUrl]) {
      const found = url ? repoFromRemoteUrl(url) : undefined;
      if (found && sameRepo(found, repo)) return remote.name;
    }
  }
  return undefined;
}

/** https://api.github.com → https://github.com; https://ghe.example/api/v3 → https://ghe.example; else the API URL itself. */
export function webBaseUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  const path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith('/api/v3')) url.pathname = path.slice(0, -'/api/v3'.length) || '/';
  return url.href.replace(/\/+$/, '');
}

export function cloneUrl(apiUrl: string, repo: string): string {
  return `${webBaseUrl(apiUrl)}/${repo}.git`;
}
