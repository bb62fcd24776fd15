import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerClient } from '../../client/worker-client.ts';
import { nextOffer, startPool, until } from '../helpers/coordinator.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const opened: WorkerClient[] = [];
after(() => {
  for (const c of opened) c.close();
});

async function joinThrough(url: string, login: string): Promise<WorkerClient> {
  const { token } = await WorkerClient.register(url, { github_login: login, skills: ['docs'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  const client = new WorkerClient({ url, token, reconnectionDelayMs: 100, reconnectionDelayMaxMs: 300, requestTimeoutMs: 1000, retryForMs: 1500 });
  opened.push(client);
  await client.connect();
  return client;
}

test('a short network cut: the worker reconnects through the restored link and keeps its lease', async () => {
  const pool = await startPool();
  const proxy = await startTcpProxy(pool.url);
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 4000 });
    await pool.task('o/r');
    const w = await joinThrough(proxy.url, 'shortcut');
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    proxy.cut();
    await until(() => w.connectionState() === 'reconnecting', 'the worker noticed the cut');
    await new Promise((r) => setTimeout(r, 1500));
    proxy.restore();
    await until(() => w.connectionState() === 'connected', 'reconnected', 10_000);
    assert.ok(w.leases.has(lease.lease_id), 'the lease came back in hello');
    assert.ok(await w.heartbeat(lease.lease_id));
    const { task } = await pool.admin.call('task.get', { task_id: lease.task_id });
    assert.equal(task.lease?.lease_id, lease.lease_id);
    w.close();
  } finally {
    await proxy.close();
    await pool.close();
  }
});

test('a long network cut: the lease expires and is requeued; on reconnect the worker learns it lost it', async () => {
  const pool = await startPool();
  const proxy = await startTcpProxy(pool.url);
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 1000 });
    const taskId = await pool.task('o/r');
    const w = await joinThrough(proxy.url, 'longcut');
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    const lost = new Promise<string | undefined>((resolve) => w.once('lease.lost', (e) => resolve(e.code)));
    proxy.cut();
    const other = await pool.join({ skills: ['docs'] });
    const offer = await nextOffer(other, 10_000);
    assert.equal(offer.task_id, taskId, 'the task moved on while the worker was cut off');
    proxy.restore();
    assert.ok(await lost, 'the cut-off worker was told its lease is gone');
    assert.equal(w.leases.has(lease.lease_id), false);
    await assert.rejects(w.request('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), { code: 'LEASE_EXPIRED' });
    w.close();
  } finally {
    await proxy.close();
    await pool.close();
  }
});

test('a silent blackhole shorter than the heartbeat timeout (nothing closed, nothing delivered): the lease is kept', async () => {
  const pool = await startPool();
  const proxy = await startTcpProxy(pool.url);
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 5000 });
    await pool.task('o/r');
    const w = await joinThrough(proxy.url, 'napping');
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    let lost = false;
    w.on('lease.lost', () => (lost = true));
    proxy.blackhole();
    await new Promise((r) => setTimeout(r, 2000));
    // Nothing reached the coordinator, not even a close: it still sees the worker's socket.
    assert.equal(pool.coordinator.runtime.engine.state.workers.get(w.worker!.id)?.online, true, 'no close crossed the blackhole');
    proxy.restore();
    await until(() => w.connectionState() === 'connected', 'connected after the link came back', 10_000);
    assert.ok(await w.heartbeat(lease.lease_id), 'the lease is renewed');
    const { task } = await pool.admin.call('task.get', { task_id: lease.task_id });
    assert.equal(task.lease?.lease_id, lease.lease_id);
    assert.equal(lost, false);
    w.close();
  } finally {
    await proxy.close();
    await pool.close();
  }
});

test('a silent blackhole longer than the heartbeat timeout: the lease expires by its deadline although nothing was closed, and the worker learns it once the link is back', async () => {
  const pool = await startPool();
  const proxy = await startTcpProxy(pool.url);
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 1000 });
    const taskId = await pool.task('o/r');
    const w = await joinThrough(proxy.url, 'hibernating');
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    const lost = new Promise<string | undefined>((resolve) => w.once('lease.lost', (e) => resolve(e.code)));
    proxy.blackhole();
    const other = await pool.join({ skills: ['docs'] });
    const offer = await nextOffer(other, 10_000);
    assert.equal(offer.task_id, taskId, 'the task moved on');
    assert.equal(pool.coordinator.runtime.engine.state.workers.get(w.worker!.id)?.online, true, 'it expired by its deadline, with the worker still connected as far as the coordinator knew');
    proxy.restore();
    assert.ok(await lost, 'the worker was told its lease is gone');
    assert.equal(w.leases.has(lease.lease_id), false);
    await assert.rejects(w.request('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), { code: 'LEASE_EXPIRED' });
    w.close();
  } finally {
    await proxy.close();
    await pool.close();
  }
});

test('a half-open link (a laptop waking on a connection the network forgot): the worker notices its unanswered heartbeat, reconnects and keeps its lease', async () => {
  // The coordinator keeps socket.io's default ping (25 s + 20 s): only the worker's own timeout can save the lease in time.
  const pool = await startPool();
  const proxy = await startTcpProxy(pool.url);
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 6000 });
    await pool.task('o/r');
    const w = await joinThrough(proxy.url, 'waking');
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    let lost = false;
    w.on('lease.lost', () => (lost = true));
    const connections = proxy.accepted();
    proxy.halfOpen();
    await until(() => !pool.coordinator.runtime.engine.state.workers.get(w.worker!.id)?.online, 'the coordinator saw its end close');
    assert.equal(w.connectionState(), 'connected', 'the worker still believes in its connection');
    await until(() => proxy.accepted() > connections && w.connectionState() === 'connected', 'the worker reconnected on a fresh connection', 10_000);
    assert.ok(await w.heartbeat(lease.lease_id), 'and its lease is still its own');
    const { task } = await pool.admin.call('task.get', { task_id: lease.task_id });
    assert.equal(task.lease?.lease_id, lease.lease_id);
    assert.equal(lost, false);
    w.close();
  } finally {
    await proxy.close();
    await pool.close();
  }
});
