/**
 * `owp github check --config FILE`: before connecting repos for real, checks that the config's
 * github section can do what the coordinator needs (see README, "Connect a repo") — with a token
 * per repo, or as a GitHub App through its installations — without writing anything to GitHub:
 * each permission a feature needs is exercised by a read, and the contract and policy on the
 * default branch are read and validated (their errors with file, line and column).
 */
import { resolve } from 'node:path';
import { loadConfigFile } from '../../coordinator/config.ts';
import { GitHubApp } from '../../coordinator/github/app-auth.ts';
import { GitHubClient } from '../../coordinator/github/client.ts';
import { parseGitHubConfig, repoConfigOf, resolveGitHubSecrets, type GitHubRepoConfig } from '../../coordinator/github/config.ts';
import { settingsFromRepoFiles } from '../../coordinator/repo-files.ts';
import { CONTRACT_FILE } from '../../protocol/contract-schema.ts';
import { POLICY_FILE } from '../../protocol/policy-schema.ts';
import { FileProblemsError, formatDiagnostic } from '../../protocol/yaml-diagnostics.ts';
import { parse, UsageError } from '../args.ts';

export const USAGE = `Usage: owp github check --config FILE

Checks, for every repo the config file's github section connects (each listed repo with its
token, or every repo the GitHub App's installations reach), that the coordinator can read the
repo, an issue and its comments, pull requests, the contract and policy on the default branch
(validated), and CI check runs and commit statuses. Nothing is written to GitHub; the comment
permission (Issues: write) is listed, not tried.`;

const EVENTS = 'Issues, Issue comments, Pull requests, Pushes, Check runs, Check suites, Statuses';

interface Check {
  what: string;
  ok: boolean;
  hint?: string;
}

function explain(status: number | undefined, need: string, repo: string): string {
  if (status === 401) return 'GitHub rejected the credentials (401 Bad credentials): create a new token (or private key).';
  if (status === 404) return `${repo} or what was asked is not visible (404): add the repo to the token's or installation's repository access.`;
  if (status === 403) return `"${need}" is missing (403): edit the token's or App's repository permissions.`;
  return `GitHub answered ${status ?? 'nothing'}: check api_url and the network.`;
}

/** Runs the checks for one repo; returns the number of failures. */
async function checkRepo(client: GitHubClient, repo: GitHubRepoConfig): Promise<number> {
  const [owner, name] = repo.repo.split('/') as [string, string];
  const checks: Check[] = [];
  const attempt = async <T>(what: string, need: string, call: () => Promise<T>): Promise<T | undefined> => {
    try {
      const value = await call();
      checks.push({ what, ok: true });
      return value;
    } catch (error) {
      checks.push({ what, ok: false, hint: explain((error as { status?: number }).status, need, repo.repo) });
      return undefined;
    }
  };
  const info = await attempt('read the repo', 'Metadata: Read-only', async () => (await client.octokit.request('GET /repos/{owner}/{repo}', { owner, repo: name })).data as { default_branch: string });
  const listed = await attempt(`list issues labelled ${repo.label}`, 'Issues: Read-only', async () => (await client.octokit.request('GET /repos/{owner}/{repo}/issues', { owner, repo: name, labels: repo.label, state: 'all', per_page: 1 })).data as Array<{ number: number }>);
  // Listing can succeed without Issues access (it then shows only pull requests): read one issue and its comments for real.
  const any = listed?.[0] ?? (await client.octokit.request('GET /repos/{owner}/{repo}/issues', { owner, repo: name, state: 'all', per_page: 1 }).then((r) => (r.data as Array<{ number: number }>)[0]).catch(() => undefined));
  if (any) {
    await attempt(`read issue #${any.number}`, 'Issues: Read-only', () => client.octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner, repo: name, issue_number: any.number }));
    await attempt(`read the comments of #${any.number}`, 'Issues: Read-only', () => client.octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo: name, issue_number: any.number, per_page: 1 }));
  }
  await attempt('read pull requests', 'Pull requests: Read-only', () => client.octokit.request('GET /repos/{owner}/{repo}/pulls', { owner, repo: name, per_page: 1 }));
  let ciChecks: string[] = [];
  const fileLines: string[] = [];
  if (info) {
    const branch = info.default_branch;
    const sha = await attempt(`read the head of ${branch}`, 'Contents: Read-only', async () => (await client.branchHead(owner, name, branch)).data);
    if (sha) {
      const files = await attempt(`read ${CONTRACT_FILE} and ${POLICY_FILE} on ${branch}`, 'Contents: Read-only', async () => {
        const [contract, policy] = await Promise.all([client.fileText(owner, name, CONTRACT_FILE, sha), client.fileText(owner, name, POLICY_FILE, sha)]);
        return { contract, policy };
      });
      if (files) {
        try {
          ciChecks = settingsFromRepoFiles(files).required_checks ?? [];
          fileLines.push(`  info ${CONTRACT_FILE} ${files.contract === undefined ? 'absent (defaults apply)' : 'valid'}; ${POLICY_FILE} ${files.policy === undefined ? 'absent' : 'valid'}${ciChecks.length > 0 ? `; required checks: ${ciChecks.join(', ')}` : ''}`);
        } catch (error) {
          if (!(error instanceof FileProblemsError)) throw error;
          checks.push({ what: `validate the files on ${branch} (${sha.slice(0, 7)})`, ok: false, hint: 'the coordinator keeps the last valid ones until this is fixed' });
          for (const p of error.problems) for (const d of p.diagnostics) fileLines.push(`    ${formatDiagnostic(p.file, d)}`);
        }
      }
      const need = ciChecks.length > 0;
      await attempt('read check runs', 'Checks: Read-only', () => client.checkRuns(owner, name, sha));
      await attempt('read commit statuses', 'Commit statuses: Read-only', () => client.combinedStatus(owner, name, sha));
      // Without ci.checks in the contract these two are not needed: a failure is only a note.
      if (!need) for (const c of checks.slice(-2)) if (!c.ok) c.hint = `${c.hint ?? ''} (needed only once the contract names ci.checks)`;
    }
  }
  console.log(repo.repo);
  for (const c of checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}${c.hint ? ` — ${c.hint}` : ''}`);
  for (const line of fileLines) console.log(line);
  if (repo.comments) console.log('  note status comments are on: this also needs "Issues: Read and write" (not tried; this check writes nothing)');
  return checks.filter((c) => !c.ok && !(c.hint ?? '').includes('needed only once')).length;
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
  if (config.app && secrets.appPrivateKey) {
    const app = new GitHubApp({ apiUrl: config.api_url, appId: config.app.id, privateKey: secrets.appPrivateKey, client: { maxInlineWaitMs: 60_000 } });
    let login: string;
    try {
      login = (await app.whoAmI()).login;
      console.log(`GitHub App ${config.app.id}: ok, writes as ${login}`);
    } catch (error) {
      console.log(`GitHub App ${config.app.id}: FAIL — ${explain((error as { status?: number }).status, 'the App id and private key', 'the App')}`);
      return 1;
    }
    const installations = (await app.installations()).filter((i) => config.app?.installation_id === undefined || i.id === config.app.installation_id);
    if (installations.length === 0) {
      console.log('  FAIL the App is not installed anywhere (or not on installation_id): install it on the repos to connect');
      failures += 1;
    }
    for (const installation of installations) {
      const client = await app.clientOf(installation.id);
      const repos = await app.repositoriesOf(installation.id);
      console.log(`installation ${installation.id} (${installation.account}): ${repos.length} repo(s)`);
      for (const full of repos) failures += await checkRepo(client, repoConfigOf(config, full));
    }
  } else {
    for (const repo of config.repos) {
      failures += await checkRepo(new GitHubClient({ apiUrl: config.api_url, token: secrets.tokens.get(repo.repo) as string, maxInlineWaitMs: 60_000 }), repo);
    }
  }
  const secretSet = secrets.webhookSecret !== undefined || secrets.repoWebhookSecrets.size > 0;
  console.log(secretSet
    ? `Webhook: POST <coordinator URL>${config.webhook_path}, content type application/json, with the secret from the config; events ${EVENTS}${config.app ? ' (the App also gets Installation repositories)' : ''}.`
    : 'Webhook: no webhook secret configured, so the coordinator relies on polling.');
  return failures === 0 ? 0 : 1;
}
