/**
 * The structured log: JSON lines with a level, a time and a request id per HTTP request and per
 * socket command, and no token or secret anywhere in it, however it travelled (an Authorization
 * header, a query string, a header nobody thought of, a socket handshake). Also: `owp coordinator`
 * writing to a pipe (a service log) prints where the admin token is kept, never the token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { HEAP_GROWING_PERCENT } from '../../coordinator/heap-settings.ts';
import { addLogSecret, createLogger } from '../../coordinator/log.ts';
import { startPool, tempDir } from '../helpers/coordinator.ts';

interface Line {
  level: string;
  time: string;
  msg: string;
  req_id?: string;
  v8_flags?: string[];
  [key: string]: unknown;
}

test('requests carrying tokens are logged with request ids, and no token reaches the output', async () => {
  const raw: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void raw.push(line) } });
  const pool = await startPool('memory', { log });
  // A secret with no recognisable shape (an OWP_ADMIN_TOKEN someone chose): scrubbed because the coordinator was told about it.
  const chosen = 'correct-horse-battery-staple';
  addLogSecret(log, chosen);
  try {
    await pool.repo('o/r');
    const worker = await pool.join();
    const headers = { authorization: `Bearer ${pool.adminToken}`, 'x-api-key': chosen, 'x-request-id': 'req-from-client-1' };
    await (await fetch(`${pool.url}/v1/tasks?repo=o/r&token=${worker.token}`, { headers })).arrayBuffer();
    await (await fetch(`${pool.url}/v1/workers`, { headers: { authorization: `Bearer ${worker.token}` } })).arrayBuffer();
    await (await fetch(`${pool.url}/v1/tasks`, { headers: { authorization: 'Bearer owpw_this-token-does-not-exist-0000' } })).arrayBuffer();
    const socket = io(pool.url, { auth: { token: worker.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    await socket.emitWithAck('session.hello', { protocol_version: '0.1' });
    await socket.emitWithAck('task.list', {});
    socket.close();
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    await pool.close();
  }
  const text = raw.join('');
  const lines = raw.map((l) => JSON.parse(l) as Line);
  assert.ok(lines.length > 5, text);
  for (const line of lines) {
    assert.ok(['debug', 'info', 'warn', 'error'].includes(line.level), JSON.stringify(line));
    assert.ok(!Number.isNaN(Date.parse(line.time)), 'ISO time');
  }
  const http = lines.filter((l) => l.msg === 'http request');
  const fromClient = http.find((l) => l.req_id === 'req-from-client-1');
  assert.ok(fromClient, 'the client\'s request id is the log\'s');
  assert.equal(fromClient.status, 400, 'task.list takes no token parameter: refused, and logged');
  assert.equal(fromClient.operation, 'task.list');
  assert.equal((fromClient.headers as Record<string, string>).authorization, '[redacted]');
  assert.match(String(fromClient.url), /token=\[redacted\]/);
  assert.ok(http.some((l) => l.status === 401), 'the refused token is logged as a 401, without the token');
  assert.ok(new Set(http.map((l) => l.req_id)).size === http.length, 'one request id per request');
  const commands = lines.filter((l) => l.msg === 'socket command');
  assert.ok(commands.some((l) => l.operation === 'task.list' && typeof l.req_id === 'string' && l.outcome === 'ok'), 'socket commands get request ids too');

  // The point of it all: no token, whole or shaped like one, anywhere.
  for (const secret of [pool.adminToken, chosen, 'owpw_this-token-does-not-exist-0000']) assert.ok(!text.includes(secret), `a token leaked into the log:\n${text}`);
  assert.doesNotMatch(text, /owp[wm]_[A-Za-z0-9_-]{16,}/, 'nothing shaped like an OWP token');
});

test('owp coordinator on a pipe: JSON logs on stderr, the admin token\'s file on stdout, never the token', async () => {
  const dataDir = tempDir('owp-logs-');
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'coordinator', '--port', '0', '--data-dir', dataDir, '--log-level', 'debug'], {
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'OWP_ADMIN_TOKEN')),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!/admin token/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no start:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = (/listening on (http:\/\/\S+)/.exec(stdout) as RegExpExecArray)[1] as string;
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    await (await fetch(`${url}/v1/workers`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer();
    assert.ok(stdout.includes(`admin token in ${join(dataDir, 'admin-token')}`), stdout);
    assert.ok(!stdout.includes(token), `the admin token is on stdout:\n${stdout}`);
    assert.ok(!stdout.includes('#token='), 'no token-carrying dashboard link off a terminal');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const lines = stderr.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
    assert.ok(lines.some((l) => l.msg === 'http request' && l.operation === 'worker.list'), stderr);
    // The coordinator sets its V8 heap settings itself (coordinator/heap-settings.ts).
    assert.ok(lines.some((l) => l.msg === 'V8 heap settings' && l.v8_flags?.includes(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)), stderr);
    assert.ok(!stderr.includes(token), 'the admin token is in the log');
  } finally {
    child.kill('SIGKILL');
  }
});
