import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { WorkerClient } from '../../client/worker-client.ts';
import type { Offer } from '../../protocol/model.ts';
import type { Result } from '../../protocol/operations.ts';
import { nextOffer, startPool, until } from '../helpers/coordinator.ts';

/**
 * A relay between a worker and the coordinator that passes everything on at once, except the
 * answer to a hello: when it arrives, `whileHeld` runs (a maintainer changes something, whose push
 * passes on meanwhile), and only then does the answer go on, read before that change. A cluster
 * node's pushes and answers take different paths, so this order can happen there too.
 */
async function relayHoldingHello(target: string, whileHeld: (up: ClientSocket, hello: number) => Promise<void>): Promise<{ url: string; ops: Array<{ name: string; leaseId?: string; at: number }>; dropAll(): void; close(): void }> {
  const ops: Array<{ name: string; leaseId?: string; at: number }> = [];
  const downs = new Set<ServerSocket>();
  let hellos = 0;
  const relay = new Server({ transports: ['websocket'] });
  relay.on('connection', (down) => {
    downs.add(down);
    const up = ioClient(target, { auth: down.handshake.auth, transports: ['websocket'], reconnection: false });
    up.onAny((name: string, payload: unknown) => down.emit(name, payload));
    up.on('disconnect', () => down.disconnect(true));
    down.on('disconnect', () => {
      downs.delete(down);
      up.close();
    });
    down.onAny((name: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (a: unknown) => void) : undefined;
      ops.push({ name, leaseId: (args[0] as { lease_id?: string } | undefined)?.lease_id, at: Date.now() });
      up.emit(name, args[0], (answer: unknown) => {
        if (name !== 'session.hello') return ack?.(answer);
        hellos += 1;
        void whileHeld(up, hellos).then(() => setTimeout(() => ack?.(answer), 50));
      });
    });
  });
  const http = createServer();
  relay.attach(http);
  const url = await new Promise<string>((resolve) => http.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(http.address() as AddressInfo).port}`)));
  return {
    url,
    ops,
    dropAll: () => {
      for (const down of downs) down.disconnect(true);
    },
    close: () => void relay.close(),
  };
}

const PROFILE = { skills: ['docs'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };

describe('worker client resume', () => {
  test('a restarted worker renews its resumed lease at once, so time offline short of the timeout does not lose it', async () => {
    // heartbeat_interval_ms is a third of the timeout: 1333 ms. The worker is gone for 3 s after
    // its last heartbeat; waiting one interval after reconnecting would be past the 4 s timeout.
    const pool = await startPool('memory');
    let restarted: WorkerClient | undefined;
    try {
      await pool.repo('acme/site', { heartbeat_timeout_ms: 4000 });
      await pool.task('acme/site', { skills: ['docs'] });
      const first = await pool.join({ skills: ['docs'] });
      const { lease } = await first.accept((await nextOffer(first)).offer_id);
      await new Promise((resolve) => first.once('lease.renewed', resolve));
      first.close();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      restarted = new WorkerClient({ url: pool.url, token: first.token, reconnectionDelayMs: 100 });
      const hello = await restarted.connect();
      assert.deepEqual(hello.leases.map((l) => l.lease_id), [lease.lease_id]);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const { task } = await pool.admin.call('task.get', { task_id: lease.task_id });
      assert.equal(task.state, 'leased', 'the lease survived the restart');
      assert.equal(task.lease?.lease_id, lease.lease_id);
    } finally {
      restarted?.close();
      await pool.close();
    }
  });

  test('an offer made while hello is in flight is announced once', async () => {
    const pool = await startPool('lowdb');
    try {
      await pool.repo('acme/site');
      for (let i = 0; i < 3; i += 1) await pool.task('acme/site', { skills: ['docs'], area: `a${i}` });
      const { token } = await WorkerClient.register(pool.url, { github_login: 'hanna', skills: ['docs'], capacity: 3, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
      const client = new WorkerClient({ url: pool.url, token });
      const announced: Offer[] = [];
      client.on('offer', (offer) => announced.push(offer));
      try {
        await client.connect();
        await until(() => announced.length > 0, 'an offer is announced');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const ids = announced.map((o) => o.offer_id);
        assert.deepEqual(ids, [...new Set(ids)], `each offer once: ${ids.join(', ')}`);
      } finally {
        client.close();
      }
    } finally {
      await pool.close();
    }
  });

  test('a lease granted while hello is in flight is kept and heartbeated, even when its push overtakes the answer that does not list it', async () => {
    // A maintainer creates a task while the hello's answer is held; the coordinator grants it to the
    // worker directly and the push reaches the worker before the answer, whose leases were read
    // before the grant. A lease known before the hello and missing from its answer is lost; this
    // one is newer than the list.
    const pool = await startPool('memory');
    let taskId = '';
    const relay = await relayHoldingHello(pool.url, async (up) => {
      taskId = await pool.task('acme/site', { skills: ['docs'] });
      await new Promise((resolve) => up.once('lease.granted', resolve));
    });
    try {
      await pool.repo('acme/site', { heartbeat_timeout_ms: 3000 });
      const { token } = await WorkerClient.register(pool.url, { github_login: 'ines', ...PROFILE });
      const worker = new WorkerClient({ url: relay.url, token, acceptOffers: 'auto' });
      const granted: string[] = [];
      const lost: string[] = [];
      worker.on('lease.granted', ({ lease }) => granted.push(lease.lease_id));
      worker.on('lease.lost', ({ lease }) => lost.push(lease.lease_id));
      try {
        const hello = await worker.connect();
        assert.equal(granted.length, 1, 'the grant was pushed before the hello was answered');
        assert.deepEqual(hello.leases, [], 'and the answer was read before the grant');
        // Two heartbeat timeouts later the lease is still the worker's: it was heartbeated throughout.
        await new Promise((resolve) => setTimeout(resolve, 6000));
        assert.deepEqual(lost, []);
        assert.deepEqual([...worker.leases.keys()], granted);
        const { task } = await pool.admin.call('task.get', { task_id: taskId });
        assert.equal(task.state, 'leased');
        assert.equal(task.lease?.lease_id, granted[0]);
      } finally {
        worker.close();
      }
    } finally {
      relay.close();
      await pool.close();
    }
  });

  test('a lease cancelled while hello is in flight is not taken up again from the answer that still lists it', async () => {
    // The worker holds a lease and reconnects; while its hello's answer is held, a maintainer cancels
    // the task and lease.cancelled reaches the worker first. The answer, read before the
    // cancellation, still lists the lease: heartbeating it again would act on a lease the worker was
    // told it lost (SPEC CLIENT-004).
    const pool = await startPool('memory');
    let taskId = '';
    let toldAt = 0;
    const relay = await relayHoldingHello(pool.url, async (up, hello) => {
      if (hello === 1) return;
      await pool.admin.call('task.cancel', { task_id: taskId, reason: 'no longer wanted' });
      await new Promise((resolve) => up.once('lease.cancelled', resolve));
      toldAt = Date.now();
    });
    try {
      await pool.repo('acme/site', { heartbeat_timeout_ms: 3000 });
      taskId = await pool.task('acme/site', { skills: ['docs'] });
      const { token } = await WorkerClient.register(pool.url, { github_login: 'jonas', ...PROFILE });
      const worker = new WorkerClient({ url: relay.url, token, acceptOffers: 'auto', reconnectionDelayMs: 100 });
      const lost: string[] = [];
      worker.on('lease.lost', ({ lease }) => lost.push(lease.lease_id));
      try {
        await worker.connect();
        await until(() => worker.leases.size === 1, 'the worker holds the lease');
        const [leaseId] = [...worker.leases.keys()];
        const second = new Promise<Result<'session.hello'>>((resolve) => worker.once('hello', resolve));
        relay.dropAll();
        const hello = await second;
        assert.deepEqual(hello.leases.map((l) => l.lease_id), [leaseId], 'the answer was read before the cancellation');
        assert.ok(toldAt > 0);
        await new Promise((resolve) => setTimeout(resolve, 3000));
        assert.deepEqual(worker.leases.size, 0);
        assert.deepEqual(lost, [leaseId], 'lost once, when it was cancelled');
        const after = relay.ops.filter((o) => o.leaseId === leaseId && o.at > toldAt);
        assert.deepEqual(after.map((o) => o.name), [], 'nothing sent on the lease after lease.cancelled');
      } finally {
        worker.close();
      }
    } finally {
      relay.close();
      await pool.close();
    }
  });
});
