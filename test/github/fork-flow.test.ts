/**
 * PRs from forks, the volunteer's side (client/fork.ts, branch-push.ts, publish.ts), through the
 * GitHub-shaped server and real git over HTTP: without push access the branch goes to the
 * volunteer's fork — found, found under another name, or created (GitHub makes it
 * asynchronously) — pushed with their token (never written to .git/config), and the PR opens
 * against upstream's default branch with `head: "alice:<branch>"`, as a draft. With push access
 * it goes upstream; `fork` / `upstream` force either. Refusals say what happened and what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONTRACT } from '../../client/contract.ts';
import { ForkError } from '../../client/fork.ts';
import { PushError, pushBranch } from '../../client/branch-push.ts';
import { volunteerOctokit } from '../../client/github-api.ts';
import { git } from '../../client/git.ts';
import { publishBranch, type PublishInput } from '../../client/publish.ts';
import { openPullRequest } from '../../client/pull-request.ts';
import { startForkWorld, UPSTREAM, type ForkWorld } from '../helpers/fork-world.ts';

const ALICE = { token: 'ghp_alice_fork_flow_000000000000000000', login: 'alice' };
const MO = { token: 'ghp_mo_maintainer_000000000000000000000', login: 'maintainer-mo' };
const TASK = { id: 'T-1', title: 'Fix the README', body: 'Say how to install.', issue: { number: 7, url: `https://github.com/${UPSTREAM}/issues/7` } };

/** A clock the waits move instead of sleeping; `onSleep` runs at each pause (GitHub finishing a fork). */
function fakeTime(onSleep: (n: number) => void = () => undefined): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    slept,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
      onSleep(slept.length);
    },
  };
}

function input(w: ForkWorld, token: { token: string; login: string }, extra: Partial<PublishInput> = {}): PublishInput {
  return {
    octokit: volunteerOctokit({ token: token.token, apiBaseUrl: w.gh.url }),
    token: token.token,
    upstream: { owner: 'acme', repo: 'site' },
    mode: 'auto',
    dir: w.clone,
    branch: w.branch,
    // The volunteer's own credentials for upstream stand in as their token on the origin remote.
    pushUpstream: async () => void (await pushBranch({ dir: w.clone, branch: w.branch, url: await git(w.clone, ['remote', 'get-url', 'origin']), token: token.token, remoteName: 'origin' })),
    ...extra,
  };
}

async function openPr(w: ForkWorld, head: string, base: string): Promise<{ url: string; number: number; draft: boolean; existing?: boolean }> {
  return openPullRequest({ token: ALICE.token, owner: 'acme', repo: 'site', head, base, task: TASK, contract: DEFAULT_CONTRACT, apiBaseUrl: w.gh.url });
}

test('no push access and no fork: the fork is created, waited for, pushed to with the token, and the draft PR opens from alice:<branch>', async () => {
  const time = fakeTime((n) => {
    if (n === 2) w.gh.state.finishFork('alice/site');
  });
  const w = await startForkWorld({ tokens: [ALICE], fake: { forks: 'manual' } });
  try {
    const head = await w.shaIn(UPSTREAM, 'main');
    const published = await publishBranch(input(w, ALICE, { waiting: { now: time.now, sleep: time.sleep, intervalMs: 500 } }));
    assert.deepEqual([published.target.kind, published.target.owner, published.target.repo, published.target.created, published.target.base], ['fork', 'alice', 'site', true, 'main']);
    assert.equal(published.head, `alice:${w.branch}`);
    assert.match(published.target.reason, /no push access to acme\/site: forked acme\/site to alice\/site/);

    // Forked once, with only the default branch; GitHub's 404s while it was being made were waited out.
    const forks = w.gh.state.requestsTo('POST', '/repos/acme/site/forks');
    assert.deepEqual(forks.map((r) => [r.login, r.status, r.body]), [['alice', 202, { default_branch_only: true }]]);
    assert.deepEqual(w.gh.state.requestsTo('GET', '/repos/alice/site').map((r) => r.status), [404, 404, 404, 200], 'looked up, then polled until ready');
    assert.deepEqual(time.slept, [500, 1000]);

    // The branch is in the fork, not upstream; the push went over HTTP as alice.
    const local = await git(w.clone, ['rev-parse', 'HEAD']);
    assert.equal(await w.shaIn('alice/site', w.branch), local);
    assert.equal(await w.shaIn(UPSTREAM, w.branch), undefined);
    assert.equal(await w.shaIn(UPSTREAM, 'main'), head);
    const pushes = w.gitHttp.requests.filter((r) => r.service === 'git-receive-pack' && r.method === 'POST');
    assert.deepEqual(pushes.map((r) => [r.path, r.login, r.status]), [['/alice/site.git/git-receive-pack', 'alice', 200]]);
    // A named remote for the fork, with no secret in the repository's config.
    assert.equal(published.remote, 'alice');
    assert.match(w.gitConfig(), /\[remote "alice"\]\n\turl = http:\/\/127\.0\.0\.1:\d+\/alice\/site\.git/);
    assert.ok(!w.gitConfig().includes(ALICE.token) && !/extraheader/i.test(w.gitConfig()), 'no token in .git/config');

    // The PR: against upstream's default branch, head from the fork, draft, opened as alice.
    const pr = await openPr(w, published.head, published.target.base);
    assert.equal(pr.draft, true);
    const { data } = await volunteerOctokit({ token: ALICE.token, apiBaseUrl: w.gh.url }).rest.pulls.get({ owner: 'acme', repo: 'site', pull_number: pr.number });
    assert.deepEqual([data.head.label, data.head.repo?.full_name, data.head.sha, data.base.ref, data.user?.login], [`alice:${w.branch}`, 'alice/site', local, 'main', 'alice']);
    assert.deepEqual((w.gh.state.requestsTo('POST', '/repos/acme/site/pulls')[0]!.body as { head: string }).head, `alice:${w.branch}`);
  } finally {
    await w.close();
  }
});

test('an existing fork is found by name, or in the fork list when renamed; a same-named repo that is no fork is not taken for one', async () => {
  const byName = await startForkWorld({ tokens: [ALICE], repos: [{ full_name: 'alice/site', fork_of: UPSTREAM }] });
  try {
    const published = await publishBranch(input(byName, ALICE));
    assert.deepEqual([published.target.owner, published.target.repo, published.target.created], ['alice', 'site', false]);
    assert.equal(byName.gh.state.requestsTo('POST', '/repos/acme/site/forks').length, 0, 'no fork made');
    assert.equal(await byName.shaIn('alice/site', byName.branch), await git(byName.clone, ['rev-parse', 'HEAD']));
  } finally {
    await byName.close();
  }

  // alice/site is alice's own project; her fork of acme/site is alice/website.
  const renamed = await startForkWorld({ tokens: [ALICE], repos: [{ full_name: 'alice/site' }, { full_name: 'alice/website', fork_of: UPSTREAM }] });
  try {
    const published = await publishBranch(input(renamed, ALICE));
    assert.deepEqual([published.target.owner, published.target.repo, published.head], ['alice', 'website', `alice:${renamed.branch}`]);
    assert.equal(renamed.gh.state.requestsTo('GET', '/repos/acme/site/forks').length, 1);
    assert.equal(await renamed.shaIn('alice/site', renamed.branch), undefined, 'her own project is untouched');
    assert.ok(await renamed.shaIn('alice/website', renamed.branch));
  } finally {
    await renamed.close();
  }

  // No fork at all, and the name is taken: GitHub names the new fork site-1.
  const taken = await startForkWorld({ tokens: [ALICE], repos: [{ full_name: 'alice/site' }] });
  try {
    const published = await publishBranch(input(taken, ALICE));
    assert.deepEqual([published.target.repo, published.target.created], ['site-1', true]);
    assert.ok(await taken.shaIn('alice/site-1', taken.branch));
  } finally {
    await taken.close();
  }
});

test('push access decides: a collaborator pushes upstream; `fork` forces the fork, `upstream` forces upstream', async () => {
  const w = await startForkWorld({ tokens: [ALICE, MO], upstream: { collaborators: ['maintainer-mo'] } });
  try {
    const auto = await publishBranch(input(w, MO));
    assert.deepEqual([auto.target.kind, auto.head, auto.target.reason], ['upstream', w.branch, 'you have push access to acme/site']);
    assert.ok(await w.shaIn(UPSTREAM, w.branch), 'pushed upstream');

    const forced = await publishBranch(input(w, MO, { mode: 'fork' }));
    assert.deepEqual([forced.target.kind, forced.target.owner, forced.head], ['fork', 'maintainer-mo', `maintainer-mo:${w.branch}`]);
    assert.match(forced.target.reason, /^forced: forked acme\/site to maintainer-mo\/site$/);

    // alice may not push upstream: forcing it reports git's refusal, with no fork made for her.
    await assert.rejects(publishBranch(input(w, ALICE, { mode: 'upstream' })), (e: unknown) => e instanceof PushError && e.code === 'PUSH_AUTH_FAILED' && /Permission to acme\/site\.git denied to alice/.test(e.message));
    assert.equal(w.gh.state.findRepo('alice/site'), undefined);
  } finally {
    await w.close();
  }
});

test('refusals say what happened: forking disabled or not allowed for the token, a fork never ready, a push the fork rejects', async () => {
  const disabled = await startForkWorld({ tokens: [ALICE], upstream: { allow_forking: false } });
  try {
    await assert.rejects(publishBranch(input(disabled, ALICE)), (e: unknown) => e instanceof ForkError && e.code === 'FORK_REFUSED' && /acme\/site does not allow forks, and you have no push access to it/.test(e.message));
  } finally {
    await disabled.close();
  }

  const readOnly = { token: 'ghp_alice_read_only_00000000000000000', login: 'alice', permissions: { contents: 'read' as const } };
  const noRight = await startForkWorld({ tokens: [readOnly] });
  try {
    await assert.rejects(publishBranch(input(noRight, readOnly)), (e: unknown) => {
      assert.ok(e instanceof ForkError);
      assert.equal(e.code, 'FORK_REFUSED');
      assert.equal(e.status, 403);
      assert.match(e.message, /GitHub refused to fork acme\/site for alice \(403: Resource not accessible by personal access token\)\. Your token may lack the right to create repositories/);
      return true;
    });
    assert.equal(await noRight.shaIn(UPSTREAM, noRight.branch), undefined, 'nothing pushed');
  } finally {
    await noRight.close();
  }

  // GitHub never finishes the fork: give up after the timeout, nothing pushed.
  const time = fakeTime();
  const never = await startForkWorld({ tokens: [ALICE], fake: { forks: 'manual' } });
  try {
    await assert.rejects(publishBranch(input(never, ALICE, { waiting: { now: time.now, sleep: time.sleep, timeoutMs: 60_000 } })), (e: unknown) => e instanceof ForkError && e.code === 'FORK_NOT_READY' && /has not finished forking to alice\/site after 60 s/.test(e.message));
    assert.equal(time.slept.reduce((a, b) => a + b, 0), 60_000);
    assert.equal(never.gitHttp.requests.filter((r) => r.service === 'git-receive-pack').length, 0);
  } finally {
    await never.close();
  }

  // The fork's branch moved on (pushed from elsewhere): the push is rejected with how to catch up.
  const diverged = await startForkWorld({ tokens: [ALICE], repos: [{ full_name: 'alice/site', fork_of: UPSTREAM }] });
  try {
    await publishBranch(input(diverged, ALICE));
    await git(diverged.clone, ['commit', '--quiet', '--amend', '-m', 'Rewritten', '--allow-empty']);
    await assert.rejects(publishBranch(input(diverged, ALICE)), (e: unknown) => e instanceof PushError && e.code === 'PUSH_REJECTED' && /rejected .*pull them into owp\/T-1-fix-the-readme \(git pull alice owp\/T-1-fix-the-readme\)/.test(e.message));
  } finally {
    await diverged.close();
  }
});

test('a fork whose git objects GitHub is still copying: the first pushes are refused and retried until they land', async () => {
  const time = fakeTime();
  const w = await startForkWorld({ tokens: [ALICE], gitNotReadyFor: 2 });
  try {
    const published = await publishBranch(input(w, ALICE, { waiting: { now: time.now, sleep: time.sleep, intervalMs: 200 } }));
    assert.equal(published.target.created, true);
    assert.deepEqual(time.slept, [200, 400], 'two refused pushes, waited out');
    assert.equal(await w.shaIn('alice/site', w.branch), await git(w.clone, ['rev-parse', 'HEAD']));

    // A second submit after a new commit: the PR for the head is already open and is reused.
    const first = await openPr(w, published.head, 'main');
    await git(w.clone, ['-c', 'user.name=Alice', '-c', 'user.email=alice@example.invalid', 'commit', '--quiet', '--allow-empty', '-m', 'Address review']);
    const again = await publishBranch(input(w, ALICE));
    assert.equal(again.target.created, false);
    const second = await openPr(w, again.head, 'main');
    assert.deepEqual([second.number, second.existing], [first.number, true]);
    assert.equal(w.gh.state.pulls(UPSTREAM).length, 1);
  } finally {
    await w.close();
  }
});
