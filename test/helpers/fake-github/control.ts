/**
 * Test-control routes of the GitHub-shaped server (cli/demo/github/), under /_fake/ (never a
 * GitHub path), for tests that run it as its own process (cli.ts) and cannot call
 * FakeGitHubState directly: seed tokens,
 * repos, issues and branches; merge or close PRs; read what was sent.
 *
 *   GET   /_fake/requests                         every recorded API request
 *   GET   /_fake/deliveries                       every webhook delivery (id, event, action, status)
 *   POST  /_fake/tokens                           { token, login, permissions?, repos? }
 *   POST  /_fake/repos                            { full_name, private?, default_branch?, branches?, labels? }
 *   POST  /_fake/webhook                          { url, secret }
 *   POST  /_fake/repos/{o}/{r}/issues             { title, body?, labels?, user?, assignees?, locked?, state? } → { number }
 *   PATCH /_fake/repos/{o}/{r}/issues/{n}         { title?, body?, state?, labels?, assignees?, locked? }
 *   GET   /_fake/repos/{o}/{r}/issues/{n}/comments
 *   POST  /_fake/repos/{o}/{r}/branches           { name, commits?: [{ message?, verified?, author? }] }
 *   POST  /_fake/repos/{o}/{r}/pulls/{n}/merge    { by? }
 *   POST  /_fake/repos/{o}/{r}/pulls/{n}/close    { by? }
 *   POST  /_fake/repos/{o}/{r}/pulls/{n}/verified { verified }
 *   POST  /_fake/deliveries/{id}/redeliver
 *   POST  /_fake/repos/{o}/{r}/push               { branch, files: { path: text | null }, message?, author? } → the commit
 *   POST  /_fake/repos/{o}/{r}/check-runs         { head_sha, name, status?, conclusion?, details_url?, app? } → the run
 *   PATCH /_fake/check-runs/{id}                  { status?, conclusion?, details_url? }
 *   POST  /_fake/repos/{o}/{r}/statuses/{sha}     { context, state, target_url?, description?, creator? }
 *   POST  /_fake/installations/{id}/repositories  { add?: [owner/name], remove?: [...] } (installation_repositories)
 *   POST  /_fake/installation-tokens/expire       every installation token issued so far expires now
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../../../cli/demo/github/server.ts';
import { changeInstallationRepos } from '../../../cli/demo/github/installation-events.ts';
import type { FakeGitHubState } from '../../../cli/demo/github/state.ts';

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function handleControl(state: FakeGitHubState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname.slice('/_fake'.length);
  try {
    const body = method === 'GET' ? {} : (await readBody(req)).json;
    const repoPath = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (method === 'GET' && path === '/requests') return reply(res, 200, state.requests);
    if (method === 'GET' && path === '/deliveries') return reply(res, 200, state.deliveries.map(({ body: _b, ...d }) => d));
    if (method === 'POST' && path === '/tokens') {
      state.addToken(body as never);
      return reply(res, 201, { ok: true });
    }
    if (method === 'POST' && path === '/repos') {
      state.addRepo(body as never);
      return reply(res, 201, { ok: true });
    }
    if (method === 'POST' && path === '/webhook') {
      state.webhook = { url: String(body.url), secret: String(body.secret) };
      return reply(res, 200, { ok: true });
    }
    let c: RegExpExecArray | null;
    if (method === 'PATCH' && (c = /^\/check-runs\/(\d+)$/.exec(path))) return reply(res, 200, state.ci.updateCheckRun(Number(c[1]), body as never));
    if (method === 'POST' && (c = /^\/installations\/(\d+)\/repositories$/.exec(path))) {
      changeInstallationRepos(state, Number(c[1]), body as { add?: string[]; remove?: string[] });
      return reply(res, 200, { ok: true });
    }
    if (method === 'POST' && path === '/installation-tokens/expire') {
      state.apps.expireTokens();
      return reply(res, 200, { ok: true });
    }
    const redeliver = /^\/deliveries\/([^/]+)\/redeliver$/.exec(path);
    if (method === 'POST' && redeliver) {
      await state.redeliver(redeliver[1] as string);
      return reply(res, 200, { ok: true });
    }
    if (repoPath) {
      const fullName = `${repoPath[1]}/${repoPath[2]}`;
      const rest = repoPath[3] ?? '';
      let m: RegExpExecArray | null;
      if (method === 'POST' && rest === '/issues') return reply(res, 201, { number: state.addIssue(fullName, body as never) });
      if (method === 'PATCH' && (m = /^\/issues\/(\d+)$/.exec(rest))) return reply(res, 200, state.updateIssue(fullName, Number(m[1]), body as never));
      if (method === 'GET' && (m = /^\/issues\/(\d+)\/comments$/.exec(rest))) return reply(res, 200, state.commentsOn(fullName, Number(m[1])));
      if (method === 'POST' && rest === '/push') {
        return reply(res, 201, state.pushFiles(fullName, String(body.branch), body.files as Record<string, string | null>, body as never));
      }
      if (method === 'POST' && rest === '/check-runs') return reply(res, 201, state.ci.addCheckRun(fullName, body as never));
      if (method === 'POST' && (m = /^\/statuses\/([0-9a-f]{40})$/.exec(rest))) return reply(res, 201, state.ci.setStatus(fullName, m[1] as string, body as never));
      if (method === 'POST' && rest === '/branches') {
        state.addBranch(fullName, String(body.name), body as never);
        return reply(res, 201, { ok: true });
      }
      if (method === 'POST' && (m = /^\/pulls\/(\d+)\/(merge|close|verified)$/.exec(rest))) {
        const n = Number(m[1]);
        if (m[2] === 'merge') state.mergePull(fullName, n, body.by as string | undefined);
        else if (m[2] === 'close') state.closePull(fullName, n, body.by as string | undefined);
        else state.setPullCommitsVerified(fullName, n, body.verified === true);
        return reply(res, 200, { ok: true });
      }
    }
    return reply(res, 404, { message: `no fake control route ${method} ${url.pathname}` });
  } catch (error) {
    return reply(res, 400, { message: (error as Error).message });
  }
}
