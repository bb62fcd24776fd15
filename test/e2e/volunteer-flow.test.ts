/**
 * One volunteer in a real VS Code (code-server in Chromium), through the UI only: join from the
 * welcome view, see the seeded tasks, accept an offer (branch + prompt in the Chat input), keep the
 * lease across a coordinator restart, make a change and Submit PR (gates, push, PR as the
 * volunteer, pr_opened), then no further offer while the review budget is full; the PR stays in
 * My work's Submitted group and its merge is announced; the first-time walkthrough opens.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, PoolWorld, REPO, type VolunteerWindow } from './pool-world.ts';
import { currentBranch, fileOnRemote, remoteBranches } from './seeded-repo.ts';

const HEARTBEAT_TIMEOUT_MS = 8000;

const ALICE = { name: 'alice', login: 'alice-volunteer', skills: ['docs', 'tests'], capacity: 2, githubToken: 'ghp_aliceE2eToken000000000000000000000001' };

const DOCS_TASK = {
  title: 'Fix the install steps in the README',
  body: 'The README does not say how to install the site. Add the install command.',
  area: 'docs',
  tier: 0,
  effort: 1,
  skills: ['docs'],
  priority: 10,
  acceptance: ['README.md says to run npm ci'],
};
const TESTS_TASK = { title: 'Add a test for the guide links', body: 'docs/guide.md links are never checked.', area: 'tests', tier: 0, effort: 2, skills: ['tests'], priority: 0 };
const CI_TASK = { title: 'Cache dependencies in CI', body: 'CI installs everything on every run.', area: 'ci', tier: 2, effort: 3, skills: ['ci'], priority: 0 };

/** The seeded tasks alice qualifies for, with what their rows in Offers & tasks must show. */
const LISTED = [
  [DOCS_TASK, 'docs · tier 0 · effort 1'],
  [TESTS_TASK, 'tests · tier 0 · effort 2'],
] as const;

let world: PoolWorld;
let alice: VolunteerWindow;
let docsBranch = '';

before(async () => {
  world = await PoolWorld.start({
    suite: 'volunteer-flow',
    // One open PR at a time, so the budget is full after the first PR.
    repoSettings: { max_open_prs: 1, max_new_prs_per_hour: 20, heartbeat_timeout_ms: HEARTBEAT_TIMEOUT_MS, offer_timeout_ms: 120_000 },
    tasks: [DOCS_TASK, TESTS_TASK, CI_TASK],
    volunteers: [ALICE],
  });
  alice = await world.openWindow('alice');
});

after(async () => {
  await world?.close();
});

test('1. joining from the welcome view lists the seeded tasks alice qualifies for, with area, tier and effort', () =>
  world.step('join', async () => {
    const wb = alice.workbench;
    await wb.openViewContainer('OWP');
    await wb.widenSidebar(520);
    await wb.view('Offers & tasks').locator('.welcome-view-content', { hasText: 'Join pool' }).waitFor();
    await wb.screenshot('welcome');
    await wb.clickWelcomeButton('Offers & tasks', 'Join pool');
    await wb.waitForNotification(/joined the pool/);
    // The window's owp.aiTool setting ("copilot") reached the worker's profile: a value the
    // manifest does not allow would silently fall back to "auto" (profile tool "vscode").
    const { workers } = await world.coordinator.admin.call('worker.list', {});
    const worker = workers.find((w) => w.github_login === ALICE.login);
    assert.deepEqual(worker?.tools, ['copilot'], JSON.stringify(worker));

    for (const [task] of LISTED) await wb.waitForTreeRow('Offers & tasks', world.taskId(task.title));
    const rows = await wb.treeRows('Offers & tasks');
    for (const [task, facts] of LISTED) {
      const id = world.taskId(task.title);
      const row = rows.find((text) => text.startsWith(`${id} ${task.title}`));
      assert.ok(row, `a row for ${id} in ${JSON.stringify(rows)}`);
      assert.ok(row.includes(facts), `the row for ${id} shows "${facts}": ${row}`);
    }
    // The CI task needs a skill and trust alice does not have: the sidebar does not list it.
    const ciTask = world.taskId(CI_TASK.title);
    assert.ok(!rows.some((text) => text.startsWith(`${ciTask} `)), `${ciTask} is not listed: ${JSON.stringify(rows)}`);
    // The sidebar's picture, apart from the offer's: a ready task pointed at, and the tooltip with its
    // issue when it shows within 15 s (not asserted: a picture, not a promise; by then the toasts hid).
    await (await wb.waitForTreeRow('Offers & tasks', world.taskId(TESTS_TASK.title))).hover();
    await wb.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'links are never checked' }).first().waitFor({ timeout: 15_000 }).catch(() => undefined);
    await wb.screenshot('sidebar');
    await wb.clearHover();

    // A click on a task shows its details (the issue text, escaped) in a Markdown preview of a
    // read-only document: nothing to save when it closes.
    const clicked = world.taskId(TESTS_TASK.title);
    await (await wb.waitForTreeRow('Offers & tasks', clicked)).click();
    await wb.page.locator('.tabs-container .tab', { hasText: `Preview ${clicked}.md` }).waitFor({ timeout: 60_000 });
    await wb.runCommand('View: Close All Editors');
  }));

test('2. an offer arrives; Accept makes the task branch and puts the prompt in the Chat input', () =>
  world.step('accept', async () => {
    const wb = alice.workbench;
    const id = world.taskId(DOCS_TASK.title);
    const offer = await wb.waitForNotification(new RegExp(`OWP offer: ${id}\\b`));
    assert.ok(offer.includes(DOCS_TASK.title) && offer.includes('Accept within'), `offer notification: ${offer}`);
    // The OWP view's badge counts the open offer.
    await wb.page.locator('.part.activitybar .action-item:has([aria-label^="OWP"]) .badge-content', { hasText: /^1$/ }).waitFor({ timeout: 30_000 });
    await wb.screenshot('offer');
    await wb.clickNotificationButton(new RegExp(`OWP offer: ${id}\\b`), /^Accept$/);

    docsBranch = `owp/${id}-fix-the-install-steps-in-the-readme`;
    await eventually(`branch ${docsBranch} checked out in alice's clone`, async () => (await currentBranch(alice.checkout)) === docsBranch);
    await wb.page.locator('.interactive-input-part .monaco-editor .view-lines', { hasText: `OWP task ${id}` }).waitFor({ timeout: 60_000 });
    // Wide enough for more of the prompt, narrow enough that Chat does not add its sessions list.
    await wb.widenChat(500);
    await wb.clearNotifications();
    await wb.screenshot('chat-prompt');
    const prompt = await wb.waitForChatInput(DOCS_TASK.title);
    for (const expected of [id, DOCS_TASK.acceptance[0] as string, 'node scripts/check.mjs', docsBranch]) {
      assert.ok(prompt.includes(expected), `the chat prompt mentions ${expected}:\n${prompt}`);
    }
    const task = await eventually('the task in progress', async () => {
      const t = await world.task(id);
      return t.state === 'in_progress' ? t : undefined;
    });
    assert.equal(task.lease?.worker_id !== undefined, true);
    await wb.expandView('My work');
    await wb.waitForTreeRow('My work', id);
  }));

test('6. a coordinator restart mid-lease: the editor reconnects and keeps its lease', () =>
  world.step('restart', async () => {
    const id = world.taskId(DOCS_TASK.title);
    const before = await world.task(id);
    assert.ok(before.lease, 'alice holds a lease before the restart');
    const lastSeq = (await world.journal()).at(-1)?.seq ?? 0;

    await world.coordinator.restart();
    const restartedAt = Date.now();

    await eventually('alice reconnected to the restarted coordinator', async () =>
      (await world.journal()).some((e) => e.seq > lastSeq && e.type === 'worker.connected' && e.worker_id === before.lease?.worker_id),
    );
    // Heartbeats after the restart renew the same lease past the deadline it had when it went down.
    const renewed = await eventually(
      'the lease renewed by heartbeats after the restart',
      async () => {
        const t = await world.task(id);
        return t.lease && t.lease.expires_at > restartedAt + HEARTBEAT_TIMEOUT_MS / 2 ? t : undefined;
      },
      HEARTBEAT_TIMEOUT_MS * 3,
    );
    assert.equal(renewed.lease?.lease_id, before.lease.lease_id, 'same lease');
    assert.equal(renewed.lease?.epoch, before.lease.epoch, 'same fencing epoch');
    assert.equal(renewed.state, 'in_progress');
    const lost = (await world.journal()).filter((e) => e.task_id === id && ['lease.expired', 'lease.cancelled', 'lease.released'].includes(e.type));
    assert.deepEqual(lost, [], 'the lease never ended');
    await alice.workbench.waitForTreeRow('My work', id);
    await alice.workbench.screenshot('after-restart');
  }));

test('4. a change, then Submit PR: tests run, branch pushed, PR opened as the volunteer, task pr_opened; budget full, no new offer', () =>
  world.step('submit', async () => {
    const wb = alice.workbench;
    const id = world.taskId(DOCS_TASK.title);
    const addition = 'Install with `npm ci`, then run `npm start`.';

    await wb.typeIntoFile('README.md', `\n${addition}\n`);
    await eventually('the typed text saved to README.md', () => readFileSync(join(alice.checkout, 'README.md'), 'utf8').includes(addition));

    await wb.runCommand('OWP: Set GitHub Token');
    await wb.answerQuickInput(ALICE.githubToken);
    await wb.waitForNotification(/GitHub token saved/);

    const row = await wb.waitForTreeRow('My work', id);
    await wb.clickRowAction(row, 'Submit PR');
    await wb.acceptQuickPick(/checklist/);
    // The repo's commands are shown before they first run on this machine (client/command-approval.ts).
    await wb.clickDialogButton(/runs these commands on your machine/, 'Run them');
    await wb.clickDialogButton(/not committed/, 'Commit and submit');
    const opened = await wb.waitForNotification(/PR opened for/, 90_000);
    await wb.screenshot('pr-opened');
    assert.ok(opened.includes(id), opened);

    // The contract's test command ran in alice's checkout, and its output is in the OWP channel.
    assert.ok(world.testRuns().some((run) => run.cwd === alice.checkout), `test runs: ${JSON.stringify(world.testRuns())}`);
    assert.match(wb.outputChannel('OWP'), /check passed: README\.md has \d+ lines/);

    // The branch is on the bare remote with the change.
    assert.ok((await remoteBranches(world.remote)).includes(docsBranch), 'branch pushed');
    assert.ok((await fileOnRemote(world.remote, docsBranch, 'README.md')).includes(addition), 'the pushed README has the change');

    // The GitHub-shaped server got one PR creation, authenticated as alice.
    const creations = world.github.state.requestsTo('POST', `/repos/${REPO}/pulls`);
    assert.equal(creations.length, 1, 'one PR creation');
    const creation = creations[0]!;
    assert.equal(creation.login, ALICE.login, 'made with alice\'s token');
    assert.equal(creation.status, 201);
    assert.equal((creation.body as { head: string }).head, docsBranch);

    const task = await eventually('the task pr_opened', async () => {
      const t = await world.task(id);
      return t.state === 'pr_opened' ? t : undefined;
    });
    assert.ok(task.pr?.gates.some((g) => g.name === 'tests' && g.passed), 'gate evidence recorded');

    // The lease ended with the PR, but the PR stays in My work: the Submitted group (issue 16).
    await wb.expandView('My work');
    await wb.waitForTreeRow('My work', /Submitted.*1 open · 0 merged · 0 closed/);
    await wb.waitForTreeRow('My work', new RegExp(`${id} .*PR #1 open, in review`));

    // Budget: max_open_prs is 1 and the PR holds it, so the tests task alice qualifies for waits.
    const testsId = world.taskId(TESTS_TASK.title);
    const explained = await world.coordinator.admin.call('task.explain', { task_id: testsId });
    assert.equal(explained.offerable, false);
    assert.ok(explained.reasons.some((r) => r.code === 'budget_open_prs'), JSON.stringify(explained.reasons));
    const prSeq = (await world.journal()).find((e) => e.type === 'pr.opened' && e.task_id === id)?.seq ?? 0;
    // Several scheduler sweeps pass; none may offer anything while the budget is full.
    await new Promise((r) => setTimeout(r, 3000));
    const offersAfter = (await world.journal()).filter((e) => e.seq > prSeq && e.type === 'offer.created');
    assert.deepEqual(offersAfter, [], 'no offer while the review budget is full');
    assert.deepEqual((await wb.notificationTexts()).filter((t) => t.includes(`OWP offer: ${testsId}`)), []);
    await wb.screenshot('budget-full');

    // The maintainer merges the PR: the budget unit frees and the waiting task is offered at once.
    await world.coordinator.admin.call('task.complete', { task_id: id, outcome: 'merged' });
    await wb.waitForNotification(new RegExp(`OWP offer: ${testsId}\\b`));
    // The merge is announced once, and the Submitted group says so.
    const merged = await wb.waitForNotification(new RegExp(`PR #1 for ${id} .* was merged`));
    assert.ok(merged.includes(REPO), merged);
    await wb.waitForTreeRow('My work', new RegExp(`${id} .*PR #1 merged`));
    await wb.waitForTreeRow('My work', /Submitted.*0 open · 1 merged · 0 closed/);
    assert.equal((await wb.notificationTexts()).filter((t) => /was merged/.test(t)).length, 1, 'one merge notification');
    await wb.screenshot('submitted');
  }));

test('the dashboard opens in a webview', () =>
  world.step('dashboard', async () => {
    const wb = alice.workbench;
    await wb.runCommand('OWP: Set Maintainer Token (Dashboard)');
    await wb.answerQuickInput(world.coordinator.adminToken);
    await wb.waitForNotification(/maintainer token saved/);
    await wb.runCommand('OWP: Open Dashboard');
    const frame = await wb.webviewFrame('OWP Dashboard');
    // The live dashboard, signed in with the maintainer token, shows the repo's review budget and alice.
    await frame.getByText(REPO).first().waitFor({ timeout: 60_000 });
    await frame.getByText(ALICE.login).first().waitFor({ timeout: 60_000 });
    await wb.clearNotifications();
    // The dashboard gets the window's width for its screenshot.
    await wb.runCommand('View: Toggle Secondary Side Bar Visibility');
    await wb.runCommand('View: Toggle Primary Side Bar Visibility');
    await frame.getByText(REPO).first().waitFor();
    await wb.screenshot('dashboard');
  }));

test('the walkthrough for first-time volunteers opens from the Welcome page', () =>
  world.step('walkthrough', async () => {
    const wb = alice.workbench;
    // After the dashboard step both side bars are hidden: the walkthrough gets the window, its pages beside the steps.
    await wb.runCommand('View: Close All Editors');
    await wb.clearNotifications();
    await wb.runCommand('Welcome: Open Walkthrough...');
    await wb.answerQuickInput('Volunteer with OWP');
    const page = wb.page.locator('.gettingStartedContainer');
    for (const step of ['Join the pool', 'Take an offer', 'Work with your AI tool', 'Submit a PR', 'Follow your PR']) await page.getByText(step, { exact: true }).first().waitFor({ timeout: 60_000 });
    // Alice did every step long before this page first opened: each is ticked.
    for (const step of ['Join the pool', 'Take an offer', 'Work with your AI tool', 'Submit a PR', 'Follow your PR']) await page.locator('button.getting-started-step[aria-checked="true"]', { hasText: step }).first().waitFor({ timeout: 30_000 });
    // The first step shows its own text and its Join Pool button (its page beside it is Markdown in a webview).
    await page.getByText('Join the pool', { exact: true }).first().click();
    await page.getByText(/Tell the coordinator who you are/).first().waitFor({ timeout: 30_000 });
    await page.locator('.monaco-button', { hasText: 'Join Pool' }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('walkthrough');
    await page.getByText('Take an offer', { exact: true }).first().click();
    await page.getByText(/Accept an offer when it arrives/).first().waitFor({ timeout: 30_000 });
    await wb.runCommand('View: Close All Editors');
  }));
