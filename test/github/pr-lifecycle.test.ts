import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer, until } from '../helpers/coordinator.ts';
import { BOT_LOGIN, REPO, startGitHubPool, type GitHubPool, type Volunteer } from '../helpers/github-pool.ts';
import { STATUS_MARKER } from '../../coordinator/github/status-comments.ts';
import type { Offer, Task } from '../../protocol/model.ts';
import { formatLeaseDeadlineAt } from '../../protocol/vocabulary.ts';

async function task(g: GitHubPool, id: string): Promise<Task> {
  return (await g.pool.admin.call('task.get', { task_id: id })).task;
}

/** Accepts the volunteer's next offer, opens its PR on GitHub and reports it. */
async function takeToPr(g: GitHubPool, v: Volunteer, options: { verified?: boolean } = {}): Promise<{ offer: Offer; pr: { url: string; number: number } }> {
  const offer = await nextOffer(v.worker);
  const { lease } = await v.worker.accept(offer.offer_id);
  const pr = await v.openPr(offer.task, options);
  await v.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: pr.url, gates: GATES } });
  return { offer, pr };
}

function statusComments(g: GitHubPool, issue: number) {
  return g.gh.state.commentsOn(REPO, issue).filter((c) => c.body.startsWith(STATUS_MARKER));
}

describe('PR lifecycle against GitHub', () => {
  test('one status comment is edited in place through lease → PR → merge, and the merge frees the budget', async () => {
    const g = await startGitHubPool({ webhooks: true });
    try {
      await g.pool.repo(REPO, { max_open_prs: 1 });
      const s = g.gh.state;
      const first = s.addIssue(REPO, { title: 'Fix the typo', labels: ['owp'] });
      const second = s.addIssue(REPO, { title: 'Fix another typo', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');

      const offer = await nextOffer(alice.worker);
      const issue = offer.task.issue?.number as number;
      const { lease } = await alice.worker.accept(offer.offer_id);
      await g.settled();
      const leased = statusComments(g, issue);
      assert.equal(leased.length, 1);
      assert.match(leased[0]?.body ?? '', /In progress.*\[alice\]\(https:\/\/github\.com\/alice\)/);
      // The lease's time in the same words as every surface: its hard deadline, as a fixed time (a comment is not redrawn).
      assert.ok((leased[0]?.body ?? '').includes(`lease ${formatLeaseDeadlineAt(lease.max_deadline_at)})`), leased[0]?.body);
      assert.equal(leased[0]?.user, BOT_LOGIN);

      const pr = await alice.openPr(offer.task, { verified: true });
      const { task: reported } = await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: pr.url, gates: GATES } });
      assert.equal(reported.state, 'pr_opened');
      assert.equal(reported.pr?.number, pr.number);
      const provenance = (reported.pr as { x_github?: Record<string, unknown> }).x_github;
      assert.equal(provenance?.author, 'alice');
      assert.equal(provenance?.all_commits_verified, true);
      await g.settled();
      const inReview = statusComments(g, issue);
      assert.equal(inReview.length, 1);
      assert.equal(inReview[0]?.id, leased[0]?.id, 'the same comment, edited');
      assert.match(inReview[0]?.body ?? '', new RegExp(`In review.*\\[#${pr.number}\\]\\(https://github.com/${REPO}/pull/${pr.number}\\)`));

      // The open PR holds the only budget unit: the other task waits.
      const budget = (await g.pool.admin.call('repo.get', { repo: REPO })).budget;
      assert.equal(budget.open_prs, 1);
      assert.equal(budget.throttled, true);
      const otherId = (await g.pool.admin.call('task.list', { repo: REPO })).tasks.find((t) => t.issue?.number !== issue)?.id as string;
      const explained = await g.pool.admin.call('task.explain', { task_id: otherId });
      assert.equal(explained.offerable, false);
      assert.ok(explained.reasons.some((r) => r.code === 'budget_open_prs'), JSON.stringify(explained.reasons));

      s.mergePull(REPO, pr.number);
      await g.settled();
      const merged = await until(async () => ((await task(g, offer.task_id)).state === 'merged' ? true : undefined), 'task merged');
      assert.ok(merged);
      assert.equal(s.issue(REPO, issue).state, 'closed', 'GitHub closed the issue through "Closes #N"');
      const done = statusComments(g, issue);
      assert.equal(done.length, 1);
      assert.equal(done[0]?.id, leased[0]?.id);
      assert.match(done[0]?.body ?? '', /Merged.*\[alice\]/);
      const posts = s.requestsTo('POST', `/repos/${REPO}/issues/${issue}/comments`);
      const patches = s.requestsTo('PATCH', `/repos/${REPO}/issues/comments/${leased[0]?.id}`);
      assert.equal(posts.length, 1, 'exactly one comment was ever created');
      assert.ok(patches.length >= 2, `edited in place (${patches.length} edits)`);
      assert.ok(patches.every((p) => p.login === BOT_LOGIN));

      // The merge freed the budget unit and the area: the other task is offered now.
      const next = await nextOffer(alice.worker);
      assert.equal(next.task_id, otherId);
      assert.notEqual(next.task.issue?.number, issue);
      assert.ok([first, second].includes(next.task.issue?.number as number));
      assert.equal((await g.pool.admin.call('repo.get', { repo: REPO })).budget.open_prs, 0);
    } finally {
      await g.close();
    }
  });

  test('a forged or mismatched PR report is refused with PR_MISMATCH and changes nothing', async () => {
    const g = await startGitHubPool();
    try {
      const s = g.gh.state;
      s.addIssue(REPO, { title: 'Improve the docs', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');
      const mallory = await g.volunteer('mallory', { skills: ['rust'] });
      const offer = await nextOffer(alice.worker);
      const { lease } = await alice.worker.accept(offer.offer_id);
      const report = (pr: Record<string, unknown>) =>
        alice.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { gates: GATES, ...pr } as { url: string; gates: typeof GATES } }).then(
          () => ({ code: 'OK', details: {} as Record<string, unknown> }),
          (e: { code: string; details: Record<string, unknown> }) => e,
        );
      const checks = (e: { details: Record<string, unknown> }) => ((e.details.mismatches ?? []) as Array<{ check: string }>).map((m) => m.check);

      // Someone else's PR, on the right branch.
      const stolen = await mallory.openPr(offer.task);
      const byOther = await report({ url: stolen.url });
      assert.equal(byOther.code, 'PR_MISMATCH');
      assert.deepEqual(checks(byOther), ['author']);

      // A PR that does not exist.
      const missing = await report({ url: `https://github.com/${REPO}/pull/999` });
      assert.equal(missing.code, 'PR_MISMATCH');
      assert.deepEqual(checks(missing), ['exists']);

      // A PR in another repo.
      const elsewhere = await report({ url: 'https://github.com/evil/site/pull/1' });
      assert.equal(elsewhere.code, 'PR_MISMATCH');
      assert.deepEqual(checks(elsewhere), ['repo']);

      // Alice's own PR on a branch that does not follow owp/{task_id}-{slug}, without the issue.
      const sloppy = await alice.openPr(offer.task, { branch: 'my-fix', body: 'A fix.' });
      const wrong = await report({ url: sloppy.url });
      assert.equal(wrong.code, 'PR_MISMATCH');
      assert.deepEqual(checks(wrong).sort(), ['branch', 'issue']);

      // pr.number that disagrees with the URL.
      s.closePull(REPO, stolen.number);
      const good = await alice.openPr(offer.task);
      const badNumber = await report({ url: good.url, number: good.number + 100 });
      assert.deepEqual(checks(badNumber), ['number']);

      assert.equal((await task(g, offer.task_id)).state, 'leased', 'refusals changed nothing');

      // The real one passes; provenance forged by the worker is replaced by GitHub's.
      const ok = await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: good.url, gates: GATES, x_github: { all_commits_verified: true, author: 'alice' } } as { url: string; gates: typeof GATES } });
      assert.equal(ok.task.state, 'pr_opened');
      const x = (ok.task.pr as { x_github?: Record<string, unknown> }).x_github;
      assert.equal(x?.all_commits_verified, false, 'the commits are unsigned on GitHub');
      assert.equal(x?.verified_commits, 0);
      assert.equal(x?.head, good.branch);
      assert.equal(ok.task.pr?.branch, good.branch);
    } finally {
      await g.close();
    }
  });

  test('merged PRs raise trust step by step; a PR closed without merging lowers it (found by polling)', async () => {
    const g = await startGitHubPool({ github: { reputation: { promote_after_merged: 2, demote_on_closed: 1 } } });
    try {
      await g.pool.repo(REPO, { max_new_prs_per_hour: 10 });
      const s = g.gh.state;
      for (let i = 1; i <= 3; i += 1) s.addIssue(REPO, { title: `Docs fix ${i}`, labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice', { capacity: 1 });
      const trust = async () => (await g.pool.admin.call('worker.list', {})).workers.find((w) => w.github_login === 'alice')?.trust;
      assert.equal(await trust(), 0);

      for (let i = 0; i < 2; i += 1) {
        const { offer, pr } = await takeToPr(g, alice);
        s.mergePull(REPO, pr.number);
        await g.poll();
        assert.equal((await task(g, offer.task_id)).state, 'merged');
      }
      assert.equal(await trust(), 1, 'two merged PRs in a row at tier 0 → trust 1');
      const journal = await g.pool.admin.call('journal.read', { after_seq: 0, limit: 1000 });
      assert.ok(journal.events.some((e) => e.type === 'worker.trust_changed' && e.data.trust === 1));

      const { offer, pr } = await takeToPr(g, alice);
      s.closePull(REPO, pr.number);
      await g.poll();
      const closed = await task(g, offer.task_id);
      assert.equal(closed.state, 'closed');
      assert.match(closed.closed_reason ?? '', /closed on GitHub without merging/);
      assert.equal(await trust(), 0, 'a closed-unmerged PR lowers trust');
      const comment = statusComments(g, offer.task.issue?.number as number);
      assert.equal(comment.length, 1);
      assert.match(comment[0]?.body ?? '', /Closed.*without merging/);
    } finally {
      await g.close();
    }
  });

  test('requeues and blocks show in the same comment; reasons are code spans; comments stay off unless enabled', async () => {
    const g = await startGitHubPool();
    try {
      const s = g.gh.state;
      const issue = s.addIssue(REPO, { title: 'Needs care', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');
      const first = await nextOffer(alice.worker);
      const { lease } = await alice.worker.accept(first.offer_id);
      await g.settled();
      await alice.worker.release(lease.lease_id, 'out of time');
      await g.settled();
      const requeued = statusComments(g, issue);
      assert.equal(requeued.length, 1);
      assert.match(requeued[0]?.body ?? '', /Back in the queue.*\[alice\].*handed it back/);

      const again = await nextOffer(alice.worker);
      const { lease: second } = await alice.worker.accept(again.offer_id);
      await alice.worker.report(second.lease_id, { state: 'blocked', reason: 'needs @maintainer-mo and [a link](https://evil.example) `x`' });
      await g.settled();
      const blocked = statusComments(g, issue);
      assert.equal(blocked.length, 1);
      assert.equal(blocked[0]?.id, requeued[0]?.id);
      assert.match(blocked[0]?.body ?? '', /Blocked.*by \[alice\]/);
      assert.ok(blocked[0]?.body.includes('`needs @maintainer-mo and [a link](https://evil.example) x`'), blocked[0]?.body);
      assert.equal(s.requestsTo('POST', `/repos/${REPO}/issues/${issue}/comments`).length, 1);
    } finally {
      await g.close();
    }

    const quiet = await startGitHubPool({ repo: { comments: false } });
    try {
      const issue = quiet.gh.state.addIssue(REPO, { title: 'Quiet', labels: ['owp'] });
      await quiet.poll();
      const bob = await quiet.volunteer('bob');
      const offer = await nextOffer(bob.worker);
      await bob.worker.accept(offer.offer_id);
      await quiet.settled();
      assert.equal(quiet.gh.state.commentsOn(REPO, issue).length, 0);
      assert.ok(quiet.gh.state.requests.every((r) => r.method === 'GET'), 'with comments off the coordinator only reads');
    } finally {
      await quiet.close();
    }
  });
});
