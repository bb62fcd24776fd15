/**
 * The dashboard's Policy panel in a real headless Chromium against a real coordinator: each
 * contributor against their cap as the coordinator counts them (policy.standings), and a
 * maintainer vouching for and denouncing logins from the page, which changes the coordinator's
 * lists (a denounced volunteer loses their offers). A reason typed with markup stays text.
 * A screenshot of the panel lands in .artifacts/dashboard/policy-panel.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import { artifactsDir, dashboardBrowser, watchPage } from '../helpers/browser.ts';
import { GATES, nextOffer, startPool, until, type TestPool } from '../helpers/coordinator.ts';

const WAIT = { timeout: 20_000 };
const REPO = 'acme/site';
const MARKUP = '<img src=x onerror=alert(3)> floods PRs';

/** A PR opened by the worker on its next offer, then merged or closed by the maintainers. */
async function prOutcome(pool: TestPool, worker: Awaited<ReturnType<TestPool['join']>>, n: number, outcome: 'merged' | 'closed'): Promise<void> {
  await pool.task(REPO, { title: `Task ${n}`, skills: ['docs'] });
  const offer = await nextOffer(worker);
  const { lease } = await worker.accept(offer.offer_id);
  await worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/${REPO}/pull/${n}`, gates: GATES } });
  await pool.admin.call('task.complete', { task_id: offer.task_id, outcome });
}

describe('dashboard Policy panel (headless Chromium)', () => {
  const chromium = dashboardBrowser();
  const shots = artifactsDir('dashboard');

  test('caps as the coordinator counts them; a maintainer vouches and denounces from the page and the coordinator\'s lists change', async () => {
    const pool = await startPool('memory', { staticHandler: dashboardStaticHandler({ assetsDir: chromium.assetsDir }) });
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const seen = watchPage(page);
    try {
      await pool.repo(REPO, {
        max_open_prs: 3,
        max_new_prs_per_hour: 50,
        policy: {
          contributor_cap: { base: 1, per_merge: 1, max: 4 },
          logins: { deny: ['eager-eve'] },
          modes: { login_deny: 'report' },
          budget: { adaptive: { floor: 2, ceiling: 6, target_review_hours: 24 } },
        },
      });
      const eve = await pool.join({ github_login: 'eager-eve', skills: ['docs'], capacity: 5 });
      // The adaptive budget moves 3 → 2 (the floor) → 3; eve's cap grows to base 1 + 1 × 1 merged = 2.
      await prOutcome(pool, eve, 1, 'closed');
      await prOutcome(pool, eve, 2, 'merged');
      // A flood of tasks: eve takes one, is offered another and is then held at her cap of 2.
      for (let n = 3; n <= 8; n += 1) await pool.task(REPO, { title: `Flood ${n}`, skills: ['docs'] });
      await eve.accept((await nextOffer(eve)).offer_id);
      await until(async () => (await pool.admin.call('policy.standings', { repo: REPO })).standings.find((r) => r.login === 'eager-eve')?.in_use === 2, 'eve holds a lease and an offer');

      await page.goto(`${pool.url}/#token=${encodeURIComponent(pool.adminToken)}`);
      await page.waitForSelector('.pill[data-connection="live"]', WAIT);
      const card = page.locator(`article[data-policy-repo="${REPO}"]`);
      const eveRow = card.locator('[data-role="contributor-caps"] tr[data-login="eager-eve"]');
      await eveRow.waitFor(WAIT);
      // The coordinator's figures: a lease and an offer held, cap 2 from a merge the page never saw.
      assert.equal(await eveRow.getAttribute('data-at-cap'), 'true');
      assert.equal(await eveRow.locator('[data-role="cap"]').textContent(), '2');
      assert.equal(await eveRow.locator('[data-role="in-use"]').textContent(), '2');
      assert.match((await eveRow.textContent()) ?? '', /base 1 \+ 1 × 1 merged PR = 2/);
      await card.locator('[data-role="adaptive-budget"] [data-role="last-move"]').waitFor(WAIT);
      await card.locator('[data-role="dry-run-hits"] [data-rule="login_deny"]').waitFor(WAIT);

      // Vouch from the page.
      const form = card.locator('form[data-role="standing-form"]');
      await form.locator('input[name="login"]').fill('@ada-l');
      await form.locator('input[name="reason"]').fill('reviewed her first PRs');
      await form.locator('button[data-action="vouch"]').click();
      await card.locator('[data-role="standings"] li[data-login="ada-l"][data-status="vouched"]').waitFor(WAIT);
      const listed = async () => (await pool.admin.call('contributor.list', { repo: REPO })).contributors.map((c) => [c.login, c.status, c.reason]);
      assert.deepEqual(await listed(), [['ada-l', 'vouched', 'reviewed her first PRs']]);

      // A denouncement without a reason is refused on the page; nothing reaches the coordinator.
      await form.locator('input[name="login"]').fill('eager-eve');
      await form.locator('button[data-action="denounce"]').click();
      await page.locator('.notice').filter({ hasText: 'needs a reason' }).waitFor(WAIT);
      assert.deepEqual(await listed(), [['ada-l', 'vouched', 'reviewed her first PRs']]);

      // With a reason (markup, which stays text): eve is denounced and loses her offers.
      await form.locator('input[name="reason"]').fill(MARKUP);
      await form.locator('button[data-action="denounce"]').click();
      const denounced = card.locator('[data-role="standings"] li[data-login="eager-eve"][data-status="denounced"]');
      await denounced.waitFor(WAIT);
      assert.equal(await denounced.textContent(), `@eager-eve denounced by admin: ${MARKUP}`);
      assert.deepEqual((await listed()).sort(), [['ada-l', 'vouched', 'reviewed her first PRs'], ['eager-eve', 'denounced', MARKUP]]);
      await until(async () => (await pool.admin.call('policy.standings', { repo: REPO })).standings.find((r) => r.login === 'eager-eve')?.open_offers === 0, 'the denounced login lost its offer');
      await eveRow.locator('[data-role="in-use"]').filter({ hasText: /^1$/ }).waitFor(WAIT);
      assert.equal(await page.locator('img').count(), 0, 'a reason is text, never markup');

      await page.waitForTimeout(400); // one batched render (at most about three a second)
      await page.locator('#policy').screenshot({ path: join(shots, 'policy-panel.png') });
      await page.screenshot({ path: join(shots, 'policy-page.png'), fullPage: true });
      assert.deepEqual(seen.problems, []);
      assert.deepEqual(seen.dialogs, []);
    } finally {
      await page.close();
      await pool.close();
    }
  });
});
