/** Who am I, and how much of my rate limit is left. */
import { GitHubApiError } from '../model.ts';
import { route, type Route } from '../router.ts';

export const USER_ROUTES: Route[] = [
  route('GET', '/user', (ctx) => {
    if (!ctx.who) throw new GitHubApiError(401, 'Requires authentication', { documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user' });
    // An App (its JWT, or an installation token) is no user.
    if (ctx.who.kind === 'installation' || ctx.who.kind === 'app') throw new GitHubApiError(403, 'Resource not accessible by integration', { documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user', status: '403' });
    return { status: 200, body: ctx.state.shapes.userDetail(ctx.who.login) };
  }),

  route('GET', '/rate_limit', (ctx) => {
    const h = ctx.state.access.rateLimit(ctx.who, '?', false);
    const core = { limit: Number(h['x-ratelimit-limit']), remaining: Number(h['x-ratelimit-remaining']), reset: Number(h['x-ratelimit-reset']), used: Number(h['x-ratelimit-used']) };
    return { status: 200, body: { resources: { core }, rate: core } };
  }),
];
