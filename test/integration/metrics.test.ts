/**
 * /metrics as Prometheus scrapes it: histograms in seconds for operations (by operation and
 * outcome), journal commits, offer latency and lease lateness; `_total` counters; the process
 * series; and the per-repo budget series only for scrapers allowed to see repo names.
 * Time is a manual clock, so the latencies the journal yields are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../coordinator/clock.ts';
import { GATES, nextOffer, startPool, until } from '../helpers/coordinator.ts';
import { formatBudget } from '../../protocol/vocabulary.ts';

/** The samples of one series in a scrape, as `{labels} value` text per line. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) out.set(match[1] ?? '', Number(match[2]));
  }
  return out;
}

async function scrape(url: string, token?: string): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

test('operation, commit, offer and lease-expiry histograms in seconds, with the process series', async () => {
  const clock = new ManualClock();
  const pool = await startPool('lowdb', { clock, timers: false });
  try {
    await pool.repo('o/r', { heartbeat_timeout_ms: 30_000 });
    const taskId = await pool.task('o/r');
    const missing = await pool.admin.callRaw('task.get', { task_id: 'T-999' });
    assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
    // The task waits 1.5 s for a worker to join: that is its offer latency.
    clock.advance(1500);
    const w = await pool.join({}, { autoHeartbeat: false });
    const offer = await nextOffer(w);
    assert.equal(offer.task_id, taskId);
    await w.accept(offer.offer_id);
    // The worker goes away (so the requeued task is not offered again); the lease's deadline
    // passes, and the sweep finds it 700 ms late.
    w.close();
    await until(async () => (await pool.admin.call('worker.list', {})).workers.every((x) => !x.online), 'the worker offline');
    clock.advance(30_000 + 700);
    await pool.coordinator.runtime.sweep();
    await pool.coordinator.runtime.whenIdle();
    // Requeued, it waits 2 s for the next worker: a second offer latency, counted from the requeue.
    clock.advance(2000);
    const next = await pool.join({}, { autoHeartbeat: false });
    assert.equal((await nextOffer(next)).task_id, taskId);
    // session.hello can list an offer whose event is still being written; the metrics follow the journal.
    await pool.coordinator.runtime.whenIdle();

    const { status, text, type } = await scrape(pool.url);
    assert.equal(status, 200);
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    assert.match(text, /^# TYPE owp_operation_duration_seconds histogram$/m);
    const ops = samples(text, 'owp_operation_duration_seconds_count');
    assert.ok((ops.get('{operation="task.create",outcome="ok"}') ?? 0) >= 1, [...ops.keys()].join('\n'));
    assert.equal(ops.get('{operation="task.get",outcome="NOT_FOUND"}'), 1);
    assert.ok((ops.get('{operation="offer.accept",outcome="ok"}') ?? 0) >= 1);

    const commits = samples(text, 'owp_journal_commit_duration_seconds_count');
    assert.ok((commits.get('{outcome="ok"}') ?? 0) >= 3, 'each group commit (write + fsync) is timed');

    assert.equal(samples(text, 'owp_offer_latency_seconds_count').get(''), 2);
    assert.equal(samples(text, 'owp_offer_latency_seconds_sum').get(''), 3.5);
    assert.equal(samples(text, 'owp_offer_latency_seconds_bucket').get('{le="1"}'), 0);
    assert.equal(samples(text, 'owp_offer_latency_seconds_bucket').get('{le="2.5"}'), 2);

    assert.equal(samples(text, 'owp_lease_expiry_lateness_seconds_count').get(''), 1);
    assert.equal(samples(text, 'owp_lease_expiry_lateness_seconds_sum').get(''), 0.7);

    assert.equal(samples(text, 'owp_leases_granted_total').get(''), 1);
    assert.equal(samples(text, 'owp_requeues_total').get(''), 1);
    assert.match(text, /^# TYPE owp_requeues_total counter$/m);
    assert.equal(samples(text, 'owp_tasks').get('{state="offered"}'), 1);
    assert.equal(samples(text, 'owp_store_degraded').get(''), 0);
    // prom-client's default process metrics.
    assert.ok(samples(text, 'process_cpu_seconds_total').has(''));
    assert.ok(samples(text, 'nodejs_eventloop_lag_seconds').has(''));
  } finally {
    await pool.close();
  }
});

test('per-repo budget series only for scrapers allowed to see repo names', async () => {
  const pool = await startPool('memory', { metricsAccess: { token: 'scrape-token-0123456789' } });
  try {
    await pool.repo('acme/private', { max_open_prs: 3 });
    await pool.repo('other/site', { max_open_prs: 7 });
    await pool.task('acme/private');

    const anonymous = await scrape(pool.url);
    assert.equal(anonymous.status, 200);
    assert.ok(!anonymous.text.includes('acme/private') && !anonymous.text.includes('other/site'), 'an anonymous scrape names no repo');
    assert.ok(samples(anonymous.text, 'owp_tasks').size > 0, 'pool-wide series are there');

    const admin = await scrape(pool.url, pool.adminToken);
    const max = samples(admin.text, 'owp_repo_max_open_prs');
    assert.equal(max.get('{repo="acme/private"}'), 3);
    assert.equal(max.get('{repo="other/site"}'), 7);
    for (const part of ['owp_repo_open_prs', 'owp_repo_live_leases', 'owp_repo_open_offers', 'owp_repo_prs_opened_last_hour', 'owp_repo_max_new_prs_per_hour', 'owp_repo_throttled']) {
      assert.ok(samples(admin.text, part).has('{repo="acme/private"}'), `${part} for acme/private`);
    }

    const { token } = await pool.admin.call('maintainer.create', { name: 'acme-only', repos: ['acme/*'] });
    const scoped = await scrape(pool.url, token);
    assert.ok(scoped.text.includes('repo="acme/private"'));
    assert.ok(!scoped.text.includes('other/site'), 'a maintainer sees only the repos it covers');

    const scraper = await scrape(pool.url, 'scrape-token-0123456789');
    assert.ok(scraper.text.includes('repo="acme/private"') && scraper.text.includes('repo="other/site"'), 'the scrape token sees every repo');

    const bad = await scrape(pool.url, 'not-a-token');
    assert.equal(bad.status, 401, 'a wrong token is refused, not served as anonymous');
  } finally {
    await pool.close();
  }
});

test('metrics.public serves the per-repo series to anonymous scrapers', async () => {
  const pool = await startPool('memory', { metricsAccess: { public: true } });
  try {
    await pool.repo('open/source', { max_open_prs: 2 });
    const { text } = await scrape(pool.url);
    assert.equal(samples(text, 'owp_repo_max_open_prs').get('{repo="open/source"}'), 2);
  } finally {
    await pool.close();
  }
});

test('/healthz is liveness, /readyz readiness; both carry the journal seq', async () => {
  const pool = await startPool();
  try {
    const health = await (await fetch(`${pool.url}/healthz`)).json() as { ok: boolean; data: { status: string } };
    assert.deepEqual([health.ok, health.data.status], [true, 'ok']);
    const ready = await fetch(`${pool.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { data: { status: string } }).data.status, 'ready');
    // A client's own request id comes back, so its logs and ours can be joined.
    const res = await fetch(`${pool.url}/v1/info`, { headers: { 'x-request-id': 'client-req-42' } });
    assert.equal(res.headers.get('x-request-id'), 'client-req-42');
    const fresh = await fetch(`${pool.url}/v1/info`, { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    // Once a stop begins, a load balancer must stop sending work here, while the process is alive.
    pool.coordinator.runtime.beginShutdown();
    assert.equal((await fetch(`${pool.url}/readyz`)).status, 503);
    assert.equal((await fetch(`${pool.url}/healthz`)).status, 200);
  } finally {
    await pool.close();
  }
});

test('the budget series are the parts and sums every surface words: reserved, this hour, and when the next hourly slot opens', async () => {
  const clock = new ManualClock();
  const pool = await startPool('memory', { clock, timers: false });
  try {
    await pool.repo('o/r', { max_open_prs: 5, max_new_prs_per_hour: 3 });
    const w = await pool.join({ capacity: 3 });
    // One PR opened (at t0), one live lease, one open offer.
    await pool.task('o/r');
    const first = await nextOffer(w);
    const { lease } = await w.accept(first.offer_id);
    const openedAt = clock.now();
    await w.report(lease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/o/r/pull/1', gates: GATES } });
    clock.advance(10 * 60_000);
    await pool.task('o/r');
    await w.accept((await nextOffer(w)).offer_id);
    await pool.task('o/r');
    await nextOffer(w);
    const { budget } = await pool.admin.call('repo.get', { repo: 'o/r' });
    assert.deepEqual([budget.open_prs, budget.live_leases, budget.open_offers, budget.prs_last_hour], [1, 1, 1, 1]);
    assert.equal(budget.next_hourly_slot_at, openedAt + 3_600_000);
    assert.equal(formatBudget(budget, clock.now()), 'reserved 3/5: 1 PR · 1 lease · 1 offer · this hour 3/3: 1 PR opened · 1 lease · 1 offer · next hourly slot opens in 50 min');

    const { text } = await scrape(pool.url, pool.adminToken);
    const one = (name: string): number | undefined => samples(text, name).get('{repo="o/r"}');
    assert.equal(one('owp_repo_open_offers'), 1);
    assert.equal(one('owp_repo_budget_reserved'), 3);
    assert.equal(one('owp_repo_budget_hourly_reserved'), 3);
    assert.equal(one('owp_repo_next_hourly_slot_timestamp_seconds'), (openedAt + 3_600_000) / 1000);
  } finally {
    await pool.close();
  }
});
