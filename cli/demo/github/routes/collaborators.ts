/**
 * A user's permission on a repository, as `GET /repos/{o}/{r}/collaborators/{username}/permission`
 * answers it: the repo's owner is `admin`, a collaborator has `write`, anyone else `read` (a public
 * repository). `role_name` is the finer role (triage and maintain exist on GitHub; this server's
 * collaborators are writers). The coordinator asks it before it acts on a `/owp vouch` comment.
 */
import { lower } from '../model.ts';
import { repoOf, route, seg, type Route } from '../router.ts';

export const COLLABORATOR_ROUTES: Route[] = [
  route('GET', `/repos/${seg}/${seg}/collaborators/${seg}/permission`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'read');
    const login = decodeURIComponent(String(ctx.params[2]));
    const role = lower(login) === lower(repo.owner) ? 'admin' : repo.collaborators.has(lower(login)) ? 'write' : 'read';
    return { status: 200, body: { permission: role, role_name: role, user: { ...ctx.state.shapes.user(login), permissions: { admin: role === 'admin', maintain: role === 'admin', push: role !== 'read', triage: role !== 'read', pull: true } } } };
  }),
];
