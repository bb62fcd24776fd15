/**
 * Direct leases over real sockets and a real store on disk (SPEC OFFER-011, OFFER-012): the push
 * of a directly granted lease waits for the journal sync that makes the grant durable, and the
 * reference client announces a grant whose push was lost with its connection once its next hello
 * lists the lease.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Lease, Task } from '../../protocol/model.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { WireSocket } from '../../conformance/wire.ts';
import { GATES, startOnDisk, tempDir, until } from '../helpers/coordinator.ts';
import { FaultyIo } from '../helpers/faulty-io.ts';

const PROFILE = { skills: ['docs'], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };

test('a direct grant is pushed only once its journal write is synced', async () => {
  const dir = tempDir();
  const io = new FaultyIo();
  const { coordinator, url, admin } = await startOnDisk(dir, { io });
  const { token } = await WorkerClient.register(url, { github_login: 'direct-hooked', ...PROFILE });
  const worker = new WorkerClient({ url, token, acceptOffers: 'auto', requestTimeoutMs: 60_000, retryForMs: 60_000 });
  const granted: Array<{ lease: Lease; task: Task }> = [];
  worker.on('lease.granted', (g) => {
    io.mark(`push:${g.lease.lease_id}`);
    granted.push(g);
  });
  try {
    const hello = await worker.connect();
    assert.equal(hello.worker?.accept_offers, 'auto', 'the client negotiated direct leases');
    await admin.call('repo.configure', { repo: 'direct/repo', offer_timeout_ms: 60_000, heartbeat_timeout_ms: 60_000 });
    io.hold.add('journal');
    const created = admin.call('task.create', { repo: 'direct/repo', title: 'granted under a held sync', skills: ['docs'] });
    await io.syncHeld();
    // Whatever was written so far (the task, and the grant if it shared the write), none of it is synced.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(granted.length, 0, 'no lease.granted push while the journal sync is held');
    io.release();
    const { task } = await created;
    const [g] = await until(() => (granted.length > 0 ? granted : undefined), 'the lease.granted push after the sync');
    assert.ok(g);
    assert.equal(g.task.id, task.id);
    const write = io.find((e) => e.op === 'write' && e.file === 'journal' && (e.text ?? '').includes(`"lease_id":"${g.lease.lease_id}"`));
    assert.ok(write >= 0, 'the grant was written to the journal');
    assert.match(io.log[write]?.text ?? '', /"via":"direct"/);
    const synced = io.find((e) => e.op === 'sync-done' && e.file === 'journal', write);
    const pushed = io.find((e) => e.op === 'mark' && e.text === `push:${g.lease.lease_id}`);
    assert.ok(synced > write && pushed > synced, `write ${write} < sync done ${synced} < push ${pushed}`);
    // And it is a lease like any other: reported with its gates.
    const reported = await worker.report(g.lease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/direct/repo/pull/1', gates: GATES } });
    assert.equal(reported.task.state, 'pr_opened');
  } finally {
    io.release();
    worker.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a grant made while the client was disconnected is announced after its reconnect, from the hello\'s leases', async () => {
  const dir = tempDir();
  const { coordinator, url, admin } = await startOnDisk(dir);
  const { token } = await WorkerClient.register(url, { github_login: 'direct-reconnect', ...PROFILE });
  const worker = new WorkerClient({ url, token, acceptOffers: 'auto' });
  const granted: Array<{ lease: Lease; task: Task }> = [];
  worker.on('lease.granted', (g) => granted.push(g));
  // A second connection of the same worker keeps it online while the client's own is down, so the
  // grant happens and its push reaches only that other socket.
  const other = await WireSocket.open(url, token);
  try {
    await worker.connect();
    const hello = await other.hello({ profile: { accept_offers: 'auto' } });
    assert.ok(hello.ok);
    await admin.call('repo.configure', { repo: 'direct/reconnect', heartbeat_timeout_ms: 60_000 });
    worker.socket.disconnect();
    const { task } = await admin.call('task.create', { repo: 'direct/reconnect', title: 'granted while away', skills: ['docs'] });
    await other.waitFor('lease.granted', (p) => (p.task as Task).id === task.id);
    assert.equal(granted.length, 0, 'the client was away when it was pushed');
    worker.socket.connect();
    const [g] = await until(() => (granted.length > 0 ? granted : undefined), 'the grant announced after the reconnect');
    assert.ok(g);
    assert.equal(g.task.id, task.id);
    assert.equal(g.lease.task_id, task.id);
    assert.ok(worker.leases.has(g.lease.lease_id), 'the client holds (and heartbeats) the lease');
  } finally {
    other.close();
    worker.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
