/**
 * The dashboard's client-side model, checked against the coordinator itself: the events a real
 * engine writes are folded by the model, and the model's picture (task states, leases, budgets,
 * locks) must match what the coordinator reports.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '../../protocol/model.ts';
import type { JournalEvent, JournalEventDraft } from '../../protocol/journal-events.ts';
import { DashboardModel, describeEvent } from '../../media/dashboard/model.ts';
import { MetricsHistory } from '../../media/dashboard/metrics-history.ts';
import { GATES, nextOffer, startPool, until, type TestPool } from '../helpers/coordinator.ts';

async function journal(pool: TestPool, after = 0): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await pool.admin.call('journal.read', { after_seq: cursor, limit: 1000 });
    if (page.events.length === 0) return out;
    out.push(...page.events);
    cursor = (page.events.at(-1) as JournalEvent).seq;
  }
}

async function serverPicture(pool: TestPool): Promise<{ tasks: Map<string, Task>; budgets: Map<string, unknown>; locks: Map<string, Record<string, string>> }> {
  const { tasks } = await pool.admin.call('task.list', { limit: 1000 });
  const { repos } = await pool.admin.call('repo.list', {});
  return {
    tasks: new Map(tasks.map((t) => [t.id, t])),
    budgets: new Map(repos.map((r) => [r.settings.repo, r.budget])),
    locks: new Map(repos.map((r) => [r.settings.repo, r.locks])),
  };
}

function assertSamePicture(model: DashboardModel, server: Awaited<ReturnType<typeof serverPicture>>): void {
  assert.deepEqual([...model.tasks.keys()].sort(), [...server.tasks.keys()].sort());
  for (const [id, t] of server.tasks) {
    const mine = model.tasks.get(id) as Task;
    assert.equal(mine.state, t.state, `${id} state`);
    assert.equal(mine.attempts, t.attempts, `${id} attempts`);
    assert.equal(mine.lease?.lease_id, t.lease?.lease_id, `${id} lease`);
    assert.equal(mine.offer?.offer_id, t.offer?.offer_id, `${id} offer`);
  }
  for (const [repo, budget] of server.budgets) assert.deepEqual(model.repos.get(repo)?.budget, budget, `${repo} budget`);
  for (const [repo, locks] of server.locks) {
    const mine = Object.fromEntries((model.locksByRepo().get(repo) ?? []).map((l) => [l.area, l.task_id]));
    assert.deepEqual(mine, locks, `${repo} locks`);
  }
}

describe('dashboard model', () => {
  test('folding the real journal from an empty start reproduces the coordinator\'s tasks, budgets and locks', async () => {
    const pool = await startPool();
    try {
      await pool.repo('acme/site', { max_open_prs: 2, max_attempts: 2, heartbeat_timeout_ms: 1000 });
      const a = await pool.task('acme/site', { title: 'docs', area: 'docs', skills: ['docs'] });
      await pool.task('acme/site', { title: 'more docs', area: 'docs', skills: ['docs'] });
      await pool.task('acme/site', { title: 'tests', area: 'tests', skills: ['docs'] });
      const w = await pool.join({ skills: ['docs'], capacity: 1 }, { autoHeartbeat: false });
      const offer = await nextOffer(w);
      const { lease } = await w.accept(offer.offer_id);
      // Let the lease expire (no heartbeats), then work the next offer through to a merged PR.
      await until(async () => (await pool.admin.call('task.get', { task_id: offer.task_id })).task.attempts === 1, 'lease expired');
      const again = await until(() => [...w.offers.values()][0], 'offered again', 5000);
      const second = await w.accept(again.offer_id);
      await w.report(second.lease.lease_id, { state: 'in_progress' });
      await w.report(second.lease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/acme/site/pull/1', gates: GATES } });
      await pool.admin.call('task.complete', { task_id: again.task_id, outcome: 'merged' });
      assert.notEqual(lease.lease_id, second.lease.lease_id);

      const model = new DashboardModel();
      const { repos } = await pool.admin.call('repo.list', {});
      // Settings only: the budget must come from folding.
      model.loadRepos(repos.map((r) => ({ ...r, budget: { ...r.budget, open_prs: 0, live_leases: 0, open_offers: 0, prs_last_hour: 0 } })));
      model.applyEvents(await journal(pool));
      const picture = await serverPicture(pool);
      assertSamePicture(model, picture);
      assert.ok(model.tasks.has(a));
      assert.ok(model.feed.some((e) => e.type === 'lease.expired' && /requeued/.test(e.text)));
    } finally {
      await pool.close();
    }
  });

  test('events already in the HTTP load fold again harmlessly, and seq at or below the last seen is ignored', async () => {
    const pool = await startPool();
    try {
      await pool.repo('acme/site');
      await pool.task('acme/site', { title: 'one', skills: ['docs'] });
      const w = await pool.join({ skills: ['docs'] });
      const offer = await nextOffer(w);
      const before = await journal(pool);
      const baseSeq = (before.at(-1) as JournalEvent).seq;
      await w.accept(offer.offer_id);

      // The load reads journal_seq first, then the state, which already includes the lease.
      const model = new DashboardModel();
      model.setBaseSeq(baseSeq - 3);
      const { repos } = await pool.admin.call('repo.list', {});
      model.loadRepos(repos);
      model.loadTasks((await pool.admin.call('task.list', {})).tasks);
      const all = await journal(pool);
      model.applyEvents(all.filter((e) => e.seq > baseSeq - 3));
      assertSamePicture(model, await serverPicture(pool));

      // Replaying everything again (a reconnect that resumed too early) changes nothing.
      const version = model.version;
      const seq = model.seq;
      assert.equal(model.applyEvents(all), true, 'history fills the feed');
      assert.equal(model.seq, seq);
      const feedLength = model.feed.length;
      model.applyEvents(all);
      assert.equal(model.feed.length, feedLength, 'no duplicate feed entries');
      assert.ok(model.version >= version);
      assertSamePicture(model, await serverPicture(pool));
    } finally {
      await pool.close();
    }
  });

  test('memory stays bounded: the feed is capped, finished tasks are dropped, archived tasks leave', () => {
    const model = new DashboardModel({ feed: 50, finishedTasks: 10, attributions: 20 });
    model.loadRepos([{ settings: { repo: 'a/b', max_open_prs: 5, max_new_prs_per_hour: 2, heartbeat_timeout_ms: 30_000, lease_max_duration_ms: 7_200_000, offer_timeout_ms: 30_000, max_attempts: 3, required_gates: ['tests'], paused: false }, budget: { open_prs: 0, live_leases: 0, open_offers: 0, max_open_prs: 5, prs_last_hour: 0, max_new_prs_per_hour: 2, throttled: false }, locks: {} }]);
    let seq = 0;
    const ev = (draft: JournalEventDraft): JournalEvent => ({ ...draft, seq: ++seq, at: 1_000 + seq });
    for (let i = 1; i <= 500; i += 1) {
      const id = `T-${i}`;
      const task: Task = { id, repo: 'a/b', title: `t${i}`, body: '', tier: 0, effort: 1, skills: [], priority: 0, acceptance: [], state: 'ready', attempts: 0, epoch: 0, created_at: seq, updated_at: seq };
      model.applyEvents([
        ev({ type: 'task.created', repo: 'a/b', task_id: id, data: { task } }),
        ev({ type: 'offer.created', repo: 'a/b', task_id: id, worker_id: 'W-1', data: { offer_id: `O-${i}`, deadline_at: 99_999 } }),
        ev({ type: 'lease.granted', repo: 'a/b', task_id: id, worker_id: 'W-1', data: { lease_id: `L-${i}`, epoch: 1, expires_at: 99_999, max_deadline_at: 999_999, via: 'offer' } }),
        ev({ type: 'pr.opened', repo: 'a/b', task_id: id, worker_id: 'W-1', data: { lease_id: `L-${i}`, pr: { url: 'https://x.test/1', gates: [] } } }),
        ev({ type: 'task.merged', repo: 'a/b', task_id: id, data: { by: 'maintainer', outcome: 'merged' } }),
        ...(i % 2 === 0 ? [ev({ type: 'task.archived', repo: 'a/b', task_id: id, data: { task } })] : []),
      ]);
    }
    assert.ok(model.feed.length <= 50, `feed ${model.feed.length}`);
    assert.ok(model.tasks.size <= 10, `tasks ${model.tasks.size}`);
    assert.equal(model.feed.at(-1)?.seq, seq, 'the newest events are kept');
    assert.deepEqual(model.feed.map((e) => e.seq), [...model.feed.map((e) => e.seq)].sort((x, y) => x - y));
  });

  test('a budget turns throttled from leases and offers, as the coordinator counts it', () => {
    const model = new DashboardModel();
    const settings = { repo: 'a/b', max_open_prs: 2, max_new_prs_per_hour: 5, heartbeat_timeout_ms: 30_000, lease_max_duration_ms: 7_200_000, offer_timeout_ms: 30_000, max_attempts: 3, required_gates: ['tests'], paused: false };
    model.loadRepos([{ settings, budget: { open_prs: 0, live_leases: 0, open_offers: 0, max_open_prs: 2, prs_last_hour: 0, max_new_prs_per_hour: 5, throttled: false }, locks: {} }]);
    const base = { repo: 'a/b', body: '', tier: 0, effort: 1, skills: [], priority: 0, acceptance: [], attempts: 0, epoch: 0, created_at: 1, updated_at: 1 };
    model.loadTasks([
      { ...base, id: 'T-1', title: '<b>bold</b>', state: 'offered', offer: { offer_id: 'O-1', worker_id: 'W-1', deadline_at: 5 } },
      { ...base, id: 'T-2', title: 'two', state: 'ready' },
    ]);
    assert.equal(model.repos.get('a/b')?.budget.throttled, false);
    model.applyEvents([{ seq: 1, at: Date.now(), type: 'offer.created', repo: 'a/b', task_id: 'T-2', worker_id: 'W-2', data: { offer_id: 'O-2', deadline_at: 5 } }]);
    assert.equal(model.repos.get('a/b')?.budget.throttled, true);
    assert.equal(model.repos.get('a/b')?.budget.open_offers, 2);
    model.applyEvents([{ seq: 2, at: Date.now(), type: 'offer.expired', repo: 'a/b', task_id: 'T-2', worker_id: 'W-2', data: { offer_id: 'O-2', reason: 'offer deadline passed', to: 'ready' } }]);
    assert.equal(model.repos.get('a/b')?.budget.throttled, false);
    const hostile: Task = { ...base, id: 'T-9', title: '<img src=x>', state: 'ready' };
    assert.equal(describeEvent({ seq: 3, at: 0, type: 'task.created', repo: 'a/b', task_id: 'T-9', data: { task: hostile } }), 'T-9 created: <img src=x>');
  });

  test('the leaderboard lists only workers that opted in with x_leaderboard: true', () => {
    const model = new DashboardModel();
    const worker = (id: string, login: string, optIn: boolean) => ({ id, github_login: login, skills: [], capacity: 1, tools: [], capabilities: { can_run_tests: true, can_open_prs: true }, trust: 0, online: true, capacity_used: 0, registered_at: 0, ...(optIn ? { x_leaderboard: true } : {}) });
    model.loadWorkers([worker('W-1', 'ada', true), worker('W-2', 'bob', false), worker('W-3', 'cy', true)]);
    const pr = { url: 'https://x.test/pr', gates: [] };
    model.applyEvents([
      { seq: 1, at: 0, type: 'pr.opened', repo: 'a/b', task_id: 'T-1', worker_id: 'W-1', data: { lease_id: 'L-1', pr } },
      { seq: 2, at: 0, type: 'pr.opened', repo: 'a/b', task_id: 'T-2', worker_id: 'W-2', data: { lease_id: 'L-2', pr } },
      { seq: 3, at: 0, type: 'pr.opened', repo: 'a/b', task_id: 'T-3', worker_id: 'W-3', data: { lease_id: 'L-3', pr } },
      { seq: 4, at: 0, type: 'task.merged', repo: 'a/b', task_id: 'T-3', data: { by: 'maintainer', outcome: 'merged' } },
    ]);
    assert.deepEqual(model.leaderboard().map((r) => [r.login, r.prs_merged, r.prs_opened]), [['cy', 1, 1], ['ada', 0, 1]]);
  });

  test('the adaptive budget\'s moves fold into the repo\'s budget and its history; contributors are counted against their caps as the coordinator counts them', async () => {
    const pool = await startPool();
    try {
      await pool.repo('acme/adapt', { max_open_prs: 3, max_new_prs_per_hour: 50, policy: { budget: { adaptive: { floor: 1, ceiling: 6, target_review_hours: 1 } }, contributor_cap: { base: 3, per_merge: 1 } } });
      const ada = await pool.join({ github_login: 'ada', capacity: 3 });
      const prOf = async (n: number): Promise<string> => {
        const offer = await nextOffer(ada);
        const { lease } = await ada.accept(offer.offer_id);
        await ada.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/acme/adapt/pull/${n}`, gates: GATES } });
        return offer.task_id;
      };
      await pool.task('acme/adapt', { title: 'one' });
      await pool.admin.call('task.complete', { task_id: await prOf(1), outcome: 'merged' });
      await pool.task('acme/adapt', { title: 'two' });
      await pool.admin.call('task.complete', { task_id: await prOf(2), outcome: 'closed' });
      await pool.task('acme/adapt', { title: 'three' });
      await prOf(3);
      await pool.task('acme/adapt', { title: 'four' });
      await nextOffer(ada);

      const model = new DashboardModel();
      const { repos } = await pool.admin.call('repo.list', {});
      model.loadRepos(repos.map((r) => ({ ...r, budget: { ...r.budget, open_prs: 0, live_leases: 0, open_offers: 0, prs_last_hour: 0 } })));
      model.loadWorkers((await pool.admin.call('worker.list', {})).workers);
      model.applyEvents(await journal(pool));
      assertSamePicture(model, await serverPicture(pool));
      assert.deepEqual(model.budgetHistory.get('acme/adapt')?.map((m) => [m.from, m.to]), [[3, 4], [4, 2]]);
      assert.equal(model.repos.get('acme/adapt')?.settings.max_open_prs, 2);
      assert.deepEqual(model.repos.get('acme/adapt')?.budget.adaptive, { floor: 1, ceiling: 6 });
      assert.ok(model.feed.some((e) => e.type === 'budget.adapted' && /review budget 4 → 2: PR closed unmerged/.test(e.text)));
      // The same figures the coordinator's contributor_cap rule reads.
      const explained = await pool.admin.call('task.explain', { task_id: (await pool.admin.call('task.list', { state: 'offered' })).tasks[0]?.id ?? '', worker_id: ada.worker?.id ?? '' });
      const verdict = explained.policy?.find((v) => v.rule === 'contributor_cap');
      assert.match(verdict?.message ?? '', /holds 1 of their cap 4/);
      // The Policy panel draws policy.standings: the coordinator's own count, the one the rule reads.
      const { standings } = await pool.admin.call('policy.standings', { repo: 'acme/adapt' });
      assert.deepEqual(standings.map((r) => ({ login: r.login, in_use: r.in_use, cap: r.cap, open_prs: r.open_prs, open_offers: r.open_offers, merged: r.merged_prs, reason: r.cap_reason })), [
        { login: 'ada', in_use: 2, cap: 4, open_prs: 1, open_offers: 1, merged: 1, reason: 'base 3 + 1 × 1 merged PR = 4' },
      ]);
    } finally {
      await pool.close();
    }
  });

  test('the Policy panel\'s contributors: the coordinator\'s list, a vouch or denouncement shown as its event arrives, replayed history not folded again', async () => {
    const pool = await startPool('memory');
    try {
      await pool.repo('acme/site', { max_open_prs: 3, policy: { contributor_cap: { base: 2 } } });
      const ada = await pool.join({ github_login: 'ada' });
      await pool.task('acme/site', { title: 'one' });
      await nextOffer(ada);
      const model = new DashboardModel();
      const { repos } = await pool.admin.call('repo.list', {});
      model.loadRepos(repos);
      const metrics = await pool.admin.call('metrics.get', {});
      model.setBaseSeq(metrics.journal_seq);
      model.loadStandings('acme/site', (await pool.admin.call('policy.standings', { repo: 'acme/site' })).standings);
      assert.deepEqual(model.standings.get('acme/site')?.map((r) => [r.login, r.in_use, r.cap, r.status]), [['ada', 1, 2, undefined]]);
      await pool.admin.call('contributor.denounce', { repo: 'acme/site', login: 'ADA', reason: 'floods PRs' });
      await pool.admin.call('contributor.vouch', { repo: 'acme/site', login: 'bob' });
      model.applyEvents(await journal(pool, metrics.journal_seq));
      // Shown at once, on the row of the same login (without case); counts wait for the next read.
      assert.deepEqual(model.standings.get('acme/site')?.map((r) => [r.login, r.status, r.status_reason]), [['ada', 'denounced', 'floods PRs'], ['bob', 'vouched', undefined]]);
      // Events at or below the loaded state do not fold again (a replay of history for the feed).
      model.applyEvents(await journal(pool));
      assert.equal(model.standings.get('acme/site')?.length, 2);
    } finally {
      await pool.close();
    }
  });

  test('metrics history is a fixed-size ring', () => {
    const history = new MetricsHistory(5);
    const m = { tasks_by_state: {}, workers_online: 0, workers_registered: 0, utilization: 0.5, lead_time_ms_median: 120_000, lead_time_ms_p90: null, requeue_rate: 0.1, pr_acceptance_rate: null, leases_granted: 0, requeues: 0, prs_opened: 0, prs_merged: 0, prs_closed: 0, journal_seq: 0 };
    for (let i = 0; i < 20; i += 1) history.add(i * 5000, m);
    assert.equal(history.length, 5);
    assert.deepEqual(history.view().times, [75, 80, 85, 90, 95]);
    assert.deepEqual(history.view().leadTimeMinutes, [2, 2, 2, 2, 2]);
  });
});
