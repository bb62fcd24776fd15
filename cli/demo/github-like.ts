/**
 * A local server that answers the few GitHub REST calls OWP makes, the way GitHub does (status
 * codes, JSON shapes, `Bad credentials`, `Validation Failed`), backed by real bare git
 * repositories: a pull request can only be opened for a pushed branch, and merging one really
 * merges it into the base branch. The demo opens its PRs here with the same client code a
 * volunteer uses against github.com; tests use it as their GitHub.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { git } from '../../client/git.ts';

export interface PullRecord {
  number: number;
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  state: 'open' | 'closed';
  merged: boolean;
  html_url: string;
  created_at: number;
  merge_commit_sha?: string;
}

export interface GithubLikeOptions {
  /** `owner/name` → path of its bare repository. */
  repos: Record<string, string>;
  /** Tokens accepted in `Authorization: token X` / `Bearer X`. */
  tokens: string[];
  port?: number;
}

export interface GithubLike {
  /** API base URL (like https://HOST/api/v3 on GitHub Enterprise). */
  apiUrl: string;
  htmlUrl: string;
  pulls: PullRecord[];
  /** Merges a PR into its base in the bare repo (as a maintainer pressing the button would). */
  merge(number: number, repo: string): Promise<PullRecord>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, data: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3' });
  res.end(JSON.stringify(data));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 1_000_000) throw new Error('body too large');
  }
  const parsed: unknown = raw ? JSON.parse(raw) : {};
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

export async function startGithubLike(options: GithubLikeOptions): Promise<GithubLike> {
  const pulls: PullRecord[] = [];
  const scratch = await mkdtemp(join(tmpdir(), 'owp-github-like-'));
  let mergeQueue: Promise<unknown> = Promise.resolve();
  let base = '';

  async function branchExists(bare: string, branch: string): Promise<boolean> {
    try {
      await git(bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
      return true;
    } catch {
      return false;
    }
  }

  async function mergeNow(pull: PullRecord): Promise<PullRecord> {
    const bare = options.repos[`${pull.owner}/${pull.repo}`]!;
    const work = join(scratch, `merge-${pull.number}`);
    await git(scratch, ['clone', '--quiet', bare, work]);
    try {
      const me = ['-c', 'user.name=Demo Maintainer', '-c', 'user.email=maintainer@example.invalid'];
      await git(work, ['checkout', '--quiet', pull.base]);
      await git(work, [...me, 'merge', '--quiet', '--no-ff', '--no-edit', '-m', `Merge pull request #${pull.number} from ${pull.head}`, `origin/${pull.head}`]);
      await git(work, ['push', '--quiet', 'origin', pull.base]);
      pull.merge_commit_sha = await git(work, ['rev-parse', 'HEAD']);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    pull.merged = true;
    pull.state = 'closed';
    return pull;
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const html = /^\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && html) {
        const pull = pulls.find((p) => p.owner === html[1] && p.repo === html[2] && p.number === Number(html[3]));
        res.writeHead(pull ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(pull ? `#${pull.number} ${pull.title}\n${pull.state}${pull.merged ? ' (merged)' : ''} · ${pull.head} → ${pull.base}\n\n${pull.body}\n` : 'Not Found\n');
        return;
      }
      const auth = req.headers.authorization ?? '';
      const token = auth.replace(/^(token|bearer)\s+/i, '');
      if (!options.tokens.includes(token)) return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      const api = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+)(\/merge)?)?$/.exec(url.pathname);
      if (!api) return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
      const [, owner, repo, num, mergePath] = api as unknown as [string, string, string, string | undefined, string | undefined];
      const bare = options.repos[`${owner}/${repo}`];
      if (!bare) return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
      if (req.method === 'POST' && !num) {
        const body = await readJson(req);
        const head = String(body.head ?? '').replace(/^[^:]+:/, '');
        const baseBranch = String(body.base ?? '');
        if (!body.title || !head || !baseBranch) return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'missing_field' }], status: '422' });
        if (!(await branchExists(bare, head))) return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }], status: '422' });
        if (pulls.some((p) => p.owner === owner && p.repo === repo && p.head === head && p.state === 'open')) {
          return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }], status: '422' });
        }
        const number = pulls.length + 1;
        const pull: PullRecord = {
          number, owner, repo, head, base: baseBranch, title: String(body.title), body: String(body.body ?? ''), draft: body.draft === true,
          state: 'open', merged: false, html_url: `${base}/${owner}/${repo}/pull/${number}`, created_at: Date.now(),
        };
        pulls.push(pull);
        return send(res, 201, { ...pull, head: { ref: head }, base: { ref: baseBranch } });
      }
      const pull = num ? pulls.find((p) => p.owner === owner && p.repo === repo && p.number === Number(num)) : undefined;
      if (!pull) return send(res, 404, { message: 'Not Found', status: '404' });
      if (req.method === 'GET' && !mergePath) return send(res, 200, { ...pull, head: { ref: pull.head }, base: { ref: pull.base } });
      if (req.method === 'PUT' && mergePath) {
        if (pull.state !== 'open') return send(res, 405, { message: 'Pull Request is not mergeable', status: '405' });
        const merged = await (mergeQueue = mergeQueue.then(() => mergeNow(pull), () => mergeNow(pull)));
        return send(res, 200, { sha: (merged as PullRecord).merge_commit_sha, merged: true, message: 'Pull Request successfully merged' });
      }
      return send(res, 404, { message: 'Not Found', status: '404' });
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: `Server Error: ${(error as Error).message}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${base}/api/v3`,
    htmlUrl: base,
    pulls,
    async merge(number, fullRepo) {
      const pull = pulls.find((p) => `${p.owner}/${p.repo}` === fullRepo && p.number === number);
      if (!pull) throw new Error(`no PR #${number} in ${fullRepo}`);
      if (pull.state !== 'open') return pull;
      const result = (mergeQueue = mergeQueue.then(() => mergeNow(pull), () => mergeNow(pull)));
      return (await result) as PullRecord;
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
