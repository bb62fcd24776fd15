/**
 * The dashboard's live feed over a real socket.io connection: deltas from the journal, resumed
 * from the last seen seq after the server hangs up and after a coordinator restart, with no
 * event lost or folded twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveJournal, type LiveState } from '../../media/dashboard/live.ts';
import { DashboardModel } from '../../media/dashboard/model.ts';
import { startPool, until, type TestPool } from '../helpers/coordinator.ts';

async function load(pool: TestPool, model: DashboardModel): Promise<void> {
  const metrics = await pool.admin.call('metrics.get', {});
  model.setBaseSeq(metrics.journal_seq);
  model.loadRepos((await pool.admin.call('repo.list', {})).repos);
  model.loadTasks((await pool.admin.call('task.list', { limit: 1000 })).tasks);
}

test('live journal: deltas arrive in order and resume from the last seen seq after a hang-up and a restart', async () => {
  const pool = await startPool('lowdb');
  const model = new DashboardModel();
  const states: LiveState[] = [];
  let live: LiveJournal | undefined;
  try {
    await pool.repo('acme/site');
    await pool.task('acme/site', { title: 'before the page opened' });
    await load(pool, model);
    const connect = (): LiveJournal =>
      new LiveJournal(pool.url, pool.adminToken, {
        lastSeq: () => model.seq,
        onEvents: (events) => model.applyEvents(events),
        onState: (state) => states.push(state),
      });
    live = connect();
    await until(() => states.includes('live'), 'live');

    const ids: string[] = [];
    ids.push(await pool.task('acme/site', { title: 'while live' }));
    await until(() => ids.every((id) => model.tasks.has(id)), 'live delta');

    // The server hangs up; tasks created meanwhile arrive through the catch-up after the reconnect.
    pool.coordinator.io.disconnectSockets(true);
    await until(() => states.at(-1) === 'reconnecting', 'noticed the hang-up');
    for (let i = 0; i < 5; i += 1) ids.push(await pool.task('acme/site', { title: `during the gap ${i}` }));
    await until(() => ids.every((id) => model.tasks.has(id)), 'caught up after the hang-up', 10_000);

    // The coordinator restarts on the same store and port; socket.io reconnects by itself.
    await pool.restart();
    ids.push(await pool.task('acme/site', { title: 'after the restart' }));
    await until(() => ids.every((id) => model.tasks.has(id)), 'caught up after the restart', 15_000);

    const { events } = await pool.admin.call('journal.read', { after_seq: 0, limit: 1000 });
    const seqs = model.feed.map((e) => e.seq);
    assert.deepEqual(seqs, [...new Set(seqs)], 'no event twice');
    const newest = events.at(-1)?.seq ?? 0;
    await until(() => model.seq === newest, 'folded to the journal end');
    // Every event after the page opened is in the feed, in order.
    const expected = events.filter((e) => e.seq > (model.feed[0]?.seq ?? 0) - 1).map((e) => e.seq);
    assert.deepEqual(model.feed.map((e) => e.seq), expected);
    const { tasks } = await pool.admin.call('task.list', { limit: 1000 });
    assert.deepEqual([...model.tasks.keys()].sort(), tasks.map((t) => t.id).sort());
  } finally {
    live?.close();
    await pool.close();
  }
});
