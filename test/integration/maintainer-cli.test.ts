/**
 * `owp maintainer create|list|revoke` against a real coordinator: the token is printed once and
 * works, list never shows a token, revoke ends it (AUTH-009). The admin token comes from OWP_TOKEN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { HttpClient } from '../../client/http-client.ts';
import { owpArgv, ROOT } from '../helpers/owp-cli.ts';
import { startPool } from '../helpers/coordinator.ts';

function owp(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...owpArgv(), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('owp maintainer create, list and revoke', { timeout: 120_000 }, async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r');
    const env = { ...process.env, OWP_COORDINATOR_URL: pool.url, OWP_TOKEN: pool.adminToken };
    const created = await owp(['maintainer', 'create', '--name', 'docs team', '--repos', 'o/*', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const { maintainer, token } = JSON.parse(created.stdout) as { maintainer: { id: string }; token: string };
    assert.equal((await new HttpClient({ baseUrl: pool.url, token }).callRaw('task.list', { repo: 'o/r' })).ok, true);
    const listed = await owp(['maintainer', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${maintainer.id}\\s+docs team\\s+o/\\*`));
    assert.ok(!listed.stdout.includes(token) && !listed.stdout.includes(pool.adminToken), 'no token is listed');
    const revoked = await owp(['maintainer', 'revoke', maintainer.id, '--reason', 'left the project'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked/);
    const after = await new HttpClient({ baseUrl: pool.url, token }).callRaw('task.list', { repo: 'o/r' });
    assert.equal(!after.ok && after.error.code, 'UNAUTHENTICATED');
    const asMaintainer = await owp(['maintainer', 'list'], { ...env, OWP_TOKEN: token });
    assert.notEqual(asMaintainer.code, 0, 'a revoked (or any non-admin) token cannot list');
  } finally {
    await pool.close();
  }
});
