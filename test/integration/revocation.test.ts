/**
 * Revocation (SPEC AUTH-006, AUTH-009, AUTH-010): a revoked maintainer token stops working at once on
 * both bindings, its open socket is closed and its journal feed ends; a new operator admin token
 * replaces the old one across a restart; a replayed maintainer.create cannot bring a revoked
 * maintainer back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { createCoordinator } from '../../coordinator/app.ts';
import { newToken } from '../../coordinator/auth.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { HttpClient } from '../../client/http-client.ts';
import type { Ack } from '../../protocol/operations.ts';
import { startPool, tempDir, until } from '../helpers/coordinator.ts';
import { rmSync } from 'node:fs';

test('maintainer.revoke ends a maintainer token on HTTP and on its open socket, and a replay cannot revive it', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r');
    const created = await pool.admin.call('maintainer.create', { name: 'docs', repos: ['o/*'], idempotency_key: 'create-docs' });
    const http = new HttpClient({ baseUrl: pool.url, token: created.token });
    assert.equal((await http.callRaw('task.list', {})).ok, true);
    const socket = io(pool.url, { auth: { token: created.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const feed: unknown[] = [];
    socket.on('journal.appended', (p: { events: unknown[] }) => feed.push(...p.events));
    assert.equal(((await socket.emitWithAck('session.hello', { protocol_version: '0.1', subscribe: ['journal'] })) as Ack<unknown>).ok, true);
    const closed = new Promise<void>((r) => socket.once('disconnect', () => r()));

    const { maintainer } = await pool.admin.call('maintainer.revoke', { maintainer_id: created.maintainer.id, reason: 'left' });
    assert.equal(maintainer.revoked, true);
    await closed;
    const after = await http.callRaw('task.list', {});
    assert.equal(!after.ok && after.error.code, 'UNAUTHENTICATED', 'HTTP refuses the revoked token');
    const seen = feed.length;
    await pool.task('o/r', { title: 'after the revocation' });
    await pool.coordinator.runtime.whenIdle();
    assert.equal(feed.length, seen, 'the closed socket hears nothing more');

    const replay = await pool.admin.callRaw('maintainer.create', { name: 'docs', repos: ['o/*'], idempotency_key: 'create-docs' });
    assert.equal(!replay.ok && replay.error.code, 'FORBIDDEN', 'a replayed create does not bring the revoked maintainer back');
    const again = await pool.admin.callRaw('maintainer.revoke', { maintainer_id: created.maintainer.id });
    assert.equal(!again.ok && again.error.code, 'INVALID_TRANSITION');
    const { maintainers } = await pool.admin.call('maintainer.list', {});
    assert.deepEqual(maintainers.map((m) => [m.id, m.name, m.revoked ?? false, m.bootstrap ?? false]), [['M-1', 'admin', false, true], [created.maintainer.id, 'docs', true, false]]);
    const self = await pool.admin.callRaw('maintainer.revoke', { maintainer_id: 'M-1' });
    assert.equal(!self.ok && self.error.code, 'FORBIDDEN', 'the bootstrap admin is replaced by rotating the operator token, not revoked');
    socket.close();
  } finally {
    await pool.close();
  }
});

test('a revoked worker\'s open socket is closed, after it is told its lease ended', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r');
    await pool.task('o/r');
    const w = await pool.join();
    await until(() => w.offers.size > 0, 'an offer');
    const { lease } = await w.accept([...w.offers.values()][0]!.offer_id);
    const cancelled = new Promise<string>((r) => w.once('lease.cancelled', (p) => r(p.lease_id)));
    await pool.admin.call('worker.revoke', { worker_id: w.worker!.id });
    assert.equal(await cancelled, lease.lease_id);
    const raw = io(pool.url, { auth: { token: w.token }, transports: ['websocket'], reconnection: false });
    const refused = await new Promise<string | undefined>((r) => raw.once('connect_error', (e: Error & { data?: { code?: string } }) => r(e.data?.code)));
    assert.equal(refused, 'UNAUTHENTICATED');
    raw.close();
  } finally {
    await pool.close();
  }
});

test('a new operator admin token replaces the old one across a restart: the old stops working', async () => {
  const dir = tempDir();
  const start = (token: string) => createCoordinator({ store: new LowdbStore(dir), clock: new SystemClock(), adminTokens: [token] });
  try {
    const first = newToken('maintainer');
    let coordinator = await start(first);
    let url = await coordinator.listen(0);
    await new HttpClient({ baseUrl: url, token: first }).call('repo.configure', { repo: 'o/r' });
    const { token: scoped } = await new HttpClient({ baseUrl: url, token: first }).call('maintainer.create', { name: 'team', repos: ['o/*'] });
    await coordinator.close();

    const second = newToken('maintainer');
    coordinator = await start(second);
    url = await coordinator.listen(0);
    const old = await new HttpClient({ baseUrl: url, token: first }).callRaw('repo.list', {});
    assert.equal(!old.ok && old.error.code, 'UNAUTHENTICATED', 'the old admin token stopped working');
    const fresh = new HttpClient({ baseUrl: url, token: second });
    const { maintainers } = await fresh.call('maintainer.list', {});
    assert.deepEqual(maintainers.filter((m) => m.bootstrap).map((m) => [m.id, m.revoked ?? false]), [['M-1', false]], 'the same bootstrap admin, rotated');
    assert.equal((await new HttpClient({ baseUrl: url, token: scoped }).callRaw('repo.list', {})).ok, true, 'other maintainer tokens are untouched');
    await coordinator.close();

    // Starting again with the same token changes nothing.
    coordinator = await start(second);
    url = await coordinator.listen(0);
    const { maintainers: again } = await new HttpClient({ baseUrl: url, token: second }).call('maintainer.list', {});
    assert.equal(again.length, maintainers.length);
    await coordinator.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
