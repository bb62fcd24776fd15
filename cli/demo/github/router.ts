/**
 * The route table's parts: a route is a method, a path pattern and a handler that gets the
 * caller, the path parameters, the query and the JSON body, and returns a status and a body (or
 * throws GitHubApiError). Also the request checks GitHub applies everywhere: field types (422),
 * enumerated query values, pagination with a Link header, `sort`/`direction`/`since`.
 */
import type { GitBacking } from './git-backing.ts';
import { DOCS, GitHubApiError, type FakeRepo, type TokenInfo } from './model.ts';
import type { FakeGitHubState } from './state.ts';
import { VALIDATION_TEMPLATE } from './templates.ts';

export interface Ctx {
  state: FakeGitHubState;
  /** Repos backed by a bare git repository read their branches and merge there. */
  git: GitBacking;
  who: TokenInfo | null;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The request URL as the client sent it (for Link headers). */
  url: URL;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  pattern: RegExp;
  handler: (ctx: Ctx) => Reply | Promise<Reply>;
}

/** A path segment (`{owner}`, `{ref}`) and a number (`{issue_number}`) in a route path. */
export const seg = '([^/]+)';
export const num = '([0-9]+)';

export function route(method: Route['method'], path: string, handler: Route['handler']): Route {
  return { method, pattern: new RegExp(`^${path}/?$`), handler };
}

/** The `{owner}/{repo}` of the path, as the caller may see it (404 otherwise). */
export function repoOf(ctx: Ctx): FakeRepo {
  return ctx.state.visibleRepo(ctx.params[0] as string, ctx.params[1] as string, ctx.who);
}

/** The caller's login; only for routes that required a permission (so a token) first. */
export function loginOf(ctx: Ctx): string {
  if (!ctx.who) throw new GitHubApiError(401, 'Requires authentication', { documentation_url: DOCS });
  return ctx.who.login;
}

export function field(body: Record<string, unknown>, name: string, type: 'string' | 'boolean' | 'array', required: boolean, resource = 'Issue'): unknown {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new GitHubApiError(422, 'Validation Failed', { errors: [{ resource, code: 'missing_field', field: name }], documentation_url: DOCS });
    return undefined;
  }
  const ok = type === 'array' ? Array.isArray(value) : typeof value === type;
  if (!ok) throw new GitHubApiError(422, `Invalid request.\n\nFor 'properties/${name}', ${JSON.stringify(value)} is not ${type === 'array' ? 'an array' : `a ${type}`}.`, { documentation_url: DOCS });
  return value;
}

export function invalidParam(resource: string, name: string): GitHubApiError {
  return new GitHubApiError(422, VALIDATION_TEMPLATE.message, { errors: [{ resource, code: 'invalid', field: name }], documentation_url: DOCS });
}

export function oneOf(query: URLSearchParams, name: string, allowed: string[], fallback: string, resource: string): string {
  const v = query.get(name) ?? fallback;
  if (!allowed.includes(v)) throw invalidParam(resource, name);
  return v;
}

/** Slices a list into a page and builds GitHub's Link header from the request URL. */
export function paginate<T>(ctx: Ctx, items: T[], map: (item: T) => unknown): Reply {
  const perPageRaw = Number(ctx.query.get('per_page') ?? 30);
  const perPage = Number.isFinite(perPageRaw) && perPageRaw > 0 ? Math.min(100, Math.floor(perPageRaw)) : 30;
  const pageRaw = Number(ctx.query.get('page') ?? 1);
  const page = Number.isFinite(pageRaw) && pageRaw > 0 ? Math.floor(pageRaw) : 1;
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (p: number, rel: string): string => {
    const u = new URL(ctx.url.pathname + ctx.url.search, ctx.state.apiUrl);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return { status: 200, body: slice.map(map), headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

/** `sort`, `direction` and `since` as GitHub's list endpoints take them; ties break by number (or id). */
export function sortAndFilterByTime<T extends { created_at: string; updated_at: string; number?: number; id?: number }>(items: T[], query: URLSearchParams, sorts: string[], resource: string): T[] {
  const sort = oneOf(query, 'sort', sorts, 'created', resource);
  const direction = oneOf(query, 'direction', ['asc', 'desc'], 'desc', resource);
  const since = query.get('since');
  let out = items;
  if (since !== null) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) throw invalidParam(resource, 'since');
    out = out.filter((i) => Date.parse(i.updated_at) >= t);
  }
  const key = sort === 'updated' ? 'updated_at' : 'created_at';
  const tie = (i: T): number => i.number ?? i.id ?? 0;
  const ordered = [...out].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0) || tie(a) - tie(b));
  return direction === 'desc' ? ordered.reverse() : ordered;
}
