/**
 * Git over smart HTTP, as github.com serves repositories (`https://HOST/owner/name.git`), for
 * tests: `git http-backend` behind a Node HTTP server. Fetching is anonymous; pushing needs HTTP
 * Basic auth with a known token (any user name, as GitHub takes `x-access-token:TOKEN`) whose user
 * may push to that repository, else 401 (no credentials) or 403 (not allowed) with GitHub's texts.
 * Which bare repository a URL means is the test's to say (`resolve`), so a fork GitHub has not
 * finished copying can answer "Repository not found." for a while.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpOptions {
  /** Token → login. */
  tokens: Map<string, string>;
  /** The bare repository behind `owner/name`, or undefined when there is none (yet). */
  resolve(owner: string, name: string): string | undefined;
  /** May `login` push to `owner/name`? Default: only its owner. */
  canPush?(login: string, owner: string, name: string): boolean;
}

export interface GitHttpRequest {
  method: string;
  path: string;
  service: string | undefined;
  /** The login of a recognised token, null without credentials. */
  login: string | null;
  status: number;
}

export interface GitHttpServer {
  /** http://127.0.0.1:PORT: a repository is at `${url}/owner/name.git`. */
  url: string;
  requests: GitHttpRequest[];
  close(): Promise<void>;
}

function deny(res: ServerResponse, status: 401 | 403 | 404, text: string): void {
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="GitHub"';
  res.writeHead(status, headers);
  res.end(text);
}

function loginOf(req: IncomingMessage, tokens: Map<string, string>): string | null | 'bad' {
  const header = req.headers.authorization;
  if (!header) return null;
  const basic = /^basic\s+(\S+)$/i.exec(header);
  if (!basic) return 'bad';
  const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
  const token = decoded.slice(decoded.indexOf(':') + 1);
  return tokens.get(token) ?? 'bad';
}

async function handle(options: GitHttpOptions, requests: GitHttpRequest[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://git');
  const match = /^\/([^/]+)\/([^/]+?)\.git(\/.*)$/.exec(url.pathname);
  const service = url.searchParams.get('service') ?? (url.pathname.endsWith('/git-receive-pack') ? 'git-receive-pack' : url.pathname.endsWith('/git-upload-pack') ? 'git-upload-pack' : undefined);
  const record: GitHttpRequest = { method: req.method ?? 'GET', path: url.pathname, service, login: null, status: 0 };
  requests.push(record);
  const finish = (status: number): void => void (record.status = status);
  const who = loginOf(req, options.tokens);
  if (who === 'bad') {
    finish(401);
    return deny(res, 401, 'remote: Invalid username or token. Password authentication is not supported for Git operations.\n');
  }
  record.login = who;
  const bare = match ? options.resolve(match[1] as string, match[2] as string) : undefined;
  if (!match || !bare) {
    finish(404);
    return deny(res, 404, 'Repository not found.\n');
  }
  const [, owner, name, rest] = match as unknown as [string, string, string, string];
  if (service === 'git-receive-pack') {
    if (who === null) {
      finish(401);
      return deny(res, 401, 'Authentication required\n');
    }
    const may = options.canPush ? options.canPush(who, owner, name) : who.toLowerCase() === owner.toLowerCase();
    if (!may) {
      finish(403);
      return deny(res, 403, `remote: Permission to ${owner}/${name}.git denied to ${who}.\n`);
    }
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: '/',
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `${bare}${rest}`,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: '127.0.0.1',
    ...(who ? { REMOTE_USER: who } : {}),
    ...(req.headers['content-length'] ? { CONTENT_LENGTH: String(req.headers['content-length']) } : {}),
    ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
  };
  const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(cgi.stdin);
  const chunks: Buffer[] = [];
  cgi.stdout.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve) => cgi.on('close', () => resolve()));
  const out = Buffer.concat(chunks);
  const split = out.indexOf('\r\n\r\n') >= 0 ? out.indexOf('\r\n\r\n') : out.indexOf('\n\n');
  const sep = out.indexOf('\r\n\r\n') >= 0 ? 4 : 2;
  const head = out.subarray(0, split).toString('latin1');
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'status') status = Number(value.split(' ')[0]);
    else headers[key] = value;
  }
  finish(status);
  res.writeHead(status, headers);
  res.end(out.subarray(split + sep));
}

export async function startGitHttp(options: GitHttpOptions): Promise<GitHttpServer> {
  const requests: GitHttpRequest[] = [];
  const server = createServer((req, res) => {
    handle(options, requests, req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
