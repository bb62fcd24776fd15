/**
 * Whether a repository is public, asked of the GitHub API without a token, so the volunteer is
 * asked for the narrowest scope that opens their PR: `public_repo` for a public repository, `repo`
 * (every private repository of theirs too) only for a private one. GitHub answers an anonymous
 * request for a private repository 404, as for one that does not exist; GitHub Enterprise in
 * private mode answers 401. Anything else (offline, rate-limited) is unknown, and the narrow scope
 * is asked: a private repository then fails to open its PR with a message that says so.
 */
import { githubScopes } from './secret-binding.ts';

export type RepoVisibility = 'public' | 'private' | 'unknown';

export async function repoVisibility(apiUrl: string, repo: string, fetchImpl: typeof fetch = fetch): Promise<RepoVisibility> {
  const [owner, name] = repo.split('/');
  if (!owner || !name) return 'unknown';
  try {
    const res = await fetchImpl(`${apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`, {
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'owp-vscode' },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 200) {
      const body = (await res.json()) as { private?: unknown };
      return body.private === true ? 'private' : 'public';
    }
    await res.arrayBuffer().catch(() => undefined);
    return res.status === 404 || res.status === 401 ? 'private' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The scopes to ask for a repository of this visibility. */
export function scopesForVisibility(visibility: RepoVisibility): string[] {
  return githubScopes(visibility === 'private');
}
