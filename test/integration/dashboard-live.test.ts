/**
 * The maintainer dashboard in a real headless Chromium against a real coordinator with real
 * WorkerClients: a lease appears, counts down, expires and is requeued on screen; the budget
 * gauge turns THROTTLED; an HTML-looking title is shown as text; screenshots land in
 * .artifacts/dashboard/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import type { WorkerProfile } from '../../client/worker-client.ts';
import type { Offer } from '../../protocol/model.ts';
import { artifactsDir, dashboardBrowser, watchPage } from '../helpers/browser.ts';
import { GATES, nextOffer, startPool, until, type TestPool } from '../helpers/coordinator.ts';

const XSS_TITLE = '<img src=x onerror=alert(1)>';
const WAIT = { timeout: 20_000 };

describe('maintainer dashboard (headless Chromium)', () => {
  const chromium = dashboardBrowser();
  const shots = artifactsDir('dashboard');

  test('a lease appears, counts down, expires and requeues on screen; the budget turns THROTTLED; titles are text', async () => {
    const pool = await startPool('lowdb', { staticHandler: dashboardStaticHandler({ assetsDir: chromium.assetsDir }) });
    const page = await chromium.browser.newPage({ viewport: { width: 1440, height: 1100 } });
    const seen = watchPage(page);
    try {
      await pool.repo('acme/site', { max_open_prs: 1, max_new_prs_per_hour: 5, heartbeat_timeout_ms: 5000 });
      await pool.repo('acme/docs');
      const xssId = await pool.task('acme/docs', { title: XSS_TITLE, body: '<script>alert(2)</script>', skills: ['rust'] });
      const taskId = await pool.task('acme/site', { title: 'Fix the flaky lease test', area: 'tests', skills: ['docs'] });

      await page.goto(`${pool.url}/#token=${encodeURIComponent(pool.adminToken)}`);
      await page.waitForSelector('.pill[data-connection="live"]', WAIT);
      assert.equal(await page.evaluate(() => window.location.hash), '', 'the token leaves the address bar');

      // Outside text is text: the title reads as typed and no element or dialog came of it.
      const title = page.locator(`[data-task-id="${xssId}"] [data-role="title"]`);
      await title.waitFor(WAIT);
      assert.equal(await title.textContent(), XSS_TITLE);
      assert.equal(await page.locator('img').count(), 0);
      await page.locator(`[data-task-id="${xssId}"] [data-role="why"]`).filter({ hasText: 'no worker' }).waitFor(WAIT);

      const site = page.locator('article[data-repo="acme/site"]');
      assert.equal(await site.getAttribute('data-state'), 'open');

      // A worker joins after the page loaded (live delta), takes the offer and never heartbeats.
      const worker = await pool.join({ skills: ['docs'], github_login: 'sleepy-volunteer' }, { autoHeartbeat: false });
      const offer = await nextOffer(worker);
      assert.equal(offer.task_id, taskId);
      const { lease } = await worker.accept(offer.offer_id);

      const row = page.locator(`#leases tr[data-lease-id="${lease.lease_id}"]`);
      await row.waitFor(WAIT);
      assert.match((await row.textContent()) ?? '', /sleepy-volunteer/);
      await page.waitForSelector('article[data-repo="acme/site"][data-state="throttled"]', WAIT);
      assert.equal(await site.locator('[data-role="repo-state"]').textContent(), 'THROTTLED');
      assert.equal(await site.locator('[data-gauge="open-prs"] [data-role="gauge-text"]').textContent(), 'reserved 1/1: 0 PRs · 1 lease · 0 offers');
      assert.equal(await site.locator('[data-gauge="hourly"] [data-role="gauge-text"]').textContent(), 'this hour 1/5: 0 PRs opened · 1 lease · 0 offers');
      await page.locator('[data-area="tests"]').filter({ hasText: taskId }).waitFor(WAIT);

      // The lease's time in two parts, as on every surface: its hard deadline (two hours away) and,
      // apart from it, the heartbeat, which goes late without beats and counts down to the loss.
      assert.match((await row.locator('[data-role="deadline"]').textContent()) ?? '', /^deadline in (1 h 59 min|2 h)$/);
      await row.locator('[data-role="heartbeat"]').filter({ hasText: /^heartbeat late: lease lost in [1-3] s without one$/ }).waitFor(WAIT);
      await page.screenshot({ path: join(shots, 'lease-counting-down.png'), fullPage: true });

      // No heartbeat: the lease expires, the row goes, and the task is back with one attempt counted.
      await page.locator(`#feed li[data-type="lease.expired"]`).filter({ hasText: taskId }).waitFor(WAIT);
      assert.match((await page.locator('#feed li[data-type="lease.expired"]').first().textContent()) ?? '', /requeued/);
      await row.waitFor({ state: 'detached', ...WAIT });
      await page.locator(`[data-task-id="${taskId}"] [data-role="attempts"]`).filter({ hasText: 'attempts 1' }).waitFor(WAIT);
      const state = await page.locator(`[data-task-id="${taskId}"]`).getAttribute('data-state');
      assert.ok(state === 'ready' || state === 'offered', `requeued task is ready or re-offered, got ${state}`);
      await page.screenshot({ path: join(shots, 'lease-expired-requeued.png'), fullPage: true });

      assert.deepEqual(seen.dialogs, [], 'no dialog fired');
      assert.deepEqual(seen.problems, [], 'no page errors, console errors or CSP violations');
    } finally {
      await page.close();
      await pool.close();
    }
  });

  test('without a token the page only asks for one; signed in, a maintainer adds a task, cancels a lease, unblocks and changes a budget', async () => {
    const pool = await startPool('memory', { staticHandler: dashboardStaticHandler({ assetsDir: chromium.assetsDir }) });
    const anon = await chromium.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const seenAnon = watchPage(anon);
    const seen = watchPage(page);
    try {
      await pool.repo('acme/site', { max_open_prs: 3, max_attempts: 1 });
      await pool.task('acme/site', { title: 'Members only', skills: ['docs'] });

      // OWP reads need a token (SPEC AUTH-001): the page says so once and stops asking.
      await anon.goto(`${pool.url}/`);
      await anon.waitForSelector('.pill[data-connection="signed-out"]', WAIT);
      assert.equal(await anon.locator('#locked').isVisible(), true);
      assert.equal(await anon.locator('#tasks').isVisible(), false);
      assert.equal(await anon.locator('#add-task').isVisible(), false, 'no actions without a token');
      assert.equal(await anon.getByText('Members only').count(), 0);
      // Sign in through the form.
      await anon.fill('input[name="token"]', pool.adminToken);
      await anon.click('form.sign-in button[type="submit"]');
      await anon.waitForSelector('.pill[data-connection="live"]', WAIT);
      await anon.locator('[data-role="title"]').filter({ hasText: 'Members only' }).waitFor(WAIT);

      await page.goto(`${pool.url}/#token=${encodeURIComponent(pool.adminToken)}`);
      await page.waitForSelector('.pill[data-connection="live"]', WAIT);

      // Add a task.
      await page.fill('#add-task input[name="title"]', 'Added from the dashboard');
      await page.fill('#add-task input[name="skills"]', 'docs');
      await page.click('#add-task button[type="submit"]');
      await page.locator('[data-role="title"]').filter({ hasText: 'Added from the dashboard' }).waitFor(WAIT);
      const { tasks } = await pool.admin.call('task.list', { repo: 'acme/site' });
      assert.ok(tasks.some((t) => t.title === 'Added from the dashboard'));

      // Cancel a lease (max_attempts 1 makes the task blocked), then unblock it.
      const worker = await pool.join({ skills: ['docs'] });
      const offer = await nextOffer(worker);
      const { lease } = await worker.accept(offer.offer_id);
      // Cancelling takes a second click (no modal dialogs: webviews do not show them).
      const cancel = page.locator(`#leases tr[data-lease-id="${lease.lease_id}"] button[data-action="cancel-lease"]`);
      await cancel.click();
      await cancel.filter({ hasText: 'Click again' }).waitFor(WAIT);
      await cancel.click();
      await page.locator(`[data-task-id="${offer.task_id}"][data-state="blocked"]`).waitFor(WAIT);
      await page.click(`[data-task-id="${offer.task_id}"] button[data-action="unblock"]`);
      await until(async () => (await pool.admin.call('task.get', { task_id: offer.task_id })).task.attempts === 0, 'task unblocked');

      // Change a budget.
      const card = page.locator('article[data-repo="acme/site"]');
      // The panel re-renders on every live event; a click that lands while the card is being
      // replaced opens nothing, so open the editor until it shows (a closed one only is clicked).
      const budgetInput = card.locator('input[name="max_open_prs"]');
      await until(async () => {
        if (!(await budgetInput.isVisible())) await card.locator('summary').click();
        return budgetInput.isVisible();
      }, 'budget editor open');
      await budgetInput.fill('7');
      await card.locator('button[type="submit"]').click();
      await card.locator('[data-role="gauge-text"]').filter({ hasText: /^reserved \d+\/7: / }).waitFor(WAIT);
      const { settings } = await pool.admin.call('repo.get', { repo: 'acme/site' });
      assert.equal(settings.max_open_prs, 7);

      // The Policy panel: an adaptive budget, and the vouch list as the maintainers set it.
      await pool.admin.call('repo.configure', { repo: 'acme/site', policy: { budget: { adaptive: { floor: 2, ceiling: 9, target_review_hours: 24 } } } });
      await pool.admin.call('contributor.denounce', { repo: 'acme/site', login: 'mallory', reason: '<b>floods</b> PRs' });
      const policy = page.locator('article[data-policy-repo="acme/site"]');
      await policy.locator('[data-role="adaptive-budget"]').filter({ hasText: 'max_open_prs 7 (adaptive, 2–9, target review 24 h)' }).waitFor(WAIT);
      assert.equal(await policy.locator('svg.budget-chart polyline').count(), 1);
      await policy.locator('[data-role="standings"] li[data-login="mallory"][data-status="denounced"]').filter({ hasText: '@mallory denounced by admin: <b>floods</b> PRs' }).waitFor(WAIT);
      assert.equal(await policy.locator('b').count(), 0, 'a reason is text, never markup');

      // The one refused read before signing in shows up as a 401 in the console; nothing else may.
      assert.deepEqual([...seenAnon.problems.filter((p) => !/status of 401/.test(p)), ...seen.problems], []);
      assert.deepEqual([...seenAnon.dialogs, ...seen.dialogs], []);
    } finally {
      await anon.close();
      await page.close();
      await pool.close();
    }
  });

  test('a busy pool fills every panel: workers, locks, reasons, charts and the opt-in leaderboard', async () => {
    const pool = await startPool('memory', { staticHandler: dashboardStaticHandler({ assetsDir: chromium.assetsDir }) });
    const page = await chromium.browser.newPage({ viewport: { width: 1440, height: 1300 } });
    const seen = watchPage(page);
    try {
      await busyPool(pool);
      // The page's own clock, so the charts' 5 s sampling can be fast-forwarded instead of waited for.
      await page.clock.install();
      await page.goto(`${pool.url}/#token=${encodeURIComponent(pool.adminToken)}`);
      await page.waitForSelector('.pill[data-connection="live"]', WAIT);
      await page.locator('#leaderboard tr[data-worker-id]').first().waitFor(WAIT);
      const board = (await page.locator('#leaderboard').textContent()) ?? '';
      assert.match(board, /@ada-lovelace/);
      assert.doesNotMatch(board, /private-pat/, 'only workers who opted in are listed');
      await page.locator('#workers tr[data-online="true"]').first().waitFor(WAIT);
      await page.locator('[data-role="why"]').first().waitFor(WAIT);
      // Let the charts take a few samples.
      await until(async () => (await page.evaluate(() => document.querySelectorAll('.chart canvas').length)) === 4, 'charts drawn');
      for (let i = 0; i < 3; i += 1) await page.clock.fastForward(5000);
      await page.waitForTimeout(400); // one batched render (at most about three a second)
      await page.screenshot({ path: join(shots, 'busy-pool.png'), fullPage: true });
      await page.screenshot({ path: join(shots, 'busy-pool-top.png') });
      assert.deepEqual(seen.problems, []);
    } finally {
      await page.close();
      await pool.close();
    }
  });
});

/** Three volunteers (two on the leaderboard) working through a handful of tasks in two repos. */
async function busyPool(pool: TestPool): Promise<void> {
  await pool.repo('acme/site', { max_open_prs: 4, max_new_prs_per_hour: 6, heartbeat_timeout_ms: 20_000 });
  await pool.repo('acme/cli', { max_open_prs: 2, max_new_prs_per_hour: 2 });
  const specs: Array<[string, string, string, string[], number]> = [
    ['acme/site', 'Fix broken links in the install guide', 'docs', ['docs'], 1],
    ['acme/site', 'Add a test for the retry helper', 'tests', ['ts', 'tests'], 2],
    ['acme/site', 'Document the config file format', 'docs', ['docs'], 1],
    ['acme/site', 'Port the parser to the new tokenizer', 'parser', ['rust'], 3],
    ['acme/cli', 'Explain --dry-run in the help text', 'cli', ['docs'], 1],
    ['acme/cli', 'Type the argument parser', 'cli', ['ts'], 2],
    ['acme/cli', 'Add shell completions', 'completions', ['ts'], 2],
  ];
  for (const [repo, title, area, skills, effort] of specs) await pool.task(repo, { title, area, skills, effort, body: 'See the issue.' });
  const profiles: Array<Partial<WorkerProfile> & { x_leaderboard?: boolean }> = [
    { github_login: 'ada-lovelace', skills: ['docs', 'ts', 'tests'], capacity: 4, tools: ['claude-code'], x_leaderboard: true },
    { github_login: 'grace-hopper', skills: ['docs', 'ts'], capacity: 3, tools: ['copilot'], x_leaderboard: true },
    { github_login: 'private-pat', skills: ['docs'], capacity: 2, tools: ['aider'] },
  ];
  let prs = 0;
  for (const profile of profiles) {
    const w = await pool.join(profile as Partial<WorkerProfile>, { trust: 2 });
    const handled = new Set<string>();
    const work = (offer: Offer): void => {
      if (handled.has(offer.offer_id)) return;
      handled.add(offer.offer_id);
      void (async () => {
        const { lease } = await w.accept(offer.offer_id);
        await w.report(lease.lease_id, { state: 'in_progress' });
        // The first PRs open and merge, so the charts and the leaderboard have something to show.
        if (prs < 3) {
          prs += 1;
          const n = prs;
          await new Promise((r) => setTimeout(r, 400 * n));
          await w.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/${offer.repo}/pull/${n}`, number: n, gates: GATES } });
          if (n <= 2) await pool.admin.call('task.complete', { task_id: offer.task_id, outcome: 'merged' });
        }
      })().catch(() => undefined);
    };
    w.on('offer', work);
    // Offers made while the worker was connecting are already in its list.
    for (const offer of w.offers.values()) work(offer);
  }
  await until(async () => (await pool.admin.call('metrics.get', {})).prs_merged >= 2, 'two PRs merged', 15_000);
}
