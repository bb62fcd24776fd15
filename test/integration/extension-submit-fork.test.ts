/**
 * The extension's Submit PR for a volunteer without push access (extension/logic/submit-steps.ts
 * with the owp.pushTarget setting): the gates run, the branch goes to the volunteer's fork (made
 * for them) with their token rather than through the editor's Git to upstream, the draft PR opens
 * against upstream's default branch from `alice:<branch>`, and the pool gets the report. A fork
 * GitHub refuses stops before any PR, saying why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { git } from '../../client/git.ts';
import { Submitter } from '../../extension/logic/submit-steps.ts';
import { startForkWorld, UPSTREAM, type ForkWorld } from '../helpers/fork-world.ts';
import { scriptedSubmit } from '../helpers/submit-io.ts';

const ALICE = { token: 'ghp_alice_extension_fork_0000000000000', login: 'alice' };
const CONTRACT = 'test: test -f README.md\ngates: [tests]\n';

async function world(upstream: { allow_forking?: boolean } = {}): Promise<ForkWorld> {
  return startForkWorld({ tokens: [ALICE], upstream, files: { '.owp.yml': CONTRACT, 'README.md': '# Site\n' } });
}

function submitter(w: ForkWorld, pushTarget: 'auto' | 'fork' | 'upstream' = 'auto') {
  return git(w.clone, ['rev-parse', 'main']).then((baseCommit) =>
    scriptedSubmit({ repo: UPSTREAM, dir: w.clone, branch: w.branch, base: 'main', baseCommit, githubApiUrl: w.gh.url, token: ALICE.token, login: ALICE.login, pushTarget }),
  );
}

test('without push access, Submit PR forks, pushes to the fork with the token and opens the draft from alice:<branch>', async () => {
  const w = await world();
  try {
    const s = await submitter(w);
    await new Submitter(s.io).submit(undefined);
    assert.deepEqual(s.ran, ['report'], 'the editor\'s own push to upstream is not used');
    assert.match(s.told.at(-1)!.text, /^OWP: PR opened for T-1 \(draft\) and recorded with the pool: http/);
    assert.equal(await w.shaIn('alice/site', w.branch), await git(w.clone, ['rev-parse', 'HEAD']));
    assert.equal(await w.shaIn(UPSTREAM, w.branch), undefined);
    const [pull] = w.gh.state.pulls(UPSTREAM);
    assert.deepEqual([pull!.user, pull!.pull.head_repo, pull!.pull.head_ref, pull!.pull.base_ref, pull!.pull.draft], ['alice', 'alice/site', w.branch, 'main', true]);
    assert.equal(s.reports[0]!.url, `${w.gitHttp.url}/${UPSTREAM}/pull/${pull!.number}`);
    assert.deepEqual(s.reports[0]!.gates.map((g) => [g.name, g.passed]), [['tests', true], ['checklist', true]]);
    assert.ok(!w.gitConfig().includes(ALICE.token));
  } finally {
    await w.close();
  }
});

test('forking refused: the gates passed, the push did not, and no PR is opened; forcing upstream uses the editor\'s Git', async () => {
  const w = await world({ allow_forking: false });
  try {
    const s = await submitter(w);
    await new Submitter(s.io).submit(undefined);
    assert.deepEqual(s.ran, []);
    assert.match(s.told.at(-1)!.text, /^OWP: the gates passed, but the push did not: acme\/site does not allow forks, and you have no push access to it\. .* No PR was opened; the task stays in progress\.$/);
    assert.equal(w.gh.state.pulls(UPSTREAM).length, 0);

    // owp.pushTarget = upstream: the editor's Git pushes to origin (and GitHub refuses alice).
    const forced = await submitter(w, 'upstream');
    await new Submitter(forced.io).submit(undefined);
    assert.deepEqual(forced.ran, ['push']);
    assert.match(forced.told.at(-1)!.text, /^OWP: the gates passed, but the push did not: Pushing owp\/T-1-fix-the-readme to origin was refused/);
  } finally {
    await w.close();
  }
});
