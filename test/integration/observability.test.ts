import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer, startPool } from '../helpers/coordinator.ts';

test('metrics, Prometheus text, health and explain describe the pool', async () => {
  const pool = await startPool();
  try {
    await pool.repo('o/r', { max_open_prs: 1 });
    const done = await pool.task('o/r', { area: 'docs' });
    const waiting = await pool.task('o/r', { area: 'docs' });
    const rust = await pool.task('o/r', { area: 'native', skills: ['rust'] });
    const w = await pool.join({ capacity: 2 });
    const { lease } = await w.accept((await nextOffer(w)).offer_id);
    assert.equal(lease.task_id, done);
    await w.report(lease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/o/r/pull/1', gates: GATES } });
    await pool.admin.call('task.complete', { task_id: done, outcome: 'merged' });

    const m = await pool.admin.call('metrics.get', {});
    assert.equal(m.prs_opened, 1);
    assert.equal(m.prs_merged, 1);
    assert.equal(m.pr_acceptance_rate, 1);
    assert.equal(m.leases_granted, 1);
    assert.ok(m.lead_time_ms_median !== null && m.lead_time_ms_median >= 0);

    const text = await (await fetch(`${pool.url}/metrics`, { headers: { authorization: `Bearer ${pool.adminToken}` } })).text();
    assert.match(text, /^# TYPE owp_tasks gauge$/m);
    assert.match(text, /^owp_prs_merged_total 1$/m);
    assert.match(text, /^owp_repo_max_open_prs\{repo="o\/r"\} 1$/m);
    const health = (await (await fetch(`${pool.url}/healthz`)).json()) as { ok: boolean };
    assert.equal(health.ok, true);

    const why = await pool.admin.call('task.explain', { task_id: rust });
    assert.equal(why.offerable, false);
    assert.ok(why.reasons.some((r) => r.message === 'no worker with skill rust'), JSON.stringify(why.reasons));
    const state = await pool.admin.call('task.get', { task_id: waiting });
    assert.ok(['offered', 'ready'].includes(state.task.state));
  } finally {
    await pool.close();
  }
});

test('finished tasks are archived out of the live state and stay readable', async () => {
  const pool = await startPool('lowdb', { archiveAfterMs: 0 });
  try {
    await pool.repo('o/r');
    const id = await pool.task('o/r', { title: 'short-lived' });
    await pool.admin.call('task.cancel', { task_id: id, reason: 'duplicate' });
    await pool.coordinator.runtime.sweep();
    await pool.coordinator.runtime.whenIdle();
    assert.equal(pool.coordinator.runtime.engine.state.tasks.has(id), false, 'archived out of the live state');
    const { task } = await pool.admin.call('task.get', { task_id: id });
    assert.equal(task.state, 'closed');
    assert.equal(task.closed_reason, 'duplicate');
    await pool.restart();
    const again = await pool.admin.call('task.get', { task_id: id });
    assert.equal(again.task.title, 'short-lived', 'still readable after a restart');
  } finally {
    await pool.close();
  }
});
