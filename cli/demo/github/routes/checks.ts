/** CI on a commit: check runs (Checks: read), commit statuses and the combined status (Commit statuses: read / write). */
import { checkRunShape, combinedStatusShape, statusShape } from '../ci-shapes.ts';
import { resolveRef } from '../files.ts';
import { GitHubApiError, type FakeRepo } from '../model.ts';
import { field, invalidParam, loginOf, num, oneOf, paginate, repoOf, route, seg, type Ctx, type Route } from '../router.ts';

const STATES = ['error', 'failure', 'pending', 'success'];

/** A commit sha, or the head of a branch. */
async function shaOf(ctx: Ctx, repo: FakeRepo, ref: string): Promise<string> {
  await ctx.git.loadBranch(repo, ref).catch(() => undefined);
  try {
    return (await resolveRef(ctx.state, repo, ref)).sha;
  } catch {
    // GitHub reads checks and statuses of any sha it was told about, even one it cannot resolve here.
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    throw new GitHubApiError(422, `No commit found for SHA: ${ref}`, { documentation_url: 'https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference', status: '422' });
  }
}

export const CHECK_ROUTES: Route[] = [
  route('GET', `/repos/${seg}/${seg}/commits/${seg}/check-runs`, async (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'checks', 'read');
    const sha = await shaOf(ctx, repo, ctx.params[2] as string);
    const filter = oneOf(ctx.query, 'filter', ['latest', 'all'], 'latest', 'CheckRun') as 'latest' | 'all';
    let runs = ctx.state.ci.runsOn(repo, sha, filter);
    const name = ctx.query.get('check_name');
    if (name !== null) runs = runs.filter((r) => r.name === name);
    const status = ctx.query.get('status');
    if (status !== null) runs = runs.filter((r) => r.status === status);
    const page = paginate(ctx, runs, (r) => checkRunShape(ctx.state, repo, r));
    return { ...page, body: { total_count: runs.length, check_runs: page.body } };
  }),

  route('GET', `/repos/${seg}/${seg}/check-runs/${num}`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'checks', 'read');
    const run = ctx.state.ci.runs.find((r) => r.id === Number(ctx.params[2]) && r.repo === `${repo.owner}/${repo.name}`.toLowerCase());
    if (!run) throw new GitHubApiError(404, 'Not Found', { documentation_url: 'https://docs.github.com/rest/checks/runs#get-a-check-run', status: '404' });
    return { status: 200, body: checkRunShape(ctx.state, repo, run) };
  }),

  route('GET', `/repos/${seg}/${seg}/commits/${seg}/status`, async (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'statuses', 'read');
    const sha = await shaOf(ctx, repo, ctx.params[2] as string);
    return { status: 200, body: combinedStatusShape(ctx.state, repo, sha, ctx.state.ci.statusesOn(repo, sha)) };
  }),

  route('GET', `/repos/${seg}/${seg}/commits/${seg}/statuses`, async (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'statuses', 'read');
    const sha = await shaOf(ctx, repo, ctx.params[2] as string);
    return paginate(ctx, ctx.state.ci.statusesOn(repo, sha), (st) => statusShape(ctx.state, repo, st));
  }),

  route('POST', `/repos/${seg}/${seg}/statuses/${seg}`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'statuses', 'write');
    const state = field(ctx.body, 'state', 'string', true, 'Status') as string;
    if (!STATES.includes(state)) throw invalidParam('Status', 'state');
    const targetUrl = field(ctx.body, 'target_url', 'string', false, 'Status') as string | undefined;
    const description = field(ctx.body, 'description', 'string', false, 'Status') as string | undefined;
    const context = field(ctx.body, 'context', 'string', false, 'Status') as string | undefined;
    const status = ctx.state.ci.setStatus(`${repo.owner}/${repo.name}`, ctx.params[2] as string, {
      state: state as 'pending', creator: loginOf(ctx),
      ...(context !== undefined ? { context } : {}), ...(targetUrl !== undefined ? { target_url: targetUrl } : {}), ...(description !== undefined ? { description } : {}),
    });
    return { status: 201, body: statusShape(ctx.state, repo, status) };
  }),
];
