/** Pull requests: listed, opened, read, their commits, and merged. */
import type { GitBacking } from '../git-backing.ts';
import { GitHubApiError, lower, type FakePull } from '../model.ts';
import { field, invalidParam, loginOf, num, oneOf, paginate, repoOf, route, seg, sortAndFilterByTime, type Route } from '../router.ts';
import type { FakeGitHubState } from '../state.ts';
import { headRepoFor, headRepoOf } from '../pull-requests.ts';
import { pullFiles } from '../pull-files.ts';

const MERGE_DOCS = 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request';

/**
 * Merges an open pull request as `by`: in the bare repository first when there is one (its merge
 * commit becomes merge_commit_sha), then on GitHub's side (closing the issues it closes).
 */
export async function mergePullRequest(state: FakeGitHubState, git: GitBacking, fullName: string, number: number, by?: string, message?: string): Promise<FakePull> {
  const repo = state.repo(fullName);
  const pr = state.pullOf(repo, number);
  if (pr.state !== 'open') throw new GitHubApiError(405, 'Pull Request is not mergeable', { documentation_url: MERGE_DOCS, status: '405' });
  const sha = repo.git ? await git.merge(repo, pr, message ?? `Merge pull request #${number} from ${pr.pull.head_owner}/${pr.pull.head_ref}`) : undefined;
  return state.mergePull(fullName, number, by, sha);
}

export const PULL_ROUTES: Route[] = [
  route('GET', `/repos/${seg}/${seg}/pulls`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'pull_requests', 'read');
    const state = oneOf(ctx.query, 'state', ['open', 'closed', 'all'], 'open', 'PullRequest');
    let items = ctx.state.allIssues(repo).filter((i): i is FakePull => i.pull !== undefined && (state === 'all' || i.state === state));
    const head = ctx.query.get('head');
    if (head) {
      const [owner, ref] = head.includes(':') ? head.split(':', 2) : [head, undefined];
      items = items.filter((i) => lower(i.pull.head_owner) === lower(owner as string) && (ref === undefined || i.pull.head_ref === ref));
    }
    const base = ctx.query.get('base');
    if (base) items = items.filter((i) => i.pull.base_ref === base);
    items = sortAndFilterByTime(items, ctx.query, ['created', 'updated', 'popularity', 'long-running'], 'PullRequest');
    return paginate(ctx, items, (i) => ctx.state.shapes.pull(repo, i, false));
  }),

  route('POST', `/repos/${seg}/${seg}/pulls`, async (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'pull_requests', 'write');
    const head = field(ctx.body, 'head', 'string', true, 'PullRequest') as string;
    const base = field(ctx.body, 'base', 'string', true, 'PullRequest') as string;
    const title = field(ctx.body, 'title', 'string', true, 'PullRequest') as string;
    const body = field(ctx.body, 'body', 'string', false, 'PullRequest') as string | undefined;
    const draft = field(ctx.body, 'draft', 'boolean', false, 'PullRequest') as boolean | undefined;
    // Only what was pushed can be a head or a base (a head from a fork: pushed to the fork).
    await ctx.git.loadBranch(repo, base, base);
    const headRepo = headRepoFor(ctx.state, repo, head.includes(':') ? (head.split(':')[0] as string) : repo.owner);
    if (headRepo) await ctx.git.loadBranch(headRepo, head.replace(/^[^:]+:/, ''), base);
    const pr = ctx.state.createPull(repo, loginOf(ctx), { head, base, title, ...(body !== undefined ? { body } : {}), ...(draft !== undefined ? { draft } : {}) });
    return { status: 201, body: ctx.state.shapes.pull(repo, pr), headers: { location: `${ctx.state.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${pr.number}` } };
  }),

  route('GET', `/repos/${seg}/${seg}/pulls/${num}`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'pull_requests', 'read');
    return { status: 200, body: ctx.state.shapes.pull(repo, ctx.state.pullOf(repo, Number(ctx.params[2]))) };
  }),

  route('GET', `/repos/${seg}/${seg}/pulls/${num}/commits`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'pull_requests', 'read');
    const pr = ctx.state.pullOf(repo, Number(ctx.params[2]));
    const headRepo = headRepoOf(ctx.state, repo, pr);
    return paginate(ctx, ctx.state.branchCommits(headRepo, pr.pull.head_ref), (c) => ctx.state.shapes.commit(headRepo, c));
  }),

  route('GET', `/repos/${seg}/${seg}/pulls/${num}/files`, async (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'pull_requests', 'read');
    const pr = ctx.state.pullOf(repo, Number(ctx.params[2]));
    return paginate(ctx, await pullFiles(ctx.state, repo, pr), (f) => ({
      ...f,
      blob_url: `${ctx.state.htmlUrl}/${repo.owner}/${repo.name}/blob/${pr.pull.head_ref}/${f.filename}`,
      raw_url: `${ctx.state.htmlUrl}/${repo.owner}/${repo.name}/raw/${pr.pull.head_ref}/${f.filename}`,
      contents_url: `${ctx.state.apiUrl}/repos/${repo.owner}/${repo.name}/contents/${f.filename}?ref=${pr.pull.head_ref}`,
    }));
  }),

  route('PUT', `/repos/${seg}/${seg}/pulls/${num}/merge`, async (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'contents', 'write');
    const pr = ctx.state.pullOf(repo, Number(ctx.params[2]));
    const title = field(ctx.body, 'commit_title', 'string', false, 'PullRequest') as string | undefined;
    const sha = field(ctx.body, 'sha', 'string', false, 'PullRequest') as string | undefined;
    const method = field(ctx.body, 'merge_method', 'string', false, 'PullRequest') as string | undefined;
    if (method !== undefined && !['merge', 'squash', 'rebase'].includes(method)) throw invalidParam('PullRequest', 'merge_method');
    const head = ctx.state.branchCommits(headRepoOf(ctx.state, repo, pr), pr.pull.head_ref).at(-1)?.sha;
    if (sha !== undefined && pr.state === 'open' && sha !== head) throw new GitHubApiError(409, 'Head branch was modified. Review and try the merge again.', { documentation_url: MERGE_DOCS, status: '409' });
    const merged = await mergePullRequest(ctx.state, ctx.git, `${repo.owner}/${repo.name}`, pr.number, loginOf(ctx), title);
    return { status: 200, body: { sha: merged.pull.merge_commit_sha, merged: true, message: 'Pull Request successfully merged' } };
  }),
];
