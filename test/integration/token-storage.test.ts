import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken } from '../../coordinator/auth.ts';
import { HttpClient } from '../../client/http-client.ts';
import { startPool } from '../helpers/coordinator.ts';

test('tokens are stored only as SHA-256 hashes: no token in any file on disk or in the journal served, and they still work after a restart', async () => {
  const pool = await startPool('lowdb');
  try {
    const profile = { github_login: 'secretive', skills: [], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true }, idempotency_key: 'reg' };
    const anon = new HttpClient({ baseUrl: pool.url });
    const first = await anon.call('worker.register', profile);
    const rotated = await anon.call('worker.register', profile); // a replayed registration issues a new token
    const other = await anon.call('worker.register', { ...profile, github_login: 'other', idempotency_key: 'reg2' });
    const { token: maintainer } = await pool.admin.call('maintainer.create', { name: 'm', repos: ['o/*'] });
    const tokens = [pool.adminToken, first.token, rotated.token, other.token, maintainer];
    assert.equal(new Set(tokens).size, tokens.length);
    await pool.coordinator.runtime.snapshot();

    const files = readdirSync(pool.dataDir as string).filter((f) => f !== 'owp.lock');
    assert.ok(files.includes('journal.jsonl') && files.includes('state.json'));
    const disk = files.map((f) => readFileSync(join(pool.dataDir as string, f), 'utf8')).join('\n');
    for (const token of tokens) {
      assert.ok(!disk.includes(token), 'no token is written to disk');
      assert.ok(!disk.includes(token.slice(5, 25)), 'not even part of one');
    }
    for (const token of [pool.adminToken, rotated.token, other.token, maintainer]) assert.ok(disk.includes(hashToken(token)), 'each live token is kept as its SHA-256');

    const { events } = await pool.admin.call('journal.read', { after_seq: 0 });
    const served = JSON.stringify(events);
    for (const token of tokens) assert.ok(!served.includes(token) && !served.includes(hashToken(token)), 'the journal served has neither tokens nor their hashes');
    assert.ok(!served.includes('token_hash'));

    await pool.restart();
    const asWorker = new HttpClient({ baseUrl: pool.url, token: rotated.token });
    assert.equal((await asWorker.call('worker.status', {})).worker.id, first.worker.id, 'the hashed token authenticates after a restart');
    const stale = await new HttpClient({ baseUrl: pool.url, token: first.token }).callRaw('worker.status', {});
    assert.equal(!stale.ok && stale.error.code, 'UNAUTHENTICATED', 'the rotated-out token stays dead');
  } finally {
    await pool.close();
  }
});
