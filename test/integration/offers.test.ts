import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer, startPool, until } from '../helpers/coordinator.ts';

describe('offers', () => {
  test('a ready task is offered to an eligible worker, who accepts and gets a lease', async () => {
    const pool = await startPool();
    try {
      await pool.repo('acme/site');
      const taskId = await pool.task('acme/site', { skills: ['docs'], area: 'docs', effort: 1 });
      const w = await pool.join({ skills: ['docs'] });
      const offer = await nextOffer(w);
      assert.equal(offer.task_id, taskId);
      assert.ok(offer.deadline_at > Date.now());
      const { lease, task } = await w.accept(offer.offer_id);
      assert.equal(task.state, 'leased');
      assert.equal(lease.epoch, 1);
      assert.equal(lease.worker_id, w.worker?.id);
      const { task: after } = await w.report(lease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/acme/site/pull/1', gates: GATES } });
      assert.equal(after.state, 'pr_opened');
    } finally {
      await pool.close();
    }
  });

  test('an offer not accepted before its deadline moves on to another worker', async () => {
    const pool = await startPool();
    try {
      await pool.repo('acme/site', { offer_timeout_ms: 1000 });
      const taskId = await pool.task('acme/site', { skills: ['docs'] });
      const afk = await pool.join({ skills: ['docs'] });
      const first = await nextOffer(afk);
      assert.equal(first.task_id, taskId);
      const other = await pool.join({ skills: ['docs'] });
      const second = await nextOffer(other, 4000);
      assert.equal(second.task_id, taskId);
      assert.ok(second.created_at >= first.deadline_at, 'the second offer comes only after the first deadline');
      const late = await afk.request('offer.accept', { offer_id: first.offer_id }).catch((e: { code: string }) => e);
      assert.equal((late as { code: string }).code, 'OFFER_EXPIRED');
      const { journal } = { journal: await pool.admin.call('journal.read', { after_seq: 0 }) };
      assert.ok(journal.events.some((e) => e.type === 'offer.expired' && e.task_id === taskId));
    } finally {
      await pool.close();
    }
  });

  test('declining returns the task to ready, counts an attempt, and blocks after max_attempts', async () => {
    const pool = await startPool();
    try {
      await pool.repo('acme/site', { max_attempts: 2, offer_timeout_ms: 1000 });
      const taskId = await pool.task('acme/site');
      const a = await pool.join();
      const b = await pool.join();
      const o1 = await until(() => [...a.offers.values(), ...b.offers.values()][0], 'first offer');
      const holder1 = a.offers.has(o1.offer_id) ? a : b;
      const r1 = await holder1.decline(o1.offer_id, 'not my thing');
      assert.equal(r1.task.state, 'ready');
      assert.equal(r1.task.attempts, 1);
      const other = holder1 === a ? b : a;
      const o2 = await nextOffer(other);
      assert.equal(o2.task_id, taskId);
      const r2 = await other.decline(o2.offer_id);
      assert.equal(r2.task.state, 'blocked');
      const { task } = await pool.admin.call('task.unblock', { task_id: taskId });
      assert.equal(task.state, 'ready');
      assert.equal(task.attempts, 0);
    } finally {
      await pool.close();
    }
  });
});
