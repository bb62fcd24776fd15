import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { GATES, nextOffer, startPool, until } from '../helpers/coordinator.ts';
import { WorkerClient } from '../../client/worker-client.ts';

function spawnWorker(url: string, token: string): { child: ChildProcess; lines: string[]; waitFor(prefix: string, timeoutMs?: number): Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/worker-process.ts', url, token], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  return {
    child,
    lines,
    waitFor: (prefix, timeoutMs = 15_000) => until(() => lines.find((l) => l.startsWith(prefix)), `worker printed ${prefix}`, timeoutMs),
  };
}

async function register(url: string, login: string): Promise<string> {
  const { token } = await WorkerClient.register(url, { github_login: login, skills: [], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  return token;
}

test('a worker process SIGKILLed mid-task: its lease expires and the task goes to another worker', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 1500 });
    const taskId = await pool.task('o/r');
    const w = spawnWorker(pool.url, await register(pool.url, 'killed'));
    await w.waitFor('LEASED');
    const rescuer = await pool.join({ skills: [] });
    w.child.kill('SIGKILL');
    const offer = await nextOffer(rescuer, 10_000);
    assert.equal(offer.task_id, taskId);
  } finally {
    await pool.close();
  }
});

test('a worker paused (SIGSTOP) past its deadline, then resumed: its report under the lease it lost is refused (LEASE_EXPIRED)', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 1500 });
    const taskId = await pool.task('o/r');
    const w = spawnWorker(pool.url, await register(pool.url, 'paused'));
    await w.waitFor('LEASED');
    w.child.kill('SIGSTOP');
    const rescuer = await pool.join({ skills: [] });
    const offer = await nextOffer(rescuer, 10_000);
    const { lease } = await rescuer.accept(offer.offer_id);
    assert.equal(lease.epoch, 2);
    w.child.kill('SIGCONT');
    w.child.stdin?.write('report\n');
    const report = await w.waitFor('REPORT');
    // Its lease id is gone (the task was re-leased to another worker): the refusal is LEASE_EXPIRED, never success.
    assert.equal(report, 'REPORT LEASE_EXPIRED');
    const { task } = await pool.admin.call('task.get', { task_id: taskId });
    assert.equal(task.state, 'leased');
    assert.equal(task.lease?.worker_id, rescuer.worker!.id, 'the new holder keeps the task');
    assert.equal(task.lease?.epoch, 2);
    w.child.kill('SIGKILL');
  } finally {
    await pool.close();
  }
});

test('duplicated and reordered messages: a request sent twice takes effect once; an old epoch on the live lease is refused (STALE_EPOCH)', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r', { max_attempts: 10 });
    const taskId = await pool.task('o/r');
    const w = await pool.join();
    const offer = await nextOffer(w);
    const [a, b] = await Promise.all([
      w.request('offer.accept', { offer_id: offer.offer_id, idempotency_key: 'dup' }),
      w.request('offer.accept', { offer_id: offer.offer_id, idempotency_key: 'dup' }),
    ]);
    assert.deepEqual(a, b, 'the duplicate got the first answer');
    const { events } = await pool.admin.call('journal.read', { after_seq: 0 });
    assert.equal(events.filter((e) => e.type === 'lease.granted').length, 1);
    await w.request('lease.release', { lease_id: a.lease.lease_id, epoch: a.lease.epoch });
    // The same worker takes the task again: a live lease with the next epoch.
    const second = await w.request('task.claim', { task_id: taskId });
    assert.equal(second.lease.epoch, a.lease.epoch + 1);
    // Messages from the first lease arrive late, carrying its epoch, on the live lease id.
    const stale = { lease_id: second.lease.lease_id, epoch: a.lease.epoch };
    await assert.rejects(w.request('lease.heartbeat', stale), { code: 'STALE_EPOCH' });
    await assert.rejects(w.request('lease.report', { ...stale, state: 'pr_opened', pr: { url: 'https://github.com/o/r/pull/1', gates: GATES } }), { code: 'STALE_EPOCH' });
    await assert.rejects(w.request('lease.release', stale), { code: 'STALE_EPOCH' });
    const { task } = await pool.admin.call('task.get', { task_id: taskId });
    assert.equal(task.state, 'leased', 'nothing the stale messages asked for happened');
    assert.equal(task.lease?.lease_id, second.lease.lease_id);
    assert.equal(task.lease?.epoch, second.lease.epoch);
  } finally {
    await pool.close();
  }
});
