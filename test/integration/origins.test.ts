/**
 * Origins and host names (coordinator/origin-policy.ts): no wildcard CORS; a page from another
 * origin is refused on HTTP (simple requests and preflights) and on socket.io (polling and
 * WebSocket); a loopback coordinator answers only to loopback names and allowed_hosts (DNS
 * rebinding); a body must be declared JSON, so a form post from a page cannot run a command.
 * Broken variants: `cors: { origin: '*' }` / `access-control-allow-origin: '*'` (the old code) fail
 * the header assertions; dropping checkHost lets the rebinding request through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { io } from 'socket.io-client';
import { OriginPolicy } from '../../coordinator/origin-policy.ts';
import { startPool } from '../helpers/coordinator.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(url: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

test('HTTP: another origin is refused, allowed pages get their own origin back (never *), programs without Origin are served', async () => {
  const pool = await startPool('memory', { corsOrigins: ['https://ops.example.org', 'vscode-webview:'] });
  try {
    const { host } = new URL(pool.url);
    const auth = { authorization: `Bearer ${pool.adminToken}` };
    const plain = await raw(pool.url, '/v1/repos', { headers: auth });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['access-control-allow-origin'], undefined, 'no CORS header without a page asking');

    const evil = await raw(pool.url, '/v1/repos', { headers: { ...auth, origin: 'https://evil.example' } });
    assert.equal(evil.status, 403);
    assert.equal(JSON.parse(evil.body).error.code, 'FORBIDDEN');
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const evilPreflight = await raw(pool.url, '/v1/repos', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-headers': 'authorization' } });
    assert.equal(evilPreflight.status, 403, 'a preflight from a stranger page is refused');
    assert.equal(evilPreflight.headers['access-control-allow-origin'], undefined);

    const ops = await raw(pool.url, '/v1/repos', { method: 'OPTIONS', headers: { origin: 'https://ops.example.org' } });
    assert.equal(ops.status, 204);
    assert.equal(ops.headers['access-control-allow-origin'], 'https://ops.example.org');
    const webview = await raw(pool.url, '/v1/repos', { headers: { ...auth, origin: 'vscode-webview://1234abcd' } });
    assert.equal(webview.status, 200);
    assert.equal(webview.headers['access-control-allow-origin'], 'vscode-webview://1234abcd');
    const same = await raw(pool.url, '/v1/repos', { headers: { ...auth, origin: `http://${host}` } });
    assert.equal(same.status, 200, 'the coordinator\'s own pages (the dashboard) are served');
    assert.equal(same.headers['access-control-allow-origin'], undefined);
    const loopbackPage = await raw(pool.url, '/v1/repos', { headers: { ...auth, origin: 'http://localhost:5173' } });
    assert.equal(loopbackPage.status, 403, '"loopback" is not on this list, so a local page is refused too');
  } finally {
    await pool.close();
  }
});

test('HTTP: a form or text/plain body (no preflight) is not read as a command', async () => {
  const pool = await startPool();
  try {
    const sent = await raw(pool.url, '/v1/workers', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ github_login: 'x', skills: ['docs'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } }) });
    assert.equal(sent.status, 400);
    assert.match(sent.body, /application\/json/);
    const { workers } = await pool.admin.call('worker.list', {});
    assert.equal(workers.length, 0, 'no worker was registered');
  } finally {
    await pool.close();
  }
});

test('DNS rebinding: a loopback coordinator answers only to loopback names and allowed_hosts', async () => {
  const pool = await startPool('memory', { allowedHosts: ['owp.internal'] });
  try {
    const { port } = new URL(pool.url);
    const auth = { authorization: `Bearer ${pool.adminToken}` };
    const rebound = await raw(pool.url, '/v1/repos', { headers: { ...auth, host: `attacker.example:${port}` } });
    assert.equal(rebound.status, 403);
    assert.match(JSON.parse(rebound.body).error.message, /host name/);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `owp.internal:${port}`, 'owp.internal']) {
      assert.equal((await raw(pool.url, '/v1/repos', { headers: { ...auth, host } })).status, 200, host);
    }
    assert.equal((await raw(pool.url, '/healthz', { headers: { host: 'attacker.example' } })).status, 200, 'liveness probes are not refused');
  } finally {
    await pool.close();
  }
});

test('socket.io: a stranger page and a rebound host name cannot open a socket (polling or WebSocket); programs can', async () => {
  const pool = await startPool();
  try {
    const connect = (transports: string[], extraHeaders: Record<string, string>): Promise<string> =>
      new Promise((resolve) => {
        const socket = io(pool.url, { auth: { token: pool.adminToken }, transports, reconnection: false, extraHeaders });
        socket.once('connect', () => {
          socket.close();
          resolve('connected');
        });
        socket.once('connect_error', (error) => {
          socket.close();
          resolve(`refused: ${error.message}`);
        });
      });
    assert.equal(await connect(['websocket'], {}), 'connected');
    assert.equal(await connect(['polling'], {}), 'connected');
    assert.match(await connect(['websocket'], { origin: 'https://evil.example' }), /^refused/);
    assert.match(await connect(['polling'], { origin: 'https://evil.example' }), /^refused/);
    assert.match(await connect(['websocket'], { host: 'attacker.example' }), /^refused/);
    assert.equal(await connect(['websocket'], { origin: 'http://localhost:8080' }), 'connected', 'loopback pages are allowed by default (code-server webviews)');
  } finally {
    await pool.close();
  }
});

test('OriginPolicy: exact origins, schemes and loopback; "null" and malformed origins are refused', () => {
  const policy = new OriginPolicy({ corsOrigins: ['https://a.example', 'vscode-webview:', 'loopback'] });
  assert.deepEqual(policy.checkOrigin('https://a.example', 'coord:1'), { allowed: true, cors: 'https://a.example' });
  assert.equal(policy.checkOrigin('https://a.example.evil', 'coord:1').allowed, false);
  assert.equal(policy.checkOrigin('http://a.example', 'coord:1').allowed, false, 'the scheme is part of the origin');
  assert.equal(policy.checkOrigin('null', 'coord:1').allowed, false, 'sandboxed frames and file pages');
  assert.equal(policy.checkOrigin('not a url', 'coord:1').allowed, false);
  assert.equal(policy.checkOrigin('http://127.0.0.1:9', 'coord:1').allowed, true);
  assert.equal(policy.checkOrigin('http://localhost.evil.example', 'coord:1').allowed, false);
  assert.deepEqual(policy.checkOrigin(undefined, 'coord:1'), { allowed: true, cors: undefined });
  const open = new OriginPolicy();
  assert.equal(open.checkHost('anything.example').allowed, true, 'before listening on loopback, and without allowed_hosts, any Host is answered');
  open.listeningOn('127.0.0.1');
  assert.equal(open.checkHost('anything.example').allowed, false);
  assert.equal(open.checkHost(undefined).allowed, false);
  assert.equal(open.checkHost('[::1]:80').allowed, true);
});
