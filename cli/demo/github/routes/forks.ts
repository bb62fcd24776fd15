/** A repository's forks: listed, and made for the caller (202, made asynchronously as on GitHub). */
import { createFork, forksOf } from '../forks.ts';
import { field, loginOf, oneOf, paginate, repoOf, route, seg, type Route } from '../router.ts';

export const FORK_ROUTES: Route[] = [
  route('GET', `/repos/${seg}/${seg}/forks`, (ctx) => {
    const repo = repoOf(ctx);
    const sort = oneOf(ctx.query, 'sort', ['newest', 'oldest', 'stargazers', 'watchers'], 'newest', 'Repository');
    const forks = forksOf(ctx.state, repo).sort((a, b) => (sort === 'oldest' ? a.id - b.id : b.id - a.id));
    return paginate(ctx, forks, (f) => ctx.state.shapes.repo(f, ctx.who));
  }),

  route('POST', `/repos/${seg}/${seg}/forks`, async (ctx) => {
    const repo = repoOf(ctx);
    // Making a repository for the caller: a fine-grained token needs Administration write, which
    // this server folds into `contents: write` (the token can push to what it makes).
    ctx.state.access.requirePermission(ctx.who, 'contents', 'write');
    const login = loginOf(ctx);
    const name = field(ctx.body, 'name', 'string', false, 'Repository') as string | undefined;
    const defaultBranchOnly = field(ctx.body, 'default_branch_only', 'boolean', false, 'Repository') as boolean | undefined;
    const fork = await createFork(ctx.state, ctx.git, repo, login, { ...(name !== undefined ? { name } : {}), ...(defaultBranchOnly !== undefined ? { defaultBranchOnly } : {}) });
    return { status: 202, body: ctx.state.shapes.repo(fork, ctx.who) };
  }),
];
