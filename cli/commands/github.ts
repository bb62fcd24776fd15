/**
 * `owp github check --config FILE`: before connecting repos for real, checks that each token in
 * the config's github section can do what the coordinator needs (see README, "Connect a repo"),
 * without writing anything to GitHub.
 */
import { resolve } from 'node:path';
import { loadConfigFile } from '../../coordinator/config.ts';
import { GitHubClient } from '../../coordinator/github/client.ts';
import { parseGitHubConfig, resolveGitHubSecrets } from '../../coordinator/github/config.ts';
import { parse, UsageError } from '../args.ts';

export const USAGE = `Usage: owp github check --config FILE

Checks, for every repo in the config file's github section, that its token (from the
environment variable or file the config names) can read the repo, its issues and its pull
requests. Nothing is written to GitHub; the comment permission (Issues: write) is listed, not tried.`;

interface Check {
  what: string;
  ok: boolean;
  hint?: string;
}

function explain(status: number | undefined, need: string, repo: string): string {
  if (status === 401) return 'GitHub rejected the token (401 Bad credentials): create a new one.';
  if (status === 404) return `the token cannot see ${repo} (404): add the repo to the token's repository access.`;
  if (status === 403) return `the token lacks "${need}" (403): edit the token's repository permissions.`;
  return `GitHub answered ${status ?? 'nothing'}: check api_url and the network.`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals[0] !== 'check' || !values.config) throw new UsageError(USAGE);
  let config: ReturnType<typeof parseGitHubConfig>;
  let secrets: ReturnType<typeof resolveGitHubSecrets>;
  try {
    const file = loadConfigFile(resolve(values.config));
    if (!file.github) throw new Error(`${values.config} has no github section. See README, "Connect a repo".`);
    config = parseGitHubConfig(file.github);
    secrets = resolveGitHubSecrets(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let failures = 0;
  for (const repo of config.repos) {
    const [owner, name] = repo.repo.split('/') as [string, string];
    const client = new GitHubClient({ apiUrl: config.api_url, token: secrets.tokens.get(repo.repo) as string, maxInlineWaitMs: 60_000 });
    const checks: Check[] = [];
    const attempt = async (what: string, need: string, call: () => Promise<unknown>): Promise<void> => {
      try {
        await call();
        checks.push({ what, ok: true });
      } catch (error) {
        checks.push({ what, ok: false, hint: explain((error as { status?: number }).status, need, repo.repo) });
      }
    };
    await attempt('read the repo', 'Metadata: Read-only', () => client.octokit.request('GET /repos/{owner}/{repo}', { owner, repo: name }));
    await attempt(`read issues labelled ${repo.label}`, 'Issues: Read-only', () => client.octokit.request('GET /repos/{owner}/{repo}/issues', { owner, repo: name, labels: repo.label, per_page: 1 }));
    await attempt('read pull requests', 'Pull requests: Read-only', () => client.octokit.request('GET /repos/{owner}/{repo}/pulls', { owner, repo: name, per_page: 1 }));
    console.log(`${repo.repo}`);
    for (const c of checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}${c.hint ? ` — ${c.hint}` : ''}`);
    if (repo.comments) console.log('  note  status comments are on: the token also needs "Issues: Read and write" (not tried; this check writes nothing)');
    failures += checks.filter((c) => !c.ok).length;
  }
  console.log(secrets.webhookSecret ? `Webhook: POST <coordinator URL>${config.webhook_path}, content type application/json, with the secret from the config; events Issues and Pull requests.` : 'Webhook: no webhook secret configured, so the coordinator relies on polling.');
  return failures === 0 ? 0 : 1;
}
