/**
 * A strict, local, GitHub-shaped REST server (GitHub itself is unreachable here): the demo's
 * GitHub and the tests'. It answers the way api.github.com does — status codes,
 * `{ message, documentation_url, errors }` bodies, ETag/304 conditional requests, X-RateLimit-*
 * headers, Link pagination, 401 for missing or bad tokens, 403 for fine-grained tokens lacking a
 * permission, 404 for unknown routes and for a known path with a method it lacks — with bodies
 * shaped from recorded GitHub responses. Every request is recorded so tests can assert exactly
 * what was sent, and changes can be delivered as signed webhooks.
 *
 * With `layout: 'enterprise'` it is shaped like GitHub Enterprise Server: the API under /api/v3
 * and the web pages (a pull request's html_url) at the root, served here as plain text.
 *
 * The routes are a table (ROUTES, one module per area in routes/): a new GitHub endpoint is a
 * route in its area's module, or a new module added to the table.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitBacking } from './git-backing.ts';
import { DOCS, GitHubApiError, notFound, type FakePull, type RecordedRequest, type TokenInfo } from './model.ts';
import type { Route } from './router.ts';
import { APP_ROUTES } from './routes/apps.ts';
import { CHECK_ROUTES } from './routes/checks.ts';
import { COLLABORATOR_ROUTES } from './routes/collaborators.ts';
import { CONTENT_ROUTES } from './routes/contents.ts';
import { FORK_ROUTES } from './routes/forks.ts';
import { GRAPHQL_ROUTES } from './routes/graphql.ts';
import { ISSUE_ROUTES } from './routes/issues.ts';
import { mergePullRequest, PULL_ROUTES } from './routes/pulls.ts';
import { REPO_ROUTES } from './routes/repos.ts';
import { USER_ROUTES } from './routes/users.ts';
import { FakeGitHubState, type FakeGitHubStateOptions } from './state.ts';
import { COMMON_HEADERS } from './templates.ts';

/** Every endpoint this server answers. */
const ROUTES: readonly Route[] = [...USER_ROUTES, ...REPO_ROUTES, ...ISSUE_ROUTES, ...PULL_ROUTES, ...FORK_ROUTES, ...GRAPHQL_ROUTES, ...APP_ROUTES, ...CONTENT_ROUTES, ...CHECK_ROUTES, ...COLLABORATOR_ROUTES];

const SUPPORTED_API_VERSIONS = new Set(['2022-11-28', '2026-03-10']);
const ENTERPRISE_API_PREFIX = '/api/v3';
/** GitHub Enterprise Server's GraphQL endpoint sits beside the REST prefix, not under it. */
const ENTERPRISE_GRAPHQL_PATH = '/api/graphql';

/** Routes a test harness adds under /_fake/ (never a GitHub path). */
export type ControlHandler = (state: FakeGitHubState, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface FakeGitHubOptions extends FakeGitHubStateOptions {
  port?: number;
  host?: string;
  /** `github.com` (default): the API at the root. `enterprise`: the API under /api/v3, web pages at the root. */
  layout?: 'github.com' | 'enterprise';
  /** Test-control routes under /_fake/ (for a server running as its own process). */
  control?: ControlHandler;
}

export interface FakeGitHub {
  /** API base URL (what Octokit's baseUrl takes): http://127.0.0.1:PORT, or …/api/v3 for `enterprise`. */
  url: string;
  /** Where html_url links point. */
  htmlUrl: string;
  state: FakeGitHubState;
  server: Server;
  /** Merges a pull request as a maintainer pressing the button would (for real in a git-backed repo). */
  merge(fullName: string, number: number, by?: string): Promise<FakePull>;
  close(): Promise<void>;
}

export async function readBody(req: IncomingMessage): Promise<{ raw: string; json: Record<string, unknown> }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 25 * 1024 * 1024) throw new GitHubApiError(413, 'Payload too large', { documentation_url: DOCS });
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return { raw, json: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new GitHubApiError(400, 'Problems parsing JSON', { documentation_url: DOCS });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GitHubApiError(400, 'Body should be a JSON object', { documentation_url: DOCS });
  return { raw, json: parsed as Record<string, unknown> };
}

function etagOf(body: string, who: TokenInfo | null): string {
  return `W/"${createHash('sha256').update(`${who?.login ?? ''}\u0000${body}`).digest('hex').slice(0, 32)}"`;
}

interface Handling {
  state: FakeGitHubState;
  git: GitBacking;
  apiPrefix: string;
  control: ControlHandler | undefined;
}

async function handle(h: Handling, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { state } = h;
  const url = new URL(req.url ?? '/', 'http://fake');
  const method = req.method ?? 'GET';
  if (h.control && url.pathname.startsWith('/_fake/')) return h.control(state, req, res, url);
  const enterpriseGraphql = h.apiPrefix !== '' && url.pathname === ENTERPRISE_GRAPHQL_PATH;
  if (h.apiPrefix && !enterpriseGraphql && !url.pathname.startsWith(`${h.apiPrefix}/`)) return webPage(state, req, res, url);
  const path = enterpriseGraphql ? '/graphql' : url.pathname.slice(h.apiPrefix.length);
  const record: RecordedRequest = { method, path, query: Object.fromEntries(url.searchParams), login: null, body: undefined, status: 0, headers: {} };
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'authorization') record.headers[k] = v;
  state.requests.push(record);
  let rateHeaders: Record<string, string> = {};
  const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
    record.status = status;
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...COMMON_HEADERS,
      ...rateHeaders,
      date: new Date().toUTCString(),
      'x-github-request-id': randomUUID().toUpperCase().slice(0, 23),
      'x-github-api-version-selected': '2022-11-28',
      ...extra,
    };
    if (text) {
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = String(Buffer.byteLength(text));
    } else {
      delete headers['content-type'];
    }
    res.writeHead(status, headers);
    res.end(text);
  };
  try {
    const version = req.headers['x-github-api-version'];
    if (typeof version === 'string' && !SUPPORTED_API_VERSIONS.has(version)) {
      throw new GitHubApiError(400, `API version ${version} is not supported.`, { documentation_url: 'https://docs.github.com/rest/overview/api-versions' });
    }
    const who = state.access.authenticate(req.headers.authorization);
    record.login = who?.login ?? null;
    const { raw, json } = method === 'GET' || method === 'HEAD' ? { raw: '', json: {} } : await readBody(req);
    record.body = raw === '' ? undefined : json;
    const found = ROUTES.find((r) => r.method === (method === 'HEAD' ? 'GET' : method) && r.pattern.test(path));
    // GitHub answers an unknown route, and a known path with a method it lacks, with 404.
    if (!found) throw notFound();
    const conditional = method === 'GET' && typeof req.headers['if-none-match'] === 'string';
    rateHeaders = state.access.rateLimit(who, req.socket.remoteAddress ?? '?', !conditional);
    const params = (found.pattern.exec(path) as RegExpExecArray).slice(1).map((p) => (p === undefined ? '' : decodeURIComponent(p)));
    const reply = await found.handler({ state, git: h.git, who, params, query: url.searchParams, body: json, url });
    if (method === 'GET' || method === 'HEAD') {
      const text = JSON.stringify(reply.body);
      const etag = etagOf(text, who);
      const cache = { etag, 'cache-control': 'private, max-age=60, s-maxage=60', vary: 'Accept, Authorization, Cookie, X-GitHub-OTP' };
      const inm = req.headers['if-none-match'];
      if (typeof inm === 'string' && inm.split(',').map((s) => s.trim()).includes(etag)) {
        return send(304, undefined, { ...cache, ...(reply.headers ?? {}) });
      }
      // A conditional request that changed still counts.
      if (conditional) rateHeaders = state.access.rateLimit(who, req.socket.remoteAddress ?? '?', true);
      return send(reply.status, method === 'HEAD' ? undefined : reply.body, { ...cache, ...(reply.headers ?? {}) });
    }
    return send(reply.status, reply.body, reply.headers ?? {});
  } catch (error) {
    if (error instanceof GitHubApiError) return send(error.status, { message: error.message, ...error.extra }, error.headers);
    send(500, { message: `fake GitHub failed: ${(error as Error).message}` });
  }
}

/** An Enterprise-shaped server's web side: a pull request's page, as text (its links are what volunteers report). */
function webPage(state: FakeGitHubState, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const match = /^\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(url.pathname);
  let text = 'Not Found\n';
  let status = 404;
  if ((req.method === 'GET' || req.method === 'HEAD') && match) {
    const pull = (() => {
      try {
        return state.pullOf(state.visibleRepo(match[1] as string, match[2] as string, null), Number(match[3]));
      } catch {
        return undefined;
      }
    })();
    if (pull) {
      status = 200;
      const merged = pull.pull.merged_at !== null;
      text = `#${pull.number} ${pull.title}\n${pull.state}${merged ? ' (merged)' : ''} · ${pull.pull.head_ref} → ${pull.pull.base_ref}\n\n${pull.body ?? ''}\n`;
    }
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const state = new FakeGitHubState(options);
  const git = new GitBacking(state);
  const apiPrefix = options.layout === 'enterprise' ? ENTERPRISE_API_PREFIX : '';
  const handling: Handling = { state, git, apiPrefix, control: options.control };
  const server = createServer((req, res) => void handle(handling, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  state.apiUrl = `${origin}${apiPrefix}`;
  if (options.layout === 'enterprise' && options.htmlBaseUrl === undefined) state.htmlUrl = origin;
  return {
    url: state.apiUrl,
    htmlUrl: state.htmlUrl,
    state,
    server,
    merge: (fullName, number, by) => mergePullRequest(state, git, fullName, number, by),
    async close() {
      await state.settled().catch(() => undefined);
      await git.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
