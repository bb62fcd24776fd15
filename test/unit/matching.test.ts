import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHarness } from '../helpers/engine.ts';

test('a task is offered only to a worker whose skills cover it', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  const rust = h.task('o/r', { skills: ['rust'] });
  const docsOnly = h.worker({ skills: ['docs'] });
  h.settle();
  assert.equal(h.offerOf(docsOnly), undefined);
  const rustacean = h.worker({ skills: ['rust', 'docs'] });
  h.settle();
  assert.equal(h.offerOf(rustacean)?.task_id, rust);
});

test('a task is offered only to a worker with enough free capacity points', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_open_prs: 10, max_new_prs_per_hour: 10 });
  const big = h.task('o/r', { effort: 5 });
  const small = h.worker({ capacity: 2 });
  h.settle();
  assert.equal(h.offerOf(small), undefined, 'a 2-point worker gets no 5-point task');
  const roomy = h.worker({ capacity: 8 });
  h.settle();
  assert.equal(h.offerOf(roomy)?.task_id, big);
  // With the big task leased, its holder has 3 points left: a second 5-point task does not fit.
  h.ok(roomy, 'offer.accept', { offer_id: h.offerOf(roomy)?.offer_id });
  const second = h.task('o/r', { effort: 5 });
  h.settle();
  assert.equal(h.state(second), 'ready');
  const fits = h.task('o/r', { effort: 3 });
  h.settle();
  assert.equal(h.offerOf(roomy)?.task_id, fits);
});

test('a task of tier N is offered only to a worker with trust ≥ N', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  const risky = h.task('o/r', { tier: 2 });
  const newcomer = h.worker({}, 0);
  const trusted = h.worker({}, 2);
  h.settle();
  assert.equal(h.offerOf(newcomer), undefined);
  assert.equal(h.offerOf(trusted)?.task_id, risky);
});

test('a direct claim passes the same checks and says every reason it fails', () => {
  const h = new EngineHarness();
  h.repo('o/r');
  const t = h.task('o/r', { skills: ['rust'], tier: 1, effort: 5 });
  const w = h.worker({ skills: ['docs'], capacity: 2 });
  const outcome = h.run(w, 'task.claim', { task_id: t });
  assert.equal(outcome.error?.code, 'NOT_ELIGIBLE');
  const codes = (outcome.error?.details?.reasons as Array<{ code: string }>).map((r) => r.code).sort();
  assert.deepEqual(codes, ['capacity', 'skills', 'trust']);
});

test('offers go by priority, then age', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_open_prs: 10, max_new_prs_per_hour: 10 });
  const old = h.task('o/r', { title: 'old' });
  h.clock.advance(1000);
  const urgent = h.task('o/r', { title: 'urgent', priority: 5 });
  h.clock.advance(1000);
  h.task('o/r', { title: 'new' });
  const a = h.worker();
  h.settle();
  assert.equal(h.offerOf(a)?.task_id, urgent);
  const b = h.worker();
  h.settle();
  assert.equal(h.offerOf(b)?.task_id, old);
});

test('scheduling many tasks that no idle worker can take still offers the one that fits, in order', () => {
  const h = new EngineHarness();
  h.repo('o/r', { max_open_prs: 100, max_new_prs_per_hour: 100 });
  for (let i = 0; i < 500; i += 1) h.task('o/r', { skills: ['rust'], area: `native${i % 7}` });
  const docs = h.task('o/r', { skills: ['docs'] });
  const later = h.task('o/r', { skills: ['docs'] });
  const workers = Array.from({ length: 50 }, () => h.worker({ skills: ['docs'], capacity: 1 }));
  h.settle();
  const offered = workers.map((w) => h.offerOf(w)?.task_id).filter(Boolean).sort();
  assert.deepEqual(offered, [docs, later].sort(), 'the two docs tasks are offered despite 500 untakeable ones ahead of them');
});

test('a worker that declared its repos is offered only their tasks; a hello that changes them withdraws an offer it no longer qualifies for', () => {
  const h = new EngineHarness();
  h.repo('octo-org/site');
  h.repo('octo-org/hello-owp');
  const site = h.task('octo-org/site', { priority: 10 });
  const hello = h.task('octo-org/hello-owp');
  const cli = h.worker({ repos: ['Octo-Org/Hello-OWP'] });
  h.settle();
  assert.equal(h.offerOf(cli)?.task_id, hello, 'the higher-priority task of another repo is not offered; names compare case-insensitively');
  assert.equal(h.state(site), 'ready');
  assert.equal(h.refused(cli, 'task.claim', { task_id: site }), 'NOT_ELIGIBLE');
  const explained = h.ok(h.admin, 'task.explain', { task_id: site });
  assert.match(JSON.stringify(explained.reasons), /no worker works on octo-org\/site/);
  // The same identity run from a clone of the other repo says so in its hello: the open offer goes.
  h.engine.applyProfile(cli.id, { repos: ['octo-org/site'] });
  h.settle();
  assert.equal(h.offerOf(cli)?.task_id, site);
  assert.equal(h.state(hello), 'ready');
  // An empty list (or none) means any repo: an editor window serves the whole pool.
  const anywhere = h.worker({ repos: [] });
  h.settle();
  assert.equal(h.offerOf(anywhere)?.task_id, hello);
});
