import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startPool, nextOffer } from '../helpers/coordinator.ts';
import { HttpClient } from '../../client/http-client.ts';

test('access: no token, a wrong token, a worker on maintainer operations, a maintainer of another repo, a revoked worker', async () => {
  const pool = await startPool();
  try {
    await pool.repo('mine/repo');
    await pool.repo('theirs/repo');
    const anon = new HttpClient({ baseUrl: pool.url });
    const wrong = new HttpClient({ baseUrl: pool.url, token: 'owpw_not-a-real-token' });
    const noToken = await anon.callRaw('task.create', { repo: 'mine/repo', title: 'x' });
    assert.equal(noToken.status, 401);
    assert.equal(!noToken.ok && noToken.error.code, 'UNAUTHENTICATED');
    const bad = await wrong.callRaw('task.list', {});
    assert.equal(!bad.ok && bad.error.code, 'UNAUTHENTICATED');

    const w = await pool.join();
    const asWorker = new HttpClient({ baseUrl: pool.url, token: w.token });
    const forbidden = await asWorker.callRaw('task.create', { repo: 'mine/repo', title: 'x' });
    assert.equal(forbidden.status, 403);
    assert.equal(!forbidden.ok && forbidden.error.code, 'FORBIDDEN');

    const { token: scoped } = await pool.admin.call('maintainer.create', { name: 'mine', repos: ['mine/*'] });
    const maintainer = new HttpClient({ baseUrl: pool.url, token: scoped });
    await maintainer.call('task.create', { repo: 'mine/repo', title: 'allowed' });
    const other = await maintainer.callRaw('task.create', { repo: 'theirs/repo', title: 'not allowed' });
    assert.equal(!other.ok && other.error.code, 'FORBIDDEN');
    const adminOnly = await maintainer.callRaw('worker.set_trust', { worker_id: w.worker!.id, trust: 3 });
    assert.equal(!adminOnly.ok && adminOnly.error.code, 'FORBIDDEN');
    const theirJournal = await maintainer.call('journal.read', { after_seq: 0 });
    // Non-empty first: .every over an empty page would pass whatever the scope check did.
    assert.ok(theirJournal.events.some((e) => e.type === 'task.created' && e.repo === 'mine/repo'), 'a scoped maintainer sees its own repo\'s events');
    const { events: all } = await pool.admin.call('journal.read', { after_seq: 0 });
    assert.ok(all.some((e) => e.repo === 'theirs/repo'), 'there are events of the other repo to hide');
    assert.ok(theirJournal.events.every((e) => e.repo === undefined ? e.type.startsWith('worker.') : e.repo.startsWith('mine/')), 'a scoped maintainer sees only its repos');

    await pool.admin.call('worker.revoke', { worker_id: w.worker!.id });
    const revoked = await asWorker.callRaw('worker.status', {});
    assert.equal(!revoked.ok && revoked.error.code, 'UNAUTHENTICATED');
  } finally {
    await pool.close();
  }
});

test('socket.io: a bad token is refused at the handshake and hello comes first', async () => {
  const pool = await startPool();
  try {
    const bad = io(pool.url, { auth: { token: 'owpw_wrong' }, transports: ['websocket'], reconnection: false });
    const err = await new Promise<Error & { data?: { code?: string } }>((resolve) => bad.once('connect_error', resolve));
    assert.equal(err.data?.code, 'UNAUTHENTICATED');
    bad.close();

    const w = await pool.join();
    const raw = io(pool.url, { auth: { token: w.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    const early = await raw.emitWithAck('offer.list', {});
    assert.equal(early.error.code, 'HELLO_REQUIRED');
    const old = await raw.emitWithAck('session.hello', { protocol_version: '9.9' });
    assert.equal(old.error.code, 'VERSION_UNSUPPORTED');
    assert.deepEqual(old.error.details.supported, ['0.1']);
    const hello = await raw.emitWithAck('session.hello', { protocol_version: '0.1' });
    assert.equal(hello.ok, true);
    assert.equal(hello.data.role, 'worker');
    raw.close();
  } finally {
    await pool.close();
  }
});

test('another worker cannot accept an offer or touch a lease over the wire', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r');
    await pool.task('o/r');
    const holder = await pool.join();
    const offer = await nextOffer(holder);
    const intruder = await pool.join();
    await assert.rejects(intruder.request('offer.accept', { offer_id: offer.offer_id }), { code: 'NOT_HOLDER' });
    const { lease } = await holder.accept(offer.offer_id);
    await assert.rejects(intruder.request('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), { code: 'NOT_HOLDER' });
  } finally {
    await pool.close();
  }
});
