import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerClient } from '../../client/worker-client.ts';
import { nextOffer, startPool, until } from '../helpers/coordinator.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

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

/** A cut closes both ends at once; a blackhole closes nothing and delivers nothing, as for a sleeping laptop. */
const OUTAGES: Array<{ name: string; start: (proxy: TcpProxy) => void; closes: boolean }> = [
  { name: 'a network cut', start: (proxy) => proxy.cut(), closes: true },
  { name: 'a silent blackhole', start: (proxy) => proxy.blackhole(), closes: false },
];

for (const outage of OUTAGES) {
  test(`${outage.name} shorter than the heartbeat timeout: the worker is back through the restored link and keeps its lease`, async () => {
    const pool = await startPool();
    const proxy = await startTcpProxy(pool.url);
    try {
      await pool.repo('o/r', { heartbeat_timeout_ms: 5000 });
      await pool.task('o/r');
      const w = await joinThrough(proxy.url, `short-${outage.closes ? 'cut' : 'hole'}`);
      const { lease } = await w.accept((await nextOffer(w)).offer_id);
      let lost = false;
      w.on('lease.lost', () => (lost = true));
      outage.start(proxy);
      if (outage.closes) await until(() => w.connectionState() === 'reconnecting', 'the worker noticed the cut');
      await new Promise((r) => setTimeout(r, 1500));
      // Nothing crosses a blackhole, not even a close: the coordinator still sees the worker's socket.
      if (!outage.closes) assert.equal(pool.coordinator.runtime.engine.state.workers.get(w.worker!.id)?.online, true, 'no close crossed the blackhole');
      proxy.restore();
      await until(() => w.connectionState() === 'connected', 'connected after the link came back', 10_000);
      assert.ok(w.leases.has(lease.lease_id), 'the lease is still the worker\'s');
      assert.ok(await w.heartbeat(lease.lease_id), 'and is renewed');
      const { task } = await pool.admin.call('task.get', { task_id: lease.task_id });
      assert.equal(task.lease?.lease_id, lease.lease_id);
      assert.equal(lost, false);
      w.close();
    } finally {
      await proxy.close();
      await pool.close();
    }
  });

  test(`${outage.name} longer than the heartbeat timeout: the lease expires by its deadline and is requeued; once the link is back the worker learns it lost it`, async () => {
    const pool = await startPool();
    const proxy = await startTcpProxy(pool.url);
    try {
      await pool.repo('o/r', { heartbeat_timeout_ms: 1000 });
      const taskId = await pool.task('o/r');
      const w = await joinThrough(proxy.url, `long-${outage.closes ? 'cut' : 'hole'}`);
      const { lease } = await w.accept((await nextOffer(w)).offer_id);
      const lost = new Promise<string | undefined>((resolve) => w.once('lease.lost', (e) => resolve(e.code)));
      outage.start(proxy);
      const other = await pool.join({ skills: ['docs'] });
      const offer = await nextOffer(other, 10_000);
      assert.equal(offer.task_id, taskId, 'the task moved on while the worker was out of reach');
      if (!outage.closes) assert.equal(pool.coordinator.runtime.engine.state.workers.get(w.worker!.id)?.online, true, 'it expired by its deadline, with the worker still connected as far as the coordinator knew');
      proxy.restore();
      assert.ok(await lost, 'the worker was told its lease is gone');
      assert.equal(w.leases.has(lease.lease_id), false);
      await assert.rejects(w.request('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), { code: 'LEASE_EXPIRED' });
      w.close();
    } finally {
      await proxy.close();
      await pool.close();
    }
  });
}

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
