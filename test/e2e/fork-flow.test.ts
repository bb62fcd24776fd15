/**
 * A volunteer without push access, in a real VS Code (code-server in Chromium), through the UI
 * only: join, accept an offer, make the change and Submit PR. OWP forks the repo for them with
 * their token, pushes the branch to the fork (over HTTP, like github.com), and the draft PR opens
 * against upstream's default branch from `bob:<branch>`; the pool records it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { git } from '../../client/git.ts';
import { eventually, PoolWorld, REPO, type VolunteerWindow } from './pool-world.ts';
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
    const task = await eventually('the task pr_opened', async () => {
      const t = await world.task(id);
      return t.state === 'pr_opened' ? t : undefined;
    });
    assert.equal(task.pr?.number, pull.number);
  }));
