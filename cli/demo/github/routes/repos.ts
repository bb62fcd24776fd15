/** A repository and its labels. */
import { paginate, repoOf, route, seg, type Route } from '../router.ts';

export const REPO_ROUTES: Route[] = [
  route('GET', `/repos/${seg}/${seg}`, (ctx) => ({ status: 200, body: ctx.state.shapes.repo(repoOf(ctx), ctx.who) })),

  route('GET', `/repos/${seg}/${seg}/labels`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'read');
    return paginate(ctx, [...repo.labels.values()], (l) => ctx.state.shapes.label(repo, l.name));
  }),
];
