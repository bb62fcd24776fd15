/**
 * GitHub Apps: the App itself and its installations (JWT), installation access tokens (JWT),
 * and the repositories an installation token reaches.
 */
import { appShape, installationShape } from '../ci-shapes.ts';
import { DOCS, GitHubApiError, type TokenPermissions } from '../model.ts';
import { num, paginate, route, seg, type Route } from '../router.ts';

const TOKEN_DOCS = 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app';
const LEVELS = new Set(['read', 'write']);

export const APP_ROUTES: Route[] = [
  route('GET', '/app', (ctx) => {
    const app = ctx.state.apps.requireApp(ctx.who);
    const count = [...ctx.state.apps.installations.values()].filter((i) => i.app_id === app.id).length;
    return { status: 200, body: appShape(ctx.state, app, count) };
  }),

  route('GET', '/app/installations', (ctx) => {
    const app = ctx.state.apps.requireApp(ctx.who);
    const mine = [...ctx.state.apps.installations.values()].filter((i) => i.app_id === app.id);
    return paginate(ctx, mine, (i) => installationShape(ctx.state, app, i));
  }),

  route('GET', `/app/installations/${num}`, (ctx) => {
    const app = ctx.state.apps.requireApp(ctx.who);
    return { status: 200, body: installationShape(ctx.state, app, ctx.state.apps.installationOf(app, Number(ctx.params[0]))) };
  }),

  route('POST', `/app/installations/${num}/access_tokens`, (ctx) => {
    const app = ctx.state.apps.requireApp(ctx.who);
    const installation = ctx.state.apps.installationOf(app, Number(ctx.params[0]));
    const repositories = ctx.body.repositories;
    const permissions = ctx.body.permissions;
    if (repositories !== undefined && (!Array.isArray(repositories) || repositories.some((r) => typeof r !== 'string'))) {
      throw new GitHubApiError(422, 'Invalid request.\n\nFor \'properties/repositories\', it is not an array of strings.', { documentation_url: TOKEN_DOCS });
    }
    if (permissions !== undefined && (typeof permissions !== 'object' || permissions === null || Object.values(permissions).some((v) => !LEVELS.has(String(v))))) {
      throw new GitHubApiError(422, 'Invalid request.\n\nFor \'properties/permissions\', the values must be read or write.', { documentation_url: TOKEN_DOCS });
    }
    const minted = ctx.state.apps.mint(app, installation, {
      ...(repositories ? { repositories: repositories as string[] } : {}),
      ...(permissions ? { permissions: permissions as Partial<TokenPermissions> } : {}),
    });
    const permissionsOut: Record<string, string> = { metadata: 'read' };
    for (const [k, v] of Object.entries(minted.permissions)) if (v !== 'none') permissionsOut[k] = v;
    const body: Record<string, unknown> = {
      token: minted.token,
      expires_at: new Date(minted.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: permissionsOut,
      repository_selection: installation.repositories === 'all' && !repositories ? 'all' : 'selected',
    };
    if (repositories) body.repositories = minted.repos.map((full) => ctx.state.shapes.repo(ctx.state.repo(full), null));
    return { status: 201, body };
  }),

  route('GET', '/installation/repositories', (ctx) => {
    if (ctx.who?.kind !== 'installation') throw new GitHubApiError(403, 'This endpoint requires an installation access token.', { documentation_url: DOCS, status: '403' });
    const repos = [...(ctx.who.repos ?? [])].map((full) => ctx.state.findRepo(full)).filter((r) => r !== undefined).sort((a, b) => a.id - b.id);
    const page = paginate(ctx, repos, (r) => ctx.state.shapes.repo(r, ctx.who));
    const installation = ctx.who.installationId !== undefined ? ctx.state.apps.installations.get(ctx.who.installationId) : undefined;
    return { ...page, body: { total_count: repos.length, repository_selection: installation?.repositories === 'all' ? 'all' : 'selected', repositories: page.body } };
  }),

  route('GET', `/repos/${seg}/${seg}/installation`, (ctx) => {
    const app = ctx.state.apps.requireApp(ctx.who);
    const repo = ctx.state.findRepo(`${ctx.params[0]}/${ctx.params[1]}`);
    const installation = repo ? ctx.state.apps.installationFor(`${repo.owner}/${repo.name}`) : undefined;
    if (!installation || installation.app_id !== app.id) throw new GitHubApiError(404, 'Not Found', { documentation_url: DOCS, status: '404' });
    return { status: 200, body: installationShape(ctx.state, app, installation) };
  }),
];
