import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { nextOffer, startPool, until } from '../helpers/coordinator.ts';
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

test('a worker paused (SIGSTOP) past its deadline, then resumed: its report under the stale lease is refused', async () => {
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
    assert.match(report, /^REPORT (LEASE_EXPIRED|STALE_EPOCH)$/);
    const { task } = await pool.admin.call('task.get', { task_id: taskId });
    assert.equal(task.state, 'leased');
    assert.equal(task.lease?.worker_id, rescuer.worker!.id, 'the new holder keeps the task');
    w.child.kill('SIGKILL');
  } finally {
    await pool.close();
  }
});

test('duplicated and reordered messages: a request sent twice takes effect once; an old epoch after a new lease is refused', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r', { max_attempts: 10 });
    await pool.task('o/r');
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
    const next = await nextOffer(w, 60_000).catch(() => undefined);
    if (next) {
      const second = await w.accept(next.offer_id);
      await assert.rejects(w.request('lease.heartbeat', { lease_id: second.lease.lease_id, epoch: a.lease.epoch }), { code: 'STALE_EPOCH' });
    }
  } finally {
    await pool.close();
  }
});
