import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease, Offer, Task, Worker } from '../../protocol/model.ts';
import type { PoolSnapshot } from '../../extension/logic/pool-session.ts';
import { formatRemaining } from '../../extension/logic/time-format.ts';
import { freeCapacity, offerNotificationText, offersBadge, offersTree, statusBarView, taskDetailsMarkdown, taskFacts, workItems } from '../../extension/logic/view-models.ts';

const NOW = 1_700_000_000_000;

function task(id: string, fields: Partial<Task> = {}): Task {
  return {
    id,
    repo: 'acme/site',
    title: `Task ${id}`,
    body: '',
    tier: 0,
    effort: 1,
    skills: ['docs'],
    priority: 0,
    acceptance: [],
    state: 'ready',
    attempts: 0,
    epoch: 0,
    created_at: NOW - 1000,
    updated_at: NOW - 1000,
    ...fields,
  };
}

function offer(id: string, t: Task, deadlineInMs: number): Offer {
  return { offer_id: id, task_id: t.id, worker_id: 'W-1', repo: t.repo, created_at: NOW, deadline_at: NOW + deadlineInMs, task: { ...t, state: 'offered' } };
}

function lease(id: string, taskId: string, maxLeftMs: number): Lease {
  return { lease_id: id, task_id: taskId, worker_id: 'W-1', repo: 'acme/site', epoch: 1, granted_at: NOW - 5000, expires_at: NOW + 30_000, max_deadline_at: NOW + maxLeftMs, heartbeat_interval_ms: 10_000 };
}

const worker: Worker = { id: 'W-1', github_login: 'alice', skills: ['docs'], capacity: 3, tools: ['vscode'], capabilities: { can_run_tests: true, can_open_prs: true }, trust: 0, online: true, capacity_used: 0, registered_at: NOW };

function snapshot(fields: Partial<PoolSnapshot>): PoolSnapshot {
  return { state: 'connected', coordinatorUrl: 'http://127.0.0.1:8787', worker, offers: [], leases: [], tasks: new Map(), listed: [], budgets: new Map(), submitted: [], ...fields };
}

describe('extension view models', () => {
  test('countdowns read at a glance', () => {
    assert.equal(formatRemaining(27_100), '28 s');
    assert.equal(formatRemaining(4 * 60_000 + 5000), '4 min');
    assert.equal(formatRemaining(112 * 60_000), '1 h 52 min');
    assert.equal(formatRemaining(2 * 3_600_000), '2 h');
    assert.equal(formatRemaining(0), 'expired');
  });

  test('Offers & tasks groups by repo, offers first, then ready tasks by priority; held and offered tasks are not listed twice', () => {
    const a = task('T-1', { area: 'docs', effort: 2, skills: ['docs', 'ts'] });
    const b = task('T-2', { priority: 5 });
    const c = task('T-3', { repo: 'zeta/app' });
    const held = task('T-4');
    const tree = offersTree(snapshot({ offers: [offer('O-1', a, 28_000)], listed: [a, b, c, held, task('T-5', { state: 'leased' })], leases: [lease('L-1', 'T-4', 3_600_000)] }), NOW);
    assert.deepEqual(tree.map((g) => g.repo), ['acme/site', 'zeta/app']);
    const site = tree[0]!;
    assert.deepEqual(site.items.map((i) => i.id), ['offer:O-1', 'task:T-2']);
    assert.equal(site.description, '1 offer · 1 ready');
    // With the repo's budget listed, the group says it in the dashboard's words.
    const budget = { open_prs: 3, live_leases: 1, open_offers: 1, max_open_prs: 5, prs_last_hour: 1, max_new_prs_per_hour: 4, next_hourly_slot_at: NOW + 12 * 60_000, throttled: true };
    const [withBudget] = offersTree(snapshot({ offers: [offer('O-1', a, 28_000)], listed: [a, b], budgets: new Map([['acme/site', budget]]) }), NOW);
    assert.equal(withBudget!.description, '1 offer · 1 ready · reserved 5/5: 3 PRs · 1 lease · 1 offer');
    assert.equal(withBudget!.tooltip, 'acme/site review budget: reserved 5/5: 3 PRs · 1 lease · 1 offer · this hour 3/4: 1 PR opened · 1 lease · 1 offer · an hourly slot is open');
    const offerItem = site.items[0]!;
    assert.equal(offerItem.contextValue, 'offer');
    assert.equal(offerItem.offerId, 'O-1');
    assert.equal(offerItem.description, 'offer · 28 s to accept · docs · tier 0 · effort 2 · docs, ts');
    assert.equal(site.items[1]!.contextValue, 'task');
  });

  test('only tasks this worker could claim are listed: skills covered and trust at least the tier', () => {
    const fits = task('T-1', { skills: ['docs'] });
    const needsRust = task('T-2', { skills: ['rust'] });
    const tooRisky = task('T-3', { tier: 2 });
    const [group] = offersTree(snapshot({ listed: [fits, needsRust, tooRisky] }), NOW);
    assert.deepEqual(group!.items.map((i) => i.taskId), ['T-1']);
  });

  test('expired offers disappear and a window that has not joined shows nothing (the welcome view)', () => {
    const a = task('T-1');
    assert.deepEqual(offersTree(snapshot({ offers: [offer('O-1', a, -1)] }), NOW), []);
    assert.deepEqual(offersTree(snapshot({ state: 'not-joined', listed: [a] }), NOW), []);
  });

  test('tooltips escape the issue text: no links, images, HTML or command URIs from a title or body', () => {
    const evil = task('T-9', {
      title: 'Fix [me](command:workbench.action.terminal.new) <img src=x onerror=alert(1)>',
      body: '![pixel](https://evil.example/p.png)\n<script>alert(1)</script>\n[ok](javascript:alert(1))',
      acceptance: ['**bold** `code`'],
      issue: { number: 7, url: 'javascript:alert(1)' },
    });
    const [group] = offersTree(snapshot({ listed: [evil] }), NOW);
    const tooltip = group!.items[0]!.tooltip;
    assert.ok(!tooltip.includes('](command:'), tooltip);
    assert.ok(!tooltip.includes('<img'), tooltip);
    assert.ok(!tooltip.includes('<script'), tooltip);
    assert.ok(!tooltip.includes('!['), tooltip);
    assert.ok(!tooltip.includes('javascript:alert(1))'), 'the unsafe issue URL is not linked');
    assert.ok(tooltip.includes('\\[me\\]'), 'brackets are escaped, so the text still reads the same');
    assert.ok(tooltip.includes('&lt;script&gt;'));
    const safe = task('T-8', { issue: { number: 12, url: 'https://github.com/acme/site/issues/12' } });
    const [g2] = offersTree(snapshot({ listed: [safe] }), NOW);
    assert.ok(g2!.items[0]!.tooltip.includes('[#12](https://github.com/acme/site/issues/12)'));
  });

  test('My work shows state, the hard deadline and, apart, a heartbeat that is late; it marks a lease whose PR is being submitted', () => {
    const t = task('T-1', { state: 'in_progress', effort: 2 });
    const items = workItems(snapshot({ leases: [lease('L-1', 'T-1', 112 * 60_000)], tasks: new Map([['T-1', t]]) }), { 'T-1': { branch: 'owp/T-1-task-t-1' } }, NOW);
    assert.equal(items.length, 1);
    assert.equal(items[0]!.label, 'T-1 Task T-1');
    assert.equal(items[0]!.description, 'in progress · deadline in 1 h 52 min', 'the heartbeat (30 s of 30 s left) is on time, so only the deadline is shown');
    assert.match(items[0]!.tooltip, /Lease L\\-1 · deadline in 1 h 52 min · heartbeat ok/);
    assert.equal(items[0]!.contextValue, 'lease');
    assert.ok(items[0]!.tooltip.includes('owp/T-1-task-t-1'));
    const late = workItems(snapshot({ leases: [{ ...lease('L-1', 'T-1', 112 * 60_000), expires_at: NOW + 9000 }], tasks: new Map([['T-1', t]]) }), {}, NOW);
    assert.equal(late[0]!.description, 'in progress · deadline in 1 h 52 min · heartbeat late: lease lost in 9 s without one');
    const busy = workItems(snapshot({ leases: [lease('L-1', 'T-1', 60_000)], tasks: new Map([['T-1', t]]) }), { 'T-1': { busy: 'running gates' } }, NOW);
    assert.equal(busy[0]!.contextValue, 'leaseBusy');
    assert.equal(busy[0]!.description, 'running gates · deadline in 1 min');
  });

  test('capacity counts leases and open offers alike, in the words the dashboard uses; the status bar shows connection, deadline and capacity', () => {
    const t = task('T-1', { effort: 2, state: 'in_progress' });
    const snap = snapshot({ leases: [lease('L-1', 'T-1', 30 * 60_000)], tasks: new Map([['T-1', t]]) });
    assert.equal(freeCapacity(snap, NOW), 1);
    const view = statusBarView(snap, NOW);
    assert.equal(view.text, '$(broadcast) OWP T-1 deadline in 30 min · 2 used / 1 free');
    assert.match(view.tooltip, /capacity 2 used \/ 1 free \(2 leased · 0 offered\)/);
    assert.match(view.tooltip, /Running lease L-1 on T-1: deadline in 30 min · heartbeat ok/);
    // An open offer takes capacity as the scheduler counts it: "2/2 free · 1 offer" was the old contradiction.
    const offered = snapshot({ offers: [offer('O-1', task('T-2', { effort: 2 }), 20_000)] });
    assert.equal(freeCapacity(offered, NOW), 1);
    assert.equal(statusBarView(offered, NOW).text, '$(broadcast) OWP 2 used / 1 free · 1 offer');
    assert.equal(statusBarView(snapshot({ state: 'reconnecting' }), NOW).text, '$(sync~spin) OWP reconnecting… · 0 used / 3 free');
    assert.equal(statusBarView(snapshot({ state: 'not-joined', worker: undefined }), NOW).text, '$(circle-slash) OWP');
  });

  test('the OWP view\'s badge counts the open offers; a click shows the task\'s details, escaped like its tooltip', () => {
    const a = task('T-1');
    assert.equal(offersBadge(snapshot({}), NOW), undefined, 'no offer, no badge');
    assert.deepEqual(offersBadge(snapshot({ offers: [offer('O-1', a, 20_000), offer('O-2', task('T-2'), 5000), offer('O-3', task('T-3'), -1)] }), NOW), { value: 2, tooltip: '2 open OWP offers waiting for your answer' });
    const evil = task('T-9', { title: '[click](command:owp.leavePool)', body: '<img src=x onerror=alert(1)>', issue: { number: 7, url: 'https://github.com/acme/site/issues/7' } });
    const details = taskDetailsMarkdown(evil);
    assert.match(details, /Issue \[#7\]\(https:\/\/github\.com\/acme\/site\/issues\/7\)/);
    assert.doesNotMatch(details, /\]\(command:/, 'a title cannot become a command link');
    assert.doesNotMatch(details, /<img/, 'HTML in the body is escaped');
  });

  test('offer notifications carry the facts and deadline, and a title cannot form a link', () => {
    const t = task('T-1', { title: 'See [docs](command:evil)', area: 'docs' });
    const text = offerNotificationText(offer('O-1', t, 30_000), NOW);
    assert.equal(text, `OWP offer: T-1 “See ‹docs›(command:evil)” in acme/site (${taskFacts(t)}). Accept within 30 s.`);
  });
});
