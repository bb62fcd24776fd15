/**
 * The volunteer's GitHub client: Octokit with the volunteer's own token (the coordinator never
 * holds it), a configurable API base URL (GitHub Enterprise: `https://HOST/api/v3`; local test
 * servers), and GitHub's error answers turned into a status and a readable detail.
 */
import { Octokit } from '@octokit/rest';

export const GITHUB_API_URL = 'https://api.github.com';

export interface VolunteerGitHubOptions {
  token: string;
  apiBaseUrl?: string;
  userAgent?: string;
  /** For tests and proxies. */
  request?: { fetch?: typeof fetch; timeout?: number };
}

export function volunteerOctokit(options: VolunteerGitHubOptions): Octokit {
  return new Octokit({
    auth: options.token,
    baseUrl: (options.apiBaseUrl ?? GITHUB_API_URL).replace(/\/$/, ''),
    userAgent: options.userAgent ?? 'owp-worker/0.1',
    request: { timeout: 30_000, ...options.request },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

export interface GitHubFailure {
  /** GitHub's HTTP status; undefined when no answer came (network, DNS, timeout). */
  status: number | undefined;
  /** GitHub's message and its validation errors, joined. */
  detail: string;
}

/** What GitHub said, from an Octokit RequestError (or anything thrown on the way). */
export function githubFailure(error: unknown): GitHubFailure {
  const e = error as { status?: number; message?: string; response?: { data?: { message?: string; errors?: Array<{ message?: string; code?: string; field?: string }> } } };
  const errors = (e.response?.data?.errors ?? []).map((x) => x.message ?? [x.field, x.code].filter(Boolean).join(' '));
  const detail = [e.response?.data?.message, ...errors].filter(Boolean).join('; ') || e.message || String(error);
  // Octokit reports a request that never got an answer as status 500 without a response.
  const status = e.response && typeof e.status === 'number' && e.status > 0 ? e.status : undefined;
  return { status, detail };
}
