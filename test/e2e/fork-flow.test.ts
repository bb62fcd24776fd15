/**
 * A volunteer without push access, in a real VS Code (code-server in Chromium), through the UI
 * only: join, accept an offer, make the change and Submit PR. OWP forks the repo for them with
 * their token, pushes the branch to the fork (over HTTP, like github.com), and the draft PR opens
 * against upstream's default branch from `bob:<branch>`; the pool records it. The repo requires a
 * CI check: the task waits for it in My work (pending, then success), then counts as opened and
 * bob's window marks the draft ready for review.
 *
 * The coordinator is connected to the GitHub-shaped server as a maintainer connects it (`github:`
 * in its config: a token, the signed webhook and polling), so it verifies the fork PR and reads the
 * check runs itself. The test only plays CI: it makes the check run go pending, then succeed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { git } from '../../client/git.ts';
import { COORDINATOR_GITHUB, eventually, PoolWorld, REPO, type VolunteerWindow } from './pool-world.ts';
import { currentBranch, remoteBranches } from './seeded-repo.ts';

const BOB = { name: 'bob', login: 'bob-outsider', skills: ['docs'], capacity: 1, githubToken: 'ghp_bobForkE2eToken00000000000000000001', pushAccess: false };

const DOCS_TASK = { title: 'Explain how to run the site locally', body: 'The README never says how to start the site.', area: 'docs', tier: 0, effort: 1, skills: ['docs'], priority: 10 };

let world: PoolWorld;
let bob: VolunteerWindow;
let branch = '';

before(async () => {
  world = await PoolWorld.start({
    suite: 'fork-flow',
    repoSettings: { max_open_prs: 2, max_new_prs_per_hour: 20, offer_timeout_ms: 120_000 },
    tasks: [DOCS_TASK],
    volunteers: [BOB],
    forks: true,
    githubIntegration: true,
    // The maintainers' contract on main requires the `build` check; the coordinator reads it from GitHub.
    ciChecks: ['build'],
  });
  bob = await world.openWindow('bob');
});

after(async () => {
  await world?.close();
});

test('1. bob joins and accepts the docs task: the branch is made in his clone of upstream', () =>
  world.step('accept', async () => {
    const wb = bob.workbench;
    const id = world.taskId(DOCS_TASK.title);
    await wb.openViewContainer('OWP');
    await wb.widenSidebar(520);
    await wb.clickWelcomeButton('Offers & tasks', 'Join pool');
    await wb.waitForNotification(/joined the pool/);
    await wb.clickNotificationButton(new RegExp(`OWP offer: ${id}\\b`), /^Accept$/);
    branch = `owp/${id}-explain-how-to-run-the-site-locally`;
    await eventually(`branch ${branch} checked out in bob's clone`, async () => (await currentBranch(bob.checkout)) === branch);
    await wb.clearNotifications();
    await wb.expandView('My work');
    await wb.waitForTreeRow('My work', id);
  }));

test('2. Submit PR without push access: forked for bob, pushed to the fork with his token, draft PR from bob:<branch> against main', () =>
  world.step('submit-from-fork', async () => {
    const wb = bob.workbench;
    const id = world.taskId(DOCS_TASK.title);
    const addition = 'Run `npm start` and open http://localhost:8080.';
    await wb.typeIntoFile('README.md', `\n${addition}\n`);
    await eventually('the typed text saved to README.md', () => readFileSync(join(bob.checkout, 'README.md'), 'utf8').includes(addition));

    await wb.runCommand('OWP: Set GitHub Token');
    await wb.answerQuickInput(BOB.githubToken);
    await wb.waitForNotification(/GitHub token saved/);

    const row = await wb.waitForTreeRow('My work', id);
    await wb.clickRowAction(row, 'Submit PR');
    await wb.acceptQuickPick(/checklist/);
    // The repo's commands are shown before they first run on this machine (client/command-approval.ts).
    await wb.clickDialogButton(/runs these commands on your machine/, 'Run them');
    await wb.clickDialogButton(/not committed/, 'Commit and submit');
    const opened = await wb.waitForNotification(/PR opened for/, 120_000);
    assert.ok(opened.includes(id), opened);
    await wb.screenshot('pr-opened-from-fork');

    // GitHub made bob's fork once, at his request; the branch is on the fork and not upstream.
    const forks = world.github.state.requestsTo('POST', `/repos/${REPO}/forks`);
    assert.deepEqual(forks.map((r) => [r.login, r.status]), [[BOB.login, 202]]);
    const fork = world.github.state.findRepo(`${BOB.login}/site`);
    assert.ok(fork?.git && fork.parent === REPO, 'bob/site is a fork of acme/site with its own git');
    const pushed = await git(fork.git, ['rev-parse', `refs/heads/${branch}`]);
    assert.equal(pushed, await git(bob.checkout, ['rev-parse', 'HEAD']), 'the fork has bob\'s commit');
    assert.ok(!(await remoteBranches(world.remote)).includes(branch), 'nothing pushed to upstream');
    const gitPushes = world.gitHttp!.requests.filter((r) => r.method === 'POST' && r.service === 'git-receive-pack');
    assert.deepEqual(gitPushes.map((r) => [r.path, r.login, r.status]), [[`/${BOB.login}/site.git/git-receive-pack`, BOB.login, 200]]);
    assert.ok(!readFileSync(join(bob.checkout, '.git', 'config'), 'utf8').includes(BOB.githubToken), 'no token in .git/config');

    // The PR: upstream's main ← bob:<branch>, a draft, opened as bob.
    const [pull] = world.github.state.pulls(REPO);
    assert.ok(pull, 'one PR upstream');
    assert.deepEqual([pull.user, pull.pull.head_repo, pull.pull.head_ref, pull.pull.base_ref, pull.pull.draft], [BOB.login, `${BOB.login}/site`, branch, 'main', true]);
    assert.match(opened, /counts once the required CI checks pass/);
    const task = await world.task(id);
    assert.equal(task.pr?.number, pull.number);
    assert.equal(task.checks?.status, 'pending', 'attached, waiting for CI, not counted yet');
    assert.notEqual(task.state, 'pr_opened');
    // The coordinator checked the PR on GitHub with its own token before it took the report.
    const verified = world.github.state.requestsTo('GET', `/repos/${REPO}/pulls/${pull.number}`).filter((r) => r.login === COORDINATOR_GITHUB.login);
    assert.ok(verified.length > 0, 'the coordinator read the PR from GitHub');
  }));

test('3. CI: My work shows the check pending, then it passes: the coordinator reads it from GitHub, the task counts and the draft is marked ready', () =>
  world.step('ci-checks', async () => {
    const wb = bob.workbench;
    const id = world.taskId(DOCS_TASK.title);
    await wb.clearNotifications();
    const [pull] = world.github.state.pulls(REPO);
    assert.ok(pull);
    const head = await git(bob.checkout, ['rev-parse', 'HEAD']);
    // CI starts on the PR's head: GitHub sends check_run "created" to the coordinator's webhook.
    const run = world.github.state.ci.addCheckRun(REPO, { head_sha: head, name: 'build', status: 'in_progress' });
    await eventually('the coordinator saw the check run pending', async () => (await world.task(id)).checks?.checks.some((c) => c.name === 'build' && c.status === 'pending' && c.url !== undefined));
    await wb.waitForTreeRow('My work', /waiting for CI/);
    // The required check is a row of its own under the task, shown (not folded away), with its state.
    const checkRow = await wb.waitForTreeRow('My work', /^\s*build\s*pending\s*$/);
    assert.match((await checkRow.getAttribute('aria-level')) ?? '', /^2$/, 'the check hangs under its task');
    await wb.widenSidebar(760);
    await wb.clearNotifications();
    await wb.screenshot('my-work-waiting-for-ci');
    await wb.widenSidebar(520);

    world.github.state.ci.updateCheckRun(run.id, { conclusion: 'success' });
    const counted = await wb.waitForNotification(/counts as opened/, 60_000);
    assert.match(counted, /proven by CI \(build\)/);
    assert.match(counted, /ready for review/);
    await wb.screenshot('counted-ready-for-review');
    const task = await world.task(id);
    assert.equal(task.state, 'pr_opened');
    assert.equal(task.pr?.evidence, 'ci');
    await eventually('the draft marked ready for review with bob\'s token', () => world.github.state.pulls(REPO)[0]?.pull.draft === false);
    const marks = world.github.state.requestsTo('POST', '/graphql').filter((r) => /markPullRequestReadyForReview/.test(String((r.body as { query?: string }).query)));
    assert.deepEqual(marks.map((r) => r.login), [BOB.login], 'marked by bob, once');

    // Nobody but the coordinator reported the checks: it read them from GitHub after the webhooks.
    const updates = (await world.journal()).filter((e) => e.type === 'pr.checks_updated' && e.task_id === id);
    assert.ok(updates.length >= 1, 'the running check was reported while it ran');
    const checkReads = world.github.state.requestsTo('GET', new RegExp(`^/repos/${REPO}/commits/${head}/check-runs`));
    assert.ok(checkReads.length > 0 && checkReads.every((r) => r.login === COORDINATOR_GITHUB.login), 'check runs read by the coordinator');
    const delivered = world.github.state.webhooks.deliveries.filter((d) => d.event === 'check_run');
    assert.ok(delivered.length >= 2 && delivered.every((d) => d.status === 200 || d.status === 202), `check_run deliveries accepted: ${JSON.stringify(delivered.map((d) => d.status))}`);
  }));
