/**
 * Checks a worker's `pr_opened` report against GitHub before the engine sees it (a runtime
 * `beforeCommand` hook): the PR exists in the task's repo, its head branch follows the repo's
 * branch naming for this task, its author is the worker's GitHub login, it references the
 * task's issue, and no other task already claims it. A mismatch is refused with PR_MISMATCH,
 * listing every failed check. On success the report's `pr` gets `number`, `branch` and
 * `x_github` (provenance: author, head sha, whether every commit is verified/signed as GitHub
 * reports it), so they land in the journal with the pr.opened event. `x_github` is the
 * coordinator's to write: whatever a worker sends under that key is dropped.
 */
import { matchBranch } from '../../protocol/branch-name.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { OperationName } from '../../protocol/operations.ts';
import { isTerminal } from '../../protocol/states.ts';
import type { Principal } from '../auth.ts';
import type { Runtime } from '../runtime.ts';
import { GitHubRateLimitError, type GitHubCommit, type GitHubPull } from './client.ts';
import { parsePullUrl, prNumberOf, type ConnectedRepo, type IntegrationContext } from './context.ts';
import { mentionsIssue } from './repo-sync.ts';

export interface Mismatch {
  check: 'repo' | 'number' | 'exists' | 'state' | 'branch' | 'author' | 'issue' | 'duplicate';
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export type BeforeCommand = (principal: Principal, name: OperationName, params: Record<string, unknown>, runtime: Runtime) => Promise<void>;

const VERIFIED_TTL_MS = 24 * 3_600_000;

interface Verified {
  at: number;
  number: number;
  branch: string;
  head_repo: string;
  head_sha: string;
  x_github: Record<string, unknown>;
}

export function prVerifier(ctx: IntegrationContext): BeforeCommand {
  // Lease id → what a successful check added, so a retry with the same idempotency key (after
  // the lease ended) carries the same payload and replays instead of being refused as reused.
  const verified = new Map<string, Verified>();

  return async (principal, name, params, runtime) => {
    if (name !== 'lease.report' || params.state !== 'pr_opened' || principal.kind !== 'worker') return;
    const pr = params.pr as Record<string, unknown> | undefined;
    if (!pr || typeof pr !== 'object') return;
    delete pr.x_github;
    delete pr.head_repo;
    delete pr.head_sha;
    const leaseId = String(params.lease_id);
    const lease = runtime.engine.state.leases.get(leaseId);
    if (!lease) {
      const earlier = verified.get(leaseId);
      if (earlier) Object.assign(pr, { number: earlier.number, branch: earlier.branch, head_repo: earlier.head_repo, head_sha: earlier.head_sha, x_github: earlier.x_github });
      return; // The engine answers LEASE_EXPIRED, or replays the first answer.
    }
    if (lease.worker_id !== principal.id || lease.epoch !== params.epoch) return; // NOT_HOLDER / STALE_EPOCH from the engine.
    const task = runtime.engine.state.tasks.get(lease.task_id);
    const repo = ctx.repo(task?.repo);
    const gone = task && !repo ? ctx.disconnected.get(task.repo.toLowerCase()) : undefined;
    if (gone) {
      // Taking the report unverified would make a worker's word count where the maintainers expect GitHub's.
      const why = gone.reason === 'app_suspended' ? 'its GitHub App installation is suspended' : 'its GitHub App was uninstalled';
      throw new OwpError('UNAVAILABLE', `The coordinator cannot check PRs of ${task?.repo} with GitHub: ${why}. Nothing was changed; keep the lease and report again once a maintainer has installed the App again.`, { repo: task?.repo, reason: gone.reason });
    }
    if (!task || !repo || !repo.config.verify_prs) return;
    const login = runtime.engine.state.workers.get(principal.id)?.record.github_login ?? '';
    const url = String(pr.url);
    const webUrl = ctx.config.web_url;

    const number = parsePullUrl(url, repo, webUrl);
    if (number === undefined) {
      throw mismatch(url, [{ check: 'repo', message: `pr.url must be a pull request of ${repo.config.repo}, like ${webUrl}/${repo.owner}/${repo.name}/pull/123`, expected: `${webUrl}/${repo.owner}/${repo.name}/pull/<number>`, actual: url }]);
    }
    const mismatches: Mismatch[] = [];
    if (pr.number !== undefined && pr.number !== number) mismatches.push({ check: 'number', message: `pr.number ${String(pr.number)} is not the number in pr.url (${number})`, expected: number, actual: pr.number });

    let pull: GitHubPull | null;
    let commits: GitHubCommit[] = [];
    try {
      pull = await repo.client.pull(repo.owner, repo.name, number);
      if (pull) commits = await repo.client.pullCommits(repo.owner, repo.name, number);
    } catch (error) {
      const why = error instanceof GitHubRateLimitError ? error.message : `GitHub answered ${(error as { status?: number }).status ?? (error as Error).message}`;
      throw new OwpError('UNAVAILABLE', `The coordinator could not check PR #${number} with GitHub (${why}). Nothing was changed; report again with the same idempotency key in a moment.`, { pr_url: url });
    }
    if (!pull) throw mismatch(url, [{ check: 'exists', message: `${repo.config.repo} has no pull request #${number} on GitHub`, actual: number }]);

    if (pull.state !== 'open' && !pull.merged_at) mismatches.push({ check: 'state', message: `PR #${number} is closed`, expected: 'open', actual: pull.state });
    if (!matchBranch(pull.head.ref, repo.config.branch, task.id)) {
      mismatches.push({ check: 'branch', message: `the PR's head branch "${pull.head.ref}" does not follow ${repo.config.branch} for ${task.id}`, expected: repo.config.branch.replaceAll('{task_id}', task.id), actual: pull.head.ref });
    }
    if (typeof pr.branch === 'string' && pr.branch !== pull.head.ref) mismatches.push({ check: 'branch', message: `pr.branch "${pr.branch}" is not the PR's head branch "${pull.head.ref}"`, expected: pull.head.ref, actual: pr.branch });
    const author = pull.user?.login ?? '';
    if (author.toLowerCase() !== login.toLowerCase()) mismatches.push({ check: 'author', message: `the PR was opened by ${author || 'an unknown user'}, not by this worker's GitHub login ${login}`, expected: login, actual: author });
    if (task.issue && !mentionsIssue(`${pull.title}\n${pull.body ?? ''}`, task.issue.number, repo, webUrl)) {
      mismatches.push({ check: 'issue', message: `the PR's title or body does not reference issue #${task.issue.number} (write "Closes #${task.issue.number}")`, expected: `#${task.issue.number}` });
    }
    for (const other of runtime.engine.state.tasks.values()) {
      if (other.id !== task.id && other.repo === task.repo && !isTerminal(other.state) && prNumberOf(other, repo, webUrl) === number) {
        mismatches.push({ check: 'duplicate', message: `PR #${number} is already reported for ${other.id}`, actual: other.id });
      }
    }
    if (mismatches.length > 0) throw mismatch(url, mismatches);

    const signed = commits.filter((c) => c.commit.verification?.verified === true).length;
    const x_github = {
      number,
      html_url: pull.html_url,
      author,
      head: pull.head.ref,
      head_sha: pull.head.sha,
      commits: commits.length,
      verified_commits: signed,
      all_commits_verified: commits.length > 0 && signed === commits.length,
      // GitHub's word, not the worker's: the per-contributor cap may leave drafts out.
      draft: pull.draft === true,
    };
    // Where the head lives (the repo itself, or the volunteer's fork) and the commit verified: the
    // coordinator's to write, like x_github; checks are read on this head (checks-sync.ts).
    const head = { head_repo: pull.head.repo?.full_name ?? repo.config.repo, head_sha: pull.head.sha };
    Object.assign(pr, { number, branch: pull.head.ref, ...head, x_github });
    const now = Date.now();
    verified.set(leaseId, { at: now, number, branch: pull.head.ref, ...head, x_github });
    for (const [id, v] of verified) if (v.at + VERIFIED_TTL_MS < now) verified.delete(id);
  };
}

function mismatch(url: string, mismatches: Mismatch[]): OwpError {
  return new OwpError('PR_MISMATCH', `The reported PR does not match GitHub: ${mismatches.map((m) => m.message).join('; ')}. Fix the PR (or report the right one) and report again.`, { pr_url: url, mismatches });
}
