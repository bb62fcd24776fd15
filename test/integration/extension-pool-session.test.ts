import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PoolSession, type IdentityStore, type WorkerIdentity } from '../../extension/logic/pool-session.ts';
import type { WorkerProfile } from '../../client/worker-client.ts';
import type { Offer } from '../../protocol/model.ts';
import { startPool, until } from '../helpers/coordinator.ts';

/** What the extension keeps in workspaceState + SecretStorage, kept in memory for the test. */
class MemoryIdentityStore implements IdentityStore {
  saved: { identity: WorkerIdentity; token: string } | undefined;
  async load() {
    return this.saved ? structuredClone(this.saved) : undefined;
  }
  async save(identity: WorkerIdentity, token: string) {
    this.saved = { identity: { ...identity }, token };
  }
  async clear() {
    this.saved = undefined;
  }
}

const FAST = { client: { reconnectionDelayMs: 100, reconnectionDelayMaxMs: 300 }, relistDelayMs: 20 };

function profile(login: string, fields: Partial<WorkerProfile> = {}): WorkerProfile {
  return { github_login: login, skills: ['docs'], capacity: 3, tools: ['vscode'], capabilities: { can_run_tests: true, can_open_prs: true }, ...fields };
}

function nextOffer(session: PoolSession): Promise<Offer> {
  const open = session.snapshot().offers[0];
  return open ? Promise.resolve(open) : new Promise((resolve) => session.once('offer', resolve));
}

describe('extension pool session (one editor window against a real coordinator)', () => {
  test('joining registers a worker, keeps its token in the store, and takes an offer through to a lease', async () => {
    const pool = await startPool();
    const store = new MemoryIdentityStore();
    const session = new PoolSession(store, FAST);
    try {
      await pool.repo('acme/site');
      const worker = await session.join(pool.url, profile('alice'));
      assert.ok(worker?.id.startsWith('W-'));
      assert.equal(session.state, 'connected');
      assert.equal(store.saved?.identity.workerId, worker?.id);
      assert.equal(store.saved?.identity.active, true);
      assert.ok(store.saved?.token);

      const taskId = await pool.task('acme/site', { skills: ['docs'], effort: 2, title: 'Fix the README' });
      const offer = await nextOffer(session);
      assert.equal(offer.task_id, taskId);
      assert.equal(session.snapshot().offers.length, 1);
      const { lease } = await session.accept(offer.offer_id);
      const snap = session.snapshot();
      assert.deepEqual(snap.leases.map((l) => l.lease_id), [lease.lease_id]);
      assert.equal(snap.tasks.get(taskId)?.title, 'Fix the README');
      await session.report(lease.lease_id, { state: 'in_progress' });
      assert.equal(session.task(taskId)?.state, 'in_progress');
    } finally {
      session.dispose();
      await pool.close();
    }
  });

  test('ready tasks are listed for claiming and re-listed when the pool changes', async () => {
    const pool = await startPool();
    const session = new PoolSession(new MemoryIdentityStore(), FAST);
    try {
      await pool.repo('acme/site');
      // Skills the worker lacks: the task stays ready (not offered) but is listed.
      await session.join(pool.url, profile('bob', { skills: ['rust'] }));
      const taskId = await pool.task('acme/site', { skills: ['docs'] });
      await until(() => session.snapshot().listed.some((t) => t.id === taskId), 'the new ready task is listed after tasks.changed');
      await assert.rejects(session.claim(taskId), (e: { code: string }) => e.code === 'NOT_ELIGIBLE');
    } finally {
      session.dispose();
      await pool.close();
    }
  });

  test('two windows are two workers; a reopened window resumes the same worker and its lease', async () => {
    const pool = await startPool();
    const storeA = new MemoryIdentityStore();
    const storeB = new MemoryIdentityStore();
    const a = new PoolSession(storeA, FAST);
    const b = new PoolSession(storeB, FAST);
    let reopened: PoolSession | undefined;
    try {
      await pool.repo('acme/site');
      const wa = await a.join(pool.url, profile('carol'));
      const wb = await b.join(pool.url, profile('carol'));
      assert.notEqual(wa?.id, wb?.id);

      await pool.task('acme/site', { skills: ['docs'] });
      const offer = await Promise.race([nextOffer(a).then((o) => ({ o, s: a })), nextOffer(b).then((o) => ({ o, s: b }))]);
      const { lease } = await offer.s.accept(offer.o.offer_id);
      const holderStore = offer.s === a ? storeA : storeB;
      offer.s.dispose();

      reopened = new PoolSession(holderStore, FAST);
      assert.equal(await reopened.resume(pool.url, { skills: ['docs'], capacity: 3 }), true);
      await until(() => reopened?.snapshot().leases.some((l) => l.lease_id === lease.lease_id), 'the reopened window resumes its lease');
      assert.equal(reopened.workerId, holderStore.saved?.identity.workerId);
      await until(() => reopened?.task(lease.task_id)?.title, 'the task behind the resumed lease is fetched');
      assert.equal(await new PoolSession(new MemoryIdentityStore(), FAST).resume(pool.url, {}), false, 'a window that never joined does not connect');
    } finally {
      a.dispose();
      b.dispose();
      reopened?.dispose();
      await pool.close();
    }
  });

  test('leaving releases held tasks and keeps the identity, so joining again is the same worker', async () => {
    const pool = await startPool();
    const store = new MemoryIdentityStore();
    const session = new PoolSession(store, FAST);
    try {
      await pool.repo('acme/site');
      const first = await session.join(pool.url, profile('dave'));
      const taskId = await pool.task('acme/site', { skills: ['docs'] });
      const offer = await nextOffer(session);
      await session.accept(offer.offer_id);
      await session.leave({ release: true });
      assert.equal(session.state, 'not-joined');
      assert.equal(store.saved?.identity.active, false);
      const { task } = await pool.admin.call('task.get', { task_id: taskId });
      assert.notEqual(task.state, 'leased');
      assert.equal(await new PoolSession(store, FAST).resume(pool.url, {}), false, 'a window that left does not reconnect on start');
      const again = await session.join(pool.url, profile('dave'));
      assert.equal(again?.id, first?.id);
    } finally {
      session.dispose();
      await pool.close();
    }
  });

  test('profile edits reach the coordinator, now and in the next hello', async () => {
    const pool = await startPool();
    const session = new PoolSession(new MemoryIdentityStore(), FAST);
    try {
      const worker = await session.join(pool.url, profile('erin'));
      await session.updateProfile({ skills: ['docs', 'ts'], capacity: 5 });
      const { workers } = await pool.admin.call('worker.list', {});
      const seen = workers.find((w) => w.id === worker?.id);
      assert.deepEqual(seen?.skills, ['docs', 'ts']);
      assert.equal(seen?.capacity, 5);
      assert.equal(session.snapshot().worker?.capacity, 5);
    } finally {
      session.dispose();
      await pool.close();
    }
  });

  test('a token the coordinator does not know is reported and forgotten; joining again registers afresh', async () => {
    const pool = await startPool();
    const store = new MemoryIdentityStore();
    // What a window remembers after the pool it joined was reset: an identity whose token is unknown.
    await store.save({ workerId: 'W-77', coordinatorUrl: pool.url, githubLogin: 'gina', active: true }, 'owp_w_unknown_token_0000000000');
    const session = new PoolSession(store, FAST);
    try {
      const rejected = new Promise((resolve) => session.once('token.rejected', resolve));
      assert.equal(await session.resume(pool.url, {}), true);
      await rejected;
      assert.equal(session.state, 'not-joined');
      assert.equal(store.saved, undefined);

      await store.save({ workerId: 'W-77', coordinatorUrl: pool.url, githubLogin: 'gina', active: true }, 'owp_w_unknown_token_0000000000');
      const worker = await session.join(pool.url, profile('gina'));
      assert.notEqual(worker?.id, 'W-77');
      assert.equal(session.state, 'connected');
      assert.equal((await store.load())?.identity.workerId, worker?.id);
    } finally {
      session.dispose();
      await pool.close();
    }
  });

  test('a coordinator that is down gives a clear error and leaves nothing half-joined', async () => {
    const store = new MemoryIdentityStore();
    const session = new PoolSession(store, FAST);
    try {
      await assert.rejects(session.join('http://127.0.0.1:9', profile('frank')), (e: { code: string; message: string }) => e.code === 'UNAVAILABLE' && /Cannot reach the coordinator/.test(e.message));
      assert.equal(session.state, 'not-joined');
      assert.equal(store.saved, undefined);
    } finally {
      session.dispose();
    }
  });
});
