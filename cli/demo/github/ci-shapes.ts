/**
 * The JSON of check runs, check suites, commit statuses (from the recorded status and combined
 * status responses), file contents (from the recorded directory entry) and Apps with their
 * installations, after GitHub's REST reference.
 */
import type { FakeApp, FakeCheckRun, FakeInstallation, FakeRepo, FakeStatus, TokenPermissions } from './model.ts';
import type { ShapeSource, Shapes } from './shapes.ts';
import { COMBINED_STATUS_TEMPLATE, CONTENT_TEMPLATE, STATUS_TEMPLATE } from './templates.ts';

type Source = ShapeSource & { readonly shapes: Shapes };

/** The App behind a check run: GitHub Actions unless another App reported it. */
function appOf(s: Source, slug: string): Record<string, unknown> {
  const owner = slug === 'github-actions' ? 'github' : slug;
  return { id: s.userId(`app:${slug}`), slug, node_id: 'MDM6QXBwMQ==', owner: s.shapes.user(owner), name: slug === 'github-actions' ? 'GitHub Actions' : slug, description: '', external_url: `${s.htmlUrl}/apps/${slug}`, html_url: `${s.htmlUrl}/apps/${slug}`, created_at: '2018-07-30T09:30:17Z', updated_at: '2024-04-10T20:33:16Z', permissions: {}, events: [] };
}

/** The open pull requests of the repo whose head is this commit in the same repo (GitHub leaves fork PRs out). */
function pullsAt(s: Source, repo: FakeRepo, sha: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const pr of repo.issues.values()) {
    if (!pr.pull || pr.state !== 'open' || pr.pull.head_repo.toLowerCase() !== `${repo.owner}/${repo.name}`.toLowerCase()) continue;
    if (repo.branches.get(pr.pull.head_ref)?.at(-1)?.sha !== sha) continue;
    const side = (ref: string, at: string): Record<string, unknown> => ({ ref, sha: at, repo: { id: repo.id, url: `${s.apiUrl}/repos/${repo.owner}/${repo.name}`, name: repo.name } });
    out.push({ url: `${s.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${pr.number}`, id: pr.number + repo.id * 100_000, number: pr.number, head: side(pr.pull.head_ref, sha), base: side(pr.pull.base_ref, repo.branches.get(pr.pull.base_ref)?.at(-1)?.sha ?? '') });
  }
  return out;
}

export function checkRunShape(s: Source, repo: FakeRepo, run: FakeCheckRun): Record<string, unknown> {
  const api = `${s.apiUrl}/repos/${repo.owner}/${repo.name}`;
  return {
    id: run.id,
    name: run.name,
    node_id: `CR_${run.id}`,
    head_sha: run.head_sha,
    external_id: '',
    url: `${api}/check-runs/${run.id}`,
    html_url: `${s.htmlUrl}/${repo.owner}/${repo.name}/runs/${run.id}`,
    details_url: run.details_url ?? `${s.htmlUrl}/${repo.owner}/${repo.name}/runs/${run.id}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.started_at,
    completed_at: run.completed_at,
    output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: `${api}/check-runs/${run.id}/annotations` },
    check_suite: { id: run.suite_id },
    app: appOf(s, run.app_slug),
    pull_requests: pullsAt(s, repo, run.head_sha),
  };
}

export function checkSuiteShape(s: Source, repo: FakeRepo, run: FakeCheckRun, suite: FakeCheckRun[]): Record<string, unknown> {
  const api = `${s.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const conclusions = suite.map((r) => r.conclusion);
  const conclusion = conclusions.find((c) => c !== 'success' && c !== 'neutral' && c !== 'skipped') ?? 'success';
  return {
    id: run.suite_id,
    node_id: `CS_${run.suite_id}`,
    head_branch: run.head_branch,
    head_sha: run.head_sha,
    status: suite.every((r) => r.status === 'completed') ? 'completed' : 'in_progress',
    conclusion: suite.every((r) => r.status === 'completed') ? conclusion : null,
    url: `${api}/check-suites/${run.suite_id}`,
    before: null,
    after: run.head_sha,
    pull_requests: pullsAt(s, repo, run.head_sha),
    app: appOf(s, run.app_slug),
    created_at: run.started_at,
    updated_at: run.completed_at ?? run.started_at,
    latest_check_runs_count: suite.length,
    check_runs_url: `${api}/check-suites/${run.suite_id}/check-runs`,
    head_commit: { id: run.head_sha, tree_id: s.sha(`tree ${run.head_sha}`), message: '', timestamp: run.started_at, author: null, committer: null },
  };
}

export function statusShape(s: Source, repo: FakeRepo, status: FakeStatus, withCreator = true): Record<string, unknown> {
  const { creator: _c, ...template } = STATUS_TEMPLATE as Record<string, unknown> & { creator?: unknown };
  return {
    ...template,
    url: `${s.apiUrl}/repos/${repo.owner}/${repo.name}/statuses/${status.sha}`,
    id: status.id,
    node_id: `SC_${status.id}`,
    state: status.state,
    description: status.description,
    target_url: status.target_url,
    context: status.context,
    created_at: status.created_at,
    updated_at: status.updated_at,
    ...(withCreator ? { creator: s.shapes.user(status.creator) } : {}),
  };
}

/** GitHub's combined state: failure if a context errored or failed, pending if none or one is pending, else success. */
export function combinedStatusShape(s: Source, repo: FakeRepo, sha: string, newestFirst: FakeStatus[]): Record<string, unknown> {
  const latest = new Map<string, FakeStatus>();
  for (const st of newestFirst) if (!latest.has(st.context)) latest.set(st.context, st);
  const list = [...latest.values()].sort((a, b) => a.id - b.id);
  const state = list.some((x) => x.state === 'error' || x.state === 'failure') ? 'failure' : list.length === 0 || list.some((x) => x.state === 'pending') ? 'pending' : 'success';
  return {
    ...COMBINED_STATUS_TEMPLATE,
    state,
    statuses: list.map((x) => statusShape(s, repo, x, false)),
    sha,
    total_count: list.length,
    repository: s.shapes.repo(repo, null),
    commit_url: `${s.apiUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}`,
    url: `${s.apiUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}/status`,
  };
}

/** A file or directory entry of the contents API; a file read by itself carries its text base64-encoded. */
export function contentShape(s: Source, repo: FakeRepo, ref: string, entry: { path: string; type: 'file' | 'dir'; sha: string; text?: string }, withContent: boolean): Record<string, unknown> {
  const api = `${s.apiUrl}/repos/${repo.owner}/${repo.name}`;
  const html = `${s.htmlUrl}/${repo.owner}/${repo.name}/${entry.type === 'dir' ? 'tree' : 'blob'}/${ref}/${entry.path}`;
  const self = `${api}/contents/${entry.path}?ref=${encodeURIComponent(ref)}`;
  const gitUrl = `${api}/git/${entry.type === 'dir' ? 'trees' : 'blobs'}/${entry.sha}`;
  const base64 = entry.text === undefined ? undefined : (Buffer.from(entry.text, 'utf8').toString('base64').match(/.{1,60}/g) ?? []).join('\n');
  return {
    ...CONTENT_TEMPLATE,
    name: entry.path.split('/').at(-1),
    path: entry.path,
    sha: entry.sha,
    size: entry.text === undefined ? 0 : Buffer.byteLength(entry.text),
    url: self,
    html_url: html,
    git_url: gitUrl,
    download_url: entry.type === 'dir' ? null : `${s.htmlUrl}/${repo.owner}/${repo.name}/raw/${ref}/${entry.path}`,
    type: entry.type,
    _links: { self, git: gitUrl, html },
    ...(withContent && base64 !== undefined ? { content: `${base64}\n`, encoding: 'base64' } : {}),
  };
}

function permissionsOf(p: TokenPermissions): Record<string, string> {
  const out: Record<string, string> = { metadata: 'read' };
  for (const [k, v] of Object.entries(p)) if (v !== 'none') out[k] = v;
  return out;
}

export function appShape(s: Source, app: FakeApp, installations: number): Record<string, unknown> {
  return {
    id: app.id, slug: app.slug, node_id: `A_${app.id}`, client_id: `Iv1.${app.id}`, owner: s.shapes.user(app.owner), name: app.name, description: '',
    external_url: `${s.htmlUrl}/apps/${app.slug}`, html_url: `${s.htmlUrl}/apps/${app.slug}`, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
    permissions: permissionsOf(app.permissions), events: app.events, installations_count: installations,
  };
}

export function installationShape(s: Source, app: FakeApp, i: FakeInstallation): Record<string, unknown> {
  return {
    id: i.id, account: s.shapes.user(i.account), repository_selection: i.repositories === 'all' ? 'all' : 'selected',
    access_tokens_url: `${s.apiUrl}/app/installations/${i.id}/access_tokens`, repositories_url: `${s.apiUrl}/installation/repositories`,
    html_url: `${s.htmlUrl}/organizations/${i.account}/settings/installations/${i.id}`, app_id: app.id, app_slug: app.slug, target_id: s.userId(i.account),
    target_type: s.isOrganization(i.account) ? 'Organization' : 'User', permissions: permissionsOf(app.permissions), events: app.events,
    created_at: i.created_at, updated_at: i.created_at, single_file_name: null, has_multiple_single_files: false, single_file_paths: [], suspended_by: i.suspended_by ? s.shapes.user(i.suspended_by) : null, suspended_at: i.suspended_at ?? null,
  };
}

export { permissionsOf };
