/**
 * `owp maintainer create|list|revoke` against a real coordinator: the token is printed once and
 * works, list never shows a token, revoke ends it (AUTH-009). The admin token comes from OWP_TOKEN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient } from '../../client/http-client.ts';
import { cliWorld } from '../helpers/cli-world.ts';

test('owp maintainer create, list and revoke', { timeout: 120_000 }, async () => {
  const world = await cliWorld();
  const { pool } = world;
  try {
    await pool.repo('o/r');
    const created = await world.owp(['maintainer', 'create', '--name', 'docs team', '--repos', 'o/*', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { maintainer, token } = JSON.parse(created.stdout) as { maintainer: { id: string }; token: string };
    assert.equal((await new HttpClient({ baseUrl: pool.url, token }).callRaw('task.list', { repo: 'o/r' })).ok, true);
    const listed = await world.owp(['maintainer', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${maintainer.id}\\s+docs team\\s+o/\\*`));
    assert.ok(!listed.stdout.includes(token) && !listed.stdout.includes(pool.adminToken), 'no token is listed');
    const revoked = await world.owp(['maintainer', 'revoke', maintainer.id, '--reason', 'left the project']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked/);
    const after = await new HttpClient({ baseUrl: pool.url, token }).callRaw('task.list', { repo: 'o/r' });
    assert.equal(!after.ok && after.error.code, 'UNAUTHENTICATED');
    const asMaintainer = await world.owp(['maintainer', 'list'], { env: { OWP_TOKEN: token } });
    assert.notEqual(asMaintainer.code, 0, 'a revoked (or any non-admin) token cannot list');
  } finally {
    await world.close();
  }
});
