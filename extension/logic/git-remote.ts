/**
 * Which checkout belongs to a task's repo (`owner/name`), read from git remote URLs, and where
 * the web side of a GitHub API lives (github.com, GitHub Enterprise, or a local test server).
 */
import { repoFromRemoteUrl, sameRepo } from '../../client/clone-repos.ts';

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
