import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { GATES, nextOffer, startPool, tempDir, until } from '../helpers/coordinator.ts';
import { spawnCoordinator } from '../helpers/process.ts';
import { HttpClient } from '../../client/http-client.ts';
import { newToken } from '../../coordinator/auth.ts';

test('a restart keeps every task, lease, lock and budget unit, and the worker resumes its lease', async () => {
  const pool = await startPool('lowdb');
  try {
    await pool.repo('keep/repo', { max_open_prs: 3, heartbeat_timeout_ms: 3000 });
    const a = await pool.task('keep/repo', { area: 'docs', title: 'will be leased' });
    const b = await pool.task('keep/repo', { area: 'cli', title: 'will have a PR', x_origin: 'restart-test' } as never);
    await pool.task('keep/repo', { area: 'docs', title: 'held back by the lock' });
    const w1 = await pool.join({ capacity: 1 });
    const w2 = await pool.join({ capacity: 1 });
    const o1 = await nextOffer(w1);
    const o2 = await nextOffer(w2);
    const l1 = await w1.accept(o1.offer_id);
    const l2 = await w2.accept(o2.offer_id);
    const prHolder = l1.task.id === b ? { w: w1, l: l1 } : { w: w2, l: l2 };
    const leaseHolder = prHolder.w === w1 ? { w: w2, l: l2 } : { w: w1, l: l1 };
    await prHolder.w.report(prHolder.l.lease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/keep/repo/pull/7', gates: GATES } });
    await pool.coordinator.runtime.whenIdle();
    const before = pool.coordinator.runtime.engine.state.durableView();
    const repoBefore = await pool.admin.call('repo.get', { repo: 'keep/repo' });

    await pool.restart();

    const after = pool.coordinator.runtime.engine.state.durableView() as { seq: number };
    const beforeSeq = (before as { seq: number }).seq;
    assert.deepEqual({ ...after, seq: beforeSeq }, before, 'state after restart equals state before');
    const { events: since } = await pool.admin.call('journal.read', { after_seq: beforeSeq });
    const between = since.filter((e) => e.type !== 'worker.connected'); // clients may already be reconnecting
    assert.deepEqual([...new Set(between.map((e) => e.type))], ['worker.disconnected'], 'only the shutdown disconnects were journaled in between');
    const repoAfter = await pool.admin.call('repo.get', { repo: 'keep/repo' });
    assert.deepEqual({ ...repoAfter.budget }, { ...repoBefore.budget });
    assert.deepEqual(repoAfter.locks, repoBefore.locks);
    const { task } = await pool.admin.call('task.get', { task_id: b });
    assert.equal(task.state, 'pr_opened');
    assert.equal((task as Record<string, unknown>).x_origin, 'restart-test', 'x_* fields survive');
    // The lease holder's client reconnects on its own, says hello again and keeps heartbeating.
    await until(() => leaseHolder.w.connectionState() === 'connected' && pool.coordinator.runtime.engine.state.workers.get(leaseHolder.w.worker!.id)?.online, 'worker reconnected', 10_000);
    await new Promise((r) => setTimeout(r, 3500)); // longer than the heartbeat timeout
    const { task: stillLeased } = await pool.admin.call('task.get', { task_id: leaseHolder.l.task.id });
    assert.equal(stillLeased.state, 'leased');
    assert.ok(leaseHolder.w.leases.has(leaseHolder.l.lease.lease_id));
    assert.equal(a === leaseHolder.l.task.id || b === leaseHolder.l.task.id, true);
  } finally {
    await pool.close();
  }
});

test('SIGKILL of the coordinator process loses no acknowledged change', async () => {
  const dir = tempDir();
  const token = newToken('maintainer');
  const env = { OWP_ADMIN_TOKEN: token };
  try {
    let proc = await spawnCoordinator(['--port', '0', '--data-dir', dir], env);
    let admin = new HttpClient({ baseUrl: proc.url, token });
    await admin.call('repo.configure', { repo: 'kill/repo' });
    const acknowledged: string[] = [];
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, n) => {
      for (let i = 0; !stop; i += 1) {
        try {
          const { task } = await admin.call('task.create', { repo: 'kill/repo', title: `w${n} #${i}` });
          acknowledged.push(task.id);
        } catch {
          return; // the process is gone
        }
      }
    });
    await until(() => acknowledged.length >= 150, '150 acknowledged creates', 20_000);
    await proc.stop('SIGKILL');
    stop = true;
    await Promise.all(writers);

    proc = await spawnCoordinator(['--port', '0', '--data-dir', dir], env);
    admin = new HttpClient({ baseUrl: proc.url, token });
    const { tasks } = await admin.call('task.list', { repo: 'kill/repo', limit: 1000 });
    const present = new Set(tasks.map((t) => t.id));
    const lost = acknowledged.filter((id) => !present.has(id));
    assert.deepEqual(lost, [], 'every acknowledged task is there after the crash');
    const { events } = await admin.call('journal.read', { after_seq: 0, limit: 1000 });
    events.forEach((e, i) => assert.equal(e.seq, (events[0]?.seq ?? 1) + i, 'journal seqs are gapless'));
    await proc.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
