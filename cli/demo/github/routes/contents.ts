/** A repository's files (the contents API) and its branches, read at a ref (branch or commit sha). */
import { contentShape } from '../ci-shapes.ts';
import { blobSha, resolveRef } from '../files.ts';
import { GitHubApiError } from '../model.ts';
import { repoOf, route, seg, type Route } from '../router.ts';

const CONTENTS_DOCS = 'https://docs.github.com/rest/repos/contents#get-repository-content';

function contentsNotFound(): GitHubApiError {
  return new GitHubApiError(404, 'Not Found', { documentation_url: CONTENTS_DOCS, status: '404' });
}

export const CONTENT_ROUTES: Route[] = [
  // `{path}` may hold slashes, sent as they are or as %2F.
  route('GET', `/repos/${seg}/${seg}/contents(?:/(.*))?`, async (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'contents', 'read');
    const path = (ctx.params[2] ?? '').replace(/^\/+|\/+$/g, '');
    const ref = ctx.query.get('ref');
    const at = await resolveRef(ctx.state, repo, ref).catch(() => {
      throw new GitHubApiError(404, `No commit found for the ref ${ref ?? repo.default_branch}`, { documentation_url: CONTENTS_DOCS, status: '404' });
    });
    const shownRef = ref ?? repo.default_branch;
    const file = path === '' ? undefined : await at.read(path);
    if (file) return { status: 200, body: contentShape(ctx.state, repo, shownRef, { path, type: 'file', sha: file.sha, text: file.text }, true) };
    const entries = await at.list(path);
    if (!entries) throw contentsNotFound();
    const shaped = await Promise.all(entries.map(async (e) => {
      const read = e.type === 'file' ? await at.read(e.path) : undefined;
      return contentShape(ctx.state, repo, shownRef, { path: e.path, type: e.type, sha: read?.sha ?? blobSha(`tree ${e.path}`), ...(read ? { text: read.text } : {}) }, false);
    }));
    return { status: 200, body: shaped };
  }),

  route('GET', `/repos/${seg}/${seg}/branches/${seg}`, async (ctx) => {
    const repo = repoOf(ctx);
    const name = ctx.params[2] as string;
    await ctx.git.loadBranch(repo, name);
    const head = repo.branches.get(name)?.at(-1);
    if (!head) throw new GitHubApiError(404, 'Branch not found', { documentation_url: 'https://docs.github.com/rest/branches/branches#get-a-branch', status: '404' });
    const api = `${ctx.state.apiUrl}/repos/${repo.owner}/${repo.name}`;
    return {
      status: 200,
      body: {
        name,
        commit: ctx.state.shapes.commit(repo, head),
        _links: { self: `${api}/branches/${name}`, html: `${ctx.state.htmlUrl}/${repo.owner}/${repo.name}/tree/${name}` },
        protected: false,
        protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
        protection_url: `${api}/branches/${name}/protection`,
      },
    };
  }),
];
