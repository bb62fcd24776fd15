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
import { parseGitHubConfig, repoConfigOf, resolveGitHubSecrets, type GitHubAppConfig, type GitHubConfig, type GitHubRepoConfig } from '../../coordinator/github/config.ts';
import { settingsFromRepoFiles } from '../../coordinator/repo-files.ts';
import { CONTRACT_FILE } from '../../protocol/contract-schema.ts';
import { POLICY_FILE } from '../../protocol/policy-schema.ts';
import { FileProblemsError, formatDiagnostic } from '../../protocol/yaml-diagnostics.ts';
import { parse, UsageError } from '../args.ts';

export const USAGE = `Usage: owp github check --config FILE

Checks, for every repo the config file's github section connects (each listed repo with its
token, or every repo the GitHub App's installations reach), that the coordinator can read the
repo, an issue and its comments, pull requests, the contract and policy on the default branch
(validated), and CI check runs and commit statuses. An App installation the coordinator is
disconnected from (suspended, uninstalled, or not reaching a listed repo) is named with what to
do. Nothing is written to GitHub; the comment permission (Issues: write) is listed, not tried.`;

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

/** Where an account manages the Apps installed on it (a user's, an organization's). */
const INSTALLED_APPS = 'the account\'s Settings → Applications → Installed GitHub Apps (an organization: its Settings → GitHub Apps)';
/** GitHub: an installation is unsuspended the way it was suspended (by the account, or by the App's owner). */
const UNSUSPEND = `whoever suspended it unsuspends it: the account's owner in ${INSTALLED_APPS} → Configure, or the App's owner in Developer settings → GitHub Apps → Advanced`;

/**
 * The App route: its identity, then each installation the coordinator would use. An installation
 * that is gone (uninstalled) or suspended is what a coordinator meets as "disconnected": it stops
 * using it, and its repos' reports are refused. Each is named with what to do, and a repo the config
 * lists that no installation reaches any more is named too. Returns the number of failures.
 */
async function checkApp(config: GitHubConfig, appConfig: GitHubAppConfig, privateKey: string): Promise<number> {
  const app = new GitHubApp({ apiUrl: config.api_url, appId: appConfig.id, privateKey, client: { maxInlineWaitMs: 60_000 } });
  try {
    console.log(`GitHub App ${appConfig.id}: ok, writes as ${(await app.whoAmI()).login}`);
  } catch (error) {
    console.log(`GitHub App ${appConfig.id}: FAIL — ${explain((error as { status?: number }).status, 'the App id and private key', 'the App')}`);
    return 1;
  }
  let failures = 0;
  const all = await app.installations();
  const wanted = appConfig.installation_id;
  const installations = all.filter((i) => wanted === undefined || i.id === wanted);
  if (all.length === 0) {
    console.log(`  FAIL the App is not installed anywhere (uninstalled, or never installed): install it on the repos to connect, from the App's public page or ${INSTALLED_APPS}`);
    failures += 1;
  } else if (installations.length === 0) {
    const others = all.map((i) => `${i.id} (${i.account})`).join(', ');
    console.log(`  FAIL installation ${wanted} is not an installation of this App (it was uninstalled, or belongs to another App): the coordinator is disconnected from it. Install the App again and set app.installation_id to the new id, or remove installation_id to use every installation. Installed now: ${others}`);
    failures += 1;
  }
  const reached = new Set<string>();
  const suspended = new Set<string>();
  for (const installation of installations) {
    if (installation.suspended_at) {
      console.log(`installation ${installation.id} (${installation.account}): FAIL suspended since ${installation.suspended_at}${installation.suspended_by ? ` by ${installation.suspended_by}` : ''} — GitHub refuses its tokens (403), so the coordinator is disconnected from its repos. To reconnect, ${UNSUSPEND}; the coordinator takes it up again on the unsuspend webhook or at its next start.`);
      suspended.add(installation.account.toLowerCase());
      failures += 1;
      continue;
    }
    let repos: string[];
    let client: GitHubClient;
    try {
      client = await app.clientOf(installation.id);
      repos = await app.repositoriesOf(installation.id);
    } catch (error) {
      // Uninstalled or suspended between the listing and the token: say so rather than crash.
      const status = (error as { status?: number }).status;
      const why = status === 404 ? 'is gone (uninstalled just now)' : status === 403 ? 'is suspended' : `could not be used: ${(error as Error).message}`;
      console.log(`installation ${installation.id} (${installation.account}): FAIL no installation token — the installation ${why}. Install the App again (${INSTALLED_APPS}) or, if suspended, ${UNSUSPEND}; then run this check again.`);
      failures += 1;
      continue;
    }
    console.log(`installation ${installation.id} (${installation.account}): ${repos.length} repo(s)`);
    for (const full of repos) {
      reached.add(full.toLowerCase());
      failures += await checkRepo(client, repoConfigOf(config, full));
    }
  }
  for (const listed of config.repos) {
    // A suspended installation's repos were named with it above.
    if (reached.has(listed.repo.toLowerCase()) || suspended.has((listed.repo.split('/')[0] ?? '').toLowerCase())) continue;
    console.log(`${listed.repo}\n  FAIL listed in the config's repos, but no usable installation of the App reaches it: add it to the installation's repository access (or install the App on ${listed.repo.split('/')[0]}) in ${INSTALLED_APPS}`);
    failures += 1;
  }
  return failures;
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
    failures += await checkApp(config, config.app, secrets.appPrivateKey);
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
