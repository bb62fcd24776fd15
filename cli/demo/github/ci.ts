/**
 * CI in the GitHub-shaped server: check runs (what GitHub Actions and other Apps report, grouped
 * in one check suite per commit and App) and commit statuses (the Statuses API, latest per
 * context). Every change delivers the webhook GitHub sends: `check_run` created / completed,
 * `check_suite` completed once every run of the suite completed, `status`. Tests and the demo
 * play CI through `CiState`; routes/checks.ts serves the reads and status creation.
 */
import { checkRunShape, checkSuiteShape } from './ci-shapes.ts';
import { iso, lower, type FakeCheckRun, type FakeRepo, type FakeStatus } from './model.ts';
import type { FakeGitHubState } from './state.ts';

export interface CheckRunInput {
  head_sha: string;
  name: string;
  status?: FakeCheckRun['status'];
  conclusion?: FakeCheckRun['conclusion'];
  details_url?: string | null;
  /** The App reporting it; default GitHub Actions. */
  app?: string;
  head_branch?: string | null;
}

export class CiState {
  readonly runs: FakeCheckRun[] = [];
  readonly statuses: FakeStatus[] = [];
  private readonly suites = new Map<string, number>();

  constructor(private readonly state: FakeGitHubState) {}

  /** A check run starts (or is reported already finished), as an App's `POST /check-runs` makes it. */
  addCheckRun(fullName: string, input: CheckRunInput): FakeCheckRun {
    const repo = this.state.repo(fullName);
    const app = input.app ?? 'github-actions';
    const suiteKey = `${lower(fullName)} ${input.head_sha} ${app}`;
    let suite = this.suites.get(suiteKey);
    if (suite === undefined) this.suites.set(suiteKey, (suite = this.state.id()));
    const now = iso(Date.now());
    const status = input.status ?? (input.conclusion ? 'completed' : 'queued');
    const run: FakeCheckRun = {
      id: this.state.id(),
      repo: lower(fullName),
      head_sha: input.head_sha,
      head_branch: input.head_branch ?? this.branchOf(repo, input.head_sha),
      name: input.name,
      status,
      conclusion: status === 'completed' ? (input.conclusion ?? 'success') : null,
      started_at: now,
      completed_at: status === 'completed' ? now : null,
      details_url: input.details_url ?? null,
      suite_id: suite,
      app_slug: app,
    };
    this.runs.push(run);
    this.deliverRun(repo, run, 'created');
    if (run.status === 'completed') this.finished(repo, run);
    return run;
  }

  /** A check run moves on (in progress, or completed with a conclusion). */
  updateCheckRun(id: number, change: { status?: FakeCheckRun['status']; conclusion?: FakeCheckRun['conclusion']; details_url?: string | null }): FakeCheckRun {
    const run = this.runs.find((r) => r.id === id);
    if (!run) throw new Error(`no check run ${id}`);
    const repo = this.state.repo(run.repo);
    const wasCompleted = run.status === 'completed';
    if (change.details_url !== undefined) run.details_url = change.details_url;
    run.status = change.status ?? (change.conclusion ? 'completed' : run.status);
    if (run.status === 'completed') {
      run.conclusion = change.conclusion ?? run.conclusion ?? 'success';
      run.completed_at ??= iso(Date.now());
      if (!wasCompleted) this.finished(repo, run);
    }
    return run;
  }

  /** A commit status, as `POST /repos/{o}/{r}/statuses/{sha}` creates it. */
  setStatus(fullName: string, sha: string, input: { context?: string; state: FakeStatus['state']; target_url?: string | null; description?: string | null; creator?: string }): FakeStatus {
    const repo = this.state.repo(fullName);
    const now = iso(Date.now());
    const status: FakeStatus = {
      id: this.state.id(),
      repo: lower(fullName),
      sha,
      context: input.context ?? 'default',
      state: input.state,
      target_url: input.target_url ?? null,
      description: input.description ?? null,
      creator: input.creator ?? repo.owner,
      created_at: now,
      updated_at: now,
    };
    this.statuses.push(status);
    const branches = [...repo.branches.entries()].filter(([, commits]) => commits.at(-1)?.sha === sha).map(([name]) => ({ name, commit: { sha, url: `${this.state.apiUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}` }, protected: false }));
    this.state.deliver('status', undefined, repo, {
      id: status.id,
      sha,
      name: `${repo.owner}/${repo.name}`,
      target_url: status.target_url,
      context: status.context,
      description: status.description,
      state: status.state,
      commit: { sha, url: `${this.state.apiUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}`, html_url: `${this.state.htmlUrl}/${repo.owner}/${repo.name}/commit/${sha}` },
      branches,
      created_at: now,
      updated_at: now,
    }, status.creator);
    return status;
  }

  /** The check runs on a commit; `latest`: the most recent run of each name (GitHub's default filter). */
  runsOn(repo: FakeRepo, sha: string, filter: 'latest' | 'all' = 'latest'): FakeCheckRun[] {
    const on = this.runs.filter((r) => r.repo === lower(`${repo.owner}/${repo.name}`) && r.head_sha === sha);
    if (filter === 'all') return [...on].reverse();
    const latest = new Map<string, FakeCheckRun>();
    for (const r of on) latest.set(`${r.app_slug} ${r.name}`, r);
    return [...latest.values()].reverse();
  }

  /** The statuses on a commit, newest first. */
  statusesOn(repo: FakeRepo, sha: string): FakeStatus[] {
    return this.statuses.filter((s) => s.repo === lower(`${repo.owner}/${repo.name}`) && s.sha === sha).reverse();
  }

  private branchOf(repo: FakeRepo, sha: string): string | null {
    for (const [name, commits] of repo.branches) if (commits.at(-1)?.sha === sha) return name;
    return null;
  }

  private finished(repo: FakeRepo, run: FakeCheckRun): void {
    this.deliverRun(repo, run, 'completed');
    const suite = this.runs.filter((r) => r.suite_id === run.suite_id);
    if (suite.every((r) => r.status === 'completed')) {
      this.state.deliver('check_suite', 'completed', repo, { check_suite: checkSuiteShape(this.state, repo, run, suite) }, run.app_slug === 'github-actions' ? 'github-actions[bot]' : `${run.app_slug}[bot]`);
    }
  }

  private deliverRun(repo: FakeRepo, run: FakeCheckRun, action: string): void {
    this.state.deliver('check_run', action, repo, { check_run: checkRunShape(this.state, repo, run) }, run.app_slug === 'github-actions' ? 'github-actions[bot]' : `${run.app_slug}[bot]`);
  }
}
