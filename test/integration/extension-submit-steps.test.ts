/**
 * The extension's Submit PR flow (extension/logic/submit-steps.ts) end to end without VS Code: a
 * real clone with a bare remote, the contract's real test command, a real push, the PR opened on
 * the GitHub-shaped server with the volunteer's token, and a pool session that records the
 * report. Only the editor's parts (messages, dialogs, the checklist pick) are scripted.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitAll, git, push } from '../../client/git.ts';
import { Submitter } from '../../extension/logic/submit-steps.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { scriptedSubmit, type ScriptedSubmit } from '../helpers/submit-io.ts';
import { startFakeGitHub, type FakeGitHub } from '../../cli/demo/github/server.ts';

const REPO = 'acme/site';
const TOKEN = 'ghp_alicetoken0000';
/** The maintainers' contract on main: the test gate must really pass (the file exists). */
const CONTRACT = 'test: test -f README.md\ngates: [tests]\npr:\n  checklist: ["Tests pass locally"]\n';

interface World extends ScriptedSubmit {
  /** Each world has its own branch: they share one GitHub, where a branch has one open PR. */
  branch: string;
  dir: string;
  remote: string;
}

let github: FakeGitHub;
let worlds = 0;

before(async () => {
  github = await startFakeGitHub({ tokens: [{ token: TOKEN, login: 'alice' }], repos: [{ full_name: REPO, collaborators: ['alice'] }] });
});

after(async () => {
  await github.close();
});

/** A bare remote with the contract on main, and a clone on the task branch with one commit. */
async function world(): Promise<World> {
  worlds += 1;
  const BRANCH = `owp/T-1-fix-typo-${worlds}`;
  const root = tempDir('owp-submit-steps-');
  const remote = join(root, 'remote.git');
  const dir = join(root, 'clone');
  await git(root, ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  await git(root, ['clone', '--quiet', remote, dir]);
  const me = { name: 'Alice', email: 'alice@example.invalid' };
  await git(dir, ['checkout', '--quiet', '-b', 'main']);
  writeFileSync(join(dir, '.owp.yml'), CONTRACT);
  writeFileSync(join(dir, 'README.md'), '# Site\n');
  await commitAll(dir, 'Initial commit', me);
  await push(dir, 'main');
  await git(dir, ['remote', 'set-head', 'origin', 'main']);
  const baseCommit = await git(dir, ['rev-parse', 'HEAD']);
  await git(dir, ['checkout', '--quiet', '-b', BRANCH]);
  writeFileSync(join(dir, 'README.md'), '# Site\n\nFixed the typo.\n');
  await commitAll(dir, 'Fix the typo', me);
  const scripted = scriptedSubmit({ repo: REPO, dir, branch: BRANCH, base: 'main', baseCommit, githubApiUrl: github.url, token: TOKEN, login: 'alice' });
  return Object.assign(scripted, { branch: BRANCH, dir, remote });
}

const pullsCreated = (): number => github.state.requestsTo('POST', `/repos/${REPO}/pulls`).filter((r) => r.status === 201).length;
const remoteHas = async (w: World, branch: string): Promise<boolean> => (await git(w.remote, ['branch', '--list', branch])).trim() !== '';

describe('extension Submit PR steps', () => {
  test('a passing branch is pushed, opened as the volunteer and reported with the gate evidence', async () => {
    const w = await world();
    const before = pullsCreated();
    await new Submitter(w.io).submit(undefined);
    assert.deepEqual(w.ran, ['push', 'report']);
    assert.ok(await remoteHas(w, w.branch), 'the branch is on the remote');
    assert.equal(pullsCreated(), before + 1);
    const creation = github.state.requestsTo('POST', `/repos/${REPO}/pulls`).at(-1)!;
    assert.equal(creation.login, 'alice');
    assert.deepEqual(w.reports[0]!.gates.map((g) => [g.name, g.passed]), [['tests', true], ['checklist', true]]);
    assert.match(w.told.at(-1)!.text, /^OWP: PR opened for T-1 \(draft\) and recorded with the pool: http/);
    assert.deepEqual(w.note, {}, 'the task\'s notes are forgotten once the PR is recorded');
  });

  test('the gates come from the contract on the default branch, not from the task branch\'s edited .owp.yml', async () => {
    const w = await world();
    // The task branch rewrites the contract so its gate always passes, and breaks what main's gate checks.
    writeFileSync(join(w.dir, '.owp.yml'), 'test: "true"\ngates: [tests]\n');
    await git(w.dir, ['rm', '--quiet', 'README.md']);
    await commitAll(w.dir, 'Edit the contract', { name: 'Alice', email: 'alice@example.invalid' });
    await new Submitter(w.io).submit('T-1');
    assert.deepEqual(w.ran, [], 'nothing pushed, nothing reported');
    assert.match(w.told.at(-1)!.text, /^OWP: T-1 was not submitted: tests failed: `test -f README\.md` exited with code 1\. Nothing was pushed/);
    assert.equal(await remoteHas(w, w.branch), false);
  });

  test('the repo\'s commands are shown before they first run and again when they change; declined, nothing runs', async () => {
    // Broken variant: without the approval step the gate command runs unseen (ran would hold 'push').
    const w = await world();
    const marker = join(w.dir, '..', 'gate-ran');
    // main's contract gate leaves a trace when it runs.
    await git(w.dir, ['checkout', '--quiet', 'main']);
    writeFileSync(join(w.dir, '.owp.yml'), `test: test -f README.md && touch ${marker}\ngates: [tests]\n`);
    await commitAll(w.dir, 'Gate leaves a trace', { name: 'Alice', email: 'alice@example.invalid' });
    await push(w.dir, 'main');
    await git(w.dir, ['checkout', '--quiet', w.branch]);
    w.approveCommands = false;
    await new Submitter(w.io).submit(undefined);
    assert.equal(w.shownCommands.length, 1);
    assert.deepEqual(w.shownCommands[0]!.lines, [`test: test -f README.md && touch ${marker}`]);
    assert.deepEqual(w.ran, [], 'declined: nothing pushed or reported');
    assert.equal(existsSync(marker), false, 'the command did not run');
    assert.match(w.told.at(-1)!.text, /nothing ran/);
    w.approveCommands = true;
    await new Submitter(w.io).submit(undefined);
    assert.equal(w.shownCommands.length, 2);
    assert.ok(existsSync(marker), 'approved: the gate ran');
    assert.deepEqual(w.ran, ['push', 'report']);
    // Same commands on another task of the repo: not asked again. Changed commands: asked again.
    const again = await world();
    again.approvals = w.approvals;
    await new Submitter(again.io).submit(undefined);
    assert.equal(again.shownCommands.length, 1, 'the default contract here differs from the one approved');
    const third = await world();
    third.approvals = again.approvals;
    await new Submitter(third.io).submit(undefined);
    assert.equal(third.shownCommands.length, 0, 'the same commands, approved before, are not asked about again');
    assert.deepEqual(third.ran, ['push', 'report']);
  });

  test('an untrusted workspace, a missing branch and a checkout on another branch stop before any command runs', async () => {
    const untrusted = await world();
    untrusted.trusted = false;
    untrusted.answers.set(/trusted workspace/, 'Manage Workspace Trust');
    await new Submitter(untrusted.io).submit(undefined);
    assert.deepEqual(untrusted.ran, ['manage-trust']);

    const noBranch = await world();
    noBranch.note = {};
    await new Submitter(noBranch.io).submit(undefined);
    assert.match(noBranch.told[0]!.text, /T-1 has no branch yet/);
    assert.deepEqual(noBranch.ran, []);

    const elsewhere = await world();
    await git(elsewhere.dir, ['checkout', '--quiet', 'main']);
    await new Submitter(elsewhere.io).submit(undefined);
    assert.match(elsewhere.told[0]!.text, /is on main, not on the task branch owp\/T-1-fix-typo-\d+/);
    assert.deepEqual(elsewhere.ran, []);
  });

  test('uncommitted work is committed only when the volunteer agrees; a branch with nothing new is not submitted', async () => {
    const w = await world();
    writeFileSync(join(w.dir, 'NOTES.md'), 'more\n');
    await new Submitter(w.io).submit(undefined);
    assert.match(w.told[0]!.text, /1 file is not committed\. Commit it to owp\/T-1-fix-typo-\d+/);
    assert.equal(w.told[0]!.modal, true);
    assert.deepEqual(w.ran, [], 'declined: nothing pushed');

    w.answers.set(/not committed/, 'Commit and submit');
    await new Submitter(w.io).submit(undefined);
    assert.deepEqual(w.ran, ['push', 'report']);
    assert.equal(await git(w.dir, ['log', '-1', '--format=%s']), 'OWP T-1: Fix the typo');

    const empty = await world();
    await git(empty.dir, ['reset', '--quiet', '--hard', empty.note.baseCommit!]);
    await new Submitter(empty.io).submit(undefined);
    assert.match(empty.told[0]!.text, /has no commits yet, so there is nothing to submit/);
    assert.deepEqual(empty.ran, []);
  });

  test('a failed report keeps the open PR: the next Submit PR only records it, without gates, push or a second PR', async () => {
    const w = await world();
    w.failReport = true;
    const submitter = new Submitter(w.io);
    await submitter.submit(undefined);
    assert.match(w.told.at(-1)!.text, /the PR is open \(http.*\) but the pool has not recorded it/);
    assert.ok(w.note.prUrl, 'the PR URL is kept with the task');
    const prs = pullsCreated();
    w.failReport = false;
    w.ran = [];
    await submitter.submit(undefined);
    assert.deepEqual(w.ran, ['report'], 'only the report is retried');
    assert.equal(pullsCreated(), prs, 'no second PR');
    assert.match(w.told.at(-1)!.text, /^OWP: the pool recorded the PR http/);
  });
});
