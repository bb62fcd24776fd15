/**
 * Gates proven by CI on GitHub (SPEC §5.5 CHECKS-*, issue 15): in a repo with required checks a
 * verified PR waits on its lease until every required check run / commit status succeeded on the
 * PR's *current* head, as the coordinator reads them back from the GitHub-shaped server; webhooks
 * and polling each get it there. Fork PRs are verified and recorded with their head repo.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { branchName } from '../../protocol/branch-name.ts';
import { DEFAULT_CONTRACT } from '../../client/contract.ts';
import { openPullRequest } from '../../client/pull-request.ts';
import { GATES, nextOffer, until } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool, type GitHubPool, type Volunteer } from '../helpers/github-pool.ts';
import type { Offer, PrChecks, Task } from '../../protocol/model.ts';

const REQUIRED = ['build', 'test (ubuntu-latest)'];

async function task(g: GitHubPool, id: string): Promise<Task> {
  return (await g.pool.admin.call('task.get', { task_id: id })).task;
}

function branchHead(g: GitHubPool, repo: string, branch: string): string {
  const sha = g.gh.state.repo(repo).branches.get(branch)?.at(-1)?.sha;
  assert.ok(sha, `${repo} has branch ${branch}`);
  return sha;
}

/** What the worker's socket is told, in order. */
function told(v: Volunteer): Array<{ name: string; payload: Record<string, unknown> }> {
  const seen: Array<{ name: string; payload: Record<string, unknown> }> = [];
  for (const name of ['pr.checks_updated', 'pr.counted']) v.worker.socket.on(name, (payload: Record<string, unknown>) => void seen.push({ name, payload }));
  return seen;
}

async function takeToPr(g: GitHubPool, v: Volunteer): Promise<{ offer: Offer; pr: { url: string; number: number; branch: string }; answer: Task }> {
  const offer = await nextOffer(v.worker);
  const { lease } = await v.worker.accept(offer.offer_id);
  const pr = await v.openPr(offer.task);
  const { task: answer } = await v.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: pr.url, gates: GATES } });
  return { offer, pr, answer };
}

describe('CI checks decide when a PR counts', () => {
  for (const via of ['webhooks', 'polling'] as const) {
    test(`red, then a new push, then green on the new head counts the PR (${via})`, async () => {
      const g = await startGitHubPool({ webhooks: via === 'webhooks' });
      // Deliveries are hints; with webhooks off only a poll looks at GitHub.
      const look = async (): Promise<void> => (via === 'webhooks' ? g.settled() : g.poll());
      try {
        await g.pool.repo(REPO, { required_checks: REQUIRED });
        const s = g.gh.state;
        s.addIssue(REPO, { title: 'Fix the build', labels: ['owp'] });
        await g.poll();
        const alice = await g.volunteer('alice');
        const notes = told(alice);
        const { offer, pr, answer } = await takeToPr(g, alice);
        const first = branchHead(g, REPO, pr.branch);

        // Attached, not counted: the task stays with alice, waiting for both checks on the head GitHub shows.
        assert.equal(answer.state, 'leased');
        assert.equal(answer.checks?.status, 'pending');
        assert.deepEqual(answer.checks?.checks.map((c) => c.name), REQUIRED);
        assert.equal(answer.pr?.head_sha, first);
        assert.equal(answer.pr?.head_repo, REPO);
        assert.equal(answer.pr?.evidence, undefined);

        // CI: build passes (a check run), the tests fail (a commit status).
        const run = s.ci.addCheckRun(REPO, { head_sha: first, name: 'build', status: 'in_progress' });
        s.ci.updateCheckRun(run.id, { conclusion: 'success' });
        s.ci.setStatus(REPO, first, { context: 'test (ubuntu-latest)', state: 'failure', target_url: 'https://ci.example/runs/1' });
        await look();
        let t = await until(async () => ((await task(g, offer.task_id)).checks?.status === 'failure' ? task(g, offer.task_id) : undefined), 'the failed check is recorded');
        assert.equal(t.state, 'leased', 'a red PR does not count; the task stays with its volunteer');
        assert.deepEqual(t.checks?.checks.map((c) => [c.name, c.status]), [['build', 'success'], ['test (ubuntu-latest)', 'failure']]);
        assert.match(t.checks?.checks[0]?.url ?? '', /^https?:\/\//, 'a check run links its page');
        assert.equal(t.checks?.checks[1]?.url, 'https://ci.example/runs/1', 'a status links its target_url');
        await until(() => notes.some((n) => n.name === 'pr.checks_updated' && (n.payload.checks as PrChecks).status === 'failure'), 'alice is told the check failed');

        // The fix is pushed: the PR's head moves, the wait restarts on it.
        s.pushFiles(REPO, pr.branch, { 'docs/fix.md': 'fixed\n' }, { author: 'alice' });
        const second = branchHead(g, REPO, pr.branch);
        await look();
        t = await until(async () => ((await task(g, offer.task_id)).checks?.head_sha === second ? task(g, offer.task_id) : undefined), 'the wait moves to the new head');
        assert.equal(t.checks?.status, 'pending');
        const journal = await g.pool.admin.call('journal.read', { after_seq: 0, limit: 1000 });
        assert.ok(journal.events.some((e) => e.type === 'pr.checks_updated' && e.data.restarted === true), 'the new head restarted the wait');

        // Green on the old head means nothing now.
        s.ci.setStatus(REPO, first, { context: 'test (ubuntu-latest)', state: 'success' });
        await look();
        assert.equal((await task(g, offer.task_id)).state, 'leased');

        // Green on the new head: the PR counts, proven by CI.
        s.ci.addCheckRun(REPO, { head_sha: second, name: 'build', conclusion: 'success' });
        s.ci.setStatus(REPO, second, { context: 'test (ubuntu-latest)', state: 'success' });
        await look();
        t = await until(async () => ((await task(g, offer.task_id)).state === 'pr_opened' ? task(g, offer.task_id) : undefined), 'the PR counts');
        assert.equal(t.pr?.evidence, 'ci');
        assert.equal(t.pr?.head_sha, second);
        await until(() => notes.find((n) => n.name === 'pr.counted'), 'alice is told the PR counts (her client marks the draft ready)');
      } finally {
        await g.close();
      }
    });
  }

  for (const via of ['webhooks', 'polling'] as const) {
    test(`a PR closed while it waits for checks: the lease is cancelled, the task goes back to ready and the volunteer is told why (${via})`, async () => {
      const g = await startGitHubPool({ webhooks: via === 'webhooks' });
      try {
        await g.pool.repo(REPO, { required_checks: ['build'] });
        const s = g.gh.state;
        s.addIssue(REPO, { title: 'Closed under way', labels: ['owp'] });
        await g.poll();
        const alice = await g.volunteer('alice');
        const cancelled: Array<{ lease_id: string; reason: string }> = [];
        alice.worker.on('lease.cancelled', (p) => void cancelled.push(p));
        const { offer, pr, answer } = await takeToPr(g, alice);
        assert.equal(answer.checks?.status, 'pending');
        s.ci.addCheckRun(REPO, { head_sha: branchHead(g, REPO, pr.branch), name: 'build', status: 'in_progress' });
        await (via === 'webhooks' ? g.settled() : g.poll());
        assert.equal((await task(g, offer.task_id)).state, 'leased', 'still waiting while CI runs');

        s.closePull(REPO, pr.number, 'maintainer-mo');
        await (via === 'webhooks' ? g.settled() : g.poll());
        // Back to ready, and offered again at once (alice is free and eligible).
        const t = await until(async () => {
          const now = await task(g, offer.task_id);
          return now.attempts === 1 && (now.state === 'ready' || now.state === 'offered') ? now : undefined;
        }, 'the task is back in the pool');
        assert.equal(t.pr, undefined, 'the closed PR is not the task\'s any more');
        const told = await until(() => cancelled[0], 'alice is told');
        assert.match(told.reason, new RegExp(`PR #${pr.number} was closed on GitHub before its required checks passed`));
        // The PR never counted: no pr.opened, and the budget unit is free again.
        const journal = await g.pool.admin.call('journal.read', { after_seq: 0, limit: 1000 });
        assert.ok(!journal.events.some((e) => e.type === 'pr.opened'), 'never counted');
        const repo = await g.pool.admin.call('repo.get', { repo: REPO });
        assert.equal(repo.budget.open_prs + repo.budget.live_leases, 0, 'nothing held');
      } finally {
        await g.close();
      }
    });
  }

  for (const via of ['webhooks', 'polling'] as const) {
    test(`a PR merged while it waits for checks: the task completes as merged, the volunteer is told and credited (${via})`, async () => {
      const g = await startGitHubPool({ webhooks: via === 'webhooks', github: { reputation: { promote_after_merged: 1 } } });
      try {
        await g.pool.repo(REPO, { required_checks: ['build'] });
        const s = g.gh.state;
        s.addIssue(REPO, { title: 'Merged under way', labels: ['owp'] });
        await g.poll();
        const alice = await g.volunteer('alice');
        const notes = told(alice);
        const { offer, pr, answer } = await takeToPr(g, alice);
        assert.equal(answer.checks?.status, 'pending');
        s.ci.addCheckRun(REPO, { head_sha: branchHead(g, REPO, pr.branch), name: 'build', status: 'in_progress' });
        await (via === 'webhooks' ? g.settled() : g.poll());
        assert.equal((await task(g, offer.task_id)).state, 'leased', 'still waiting while CI runs');

        // The maintainers merge it anyway: their decision, not CI's.
        s.mergePull(REPO, pr.number, 'maintainer-mo');
        await (via === 'webhooks' ? g.settled() : g.poll());
        const t = await until(async () => ((await task(g, offer.task_id)).state === 'merged' ? task(g, offer.task_id) : undefined), 'the task completes as merged');
        assert.equal(t.pr?.evidence, 'maintainer', 'neither CI nor the volunteer proved it: the maintainers merged it');
        assert.equal(t.lease, undefined, 'the lease ended');
        const counted = await until(() => notes.find((n) => n.name === 'pr.counted'), 'alice is told (her client lets the lease go)');
        assert.equal((counted.payload.pr as { evidence?: string }).evidence, 'maintainer');
        const { prs } = await alice.worker.request('worker.prs', {});
        assert.deepEqual(prs.map((p) => [p.task_id, p.state]), [[offer.task_id, 'merged']], 'her submitted PRs show it merged');
        // Journaled as counted, then merged; nothing held any more; trust as for any merge.
        const journal = await g.pool.admin.call('journal.read', { after_seq: 0, limit: 1000 });
        const types = journal.events.filter((e) => e.task_id === offer.task_id).map((e) => e.type);
        assert.deepEqual(types.slice(-2), ['pr.opened', 'task.merged']);
        const repo = await g.pool.admin.call('repo.get', { repo: REPO });
        assert.equal(repo.budget.open_prs + repo.budget.live_leases, 0, 'nothing held');
        await g.settled();
        const me = (await g.pool.admin.call('worker.list', {})).workers.find((w) => w.github_login === 'alice');
        assert.equal(me?.trust, 1, 'one merged PR at tier 0 raises trust, as for a merge after CI');
      } finally {
        await g.close();
      }
    });
  }

  test('a failed or cancelled check run fails the gate; neutral and skipped pass, as branch protection has it', async () => {
    const g = await startGitHubPool({ webhooks: true });
    try {
      await g.pool.repo(REPO, { required_checks: ['lint', 'docs', 'e2e'] });
      const s = g.gh.state;
      s.addIssue(REPO, { title: 'Conclusions', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');
      const { offer, pr } = await takeToPr(g, alice);
      const head = branchHead(g, REPO, pr.branch);
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'lint', conclusion: 'neutral' });
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'docs', conclusion: 'skipped' });
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'e2e', conclusion: 'cancelled' });
      await g.settled();
      const t = await until(async () => ((await task(g, offer.task_id)).checks?.status === 'failure' ? task(g, offer.task_id) : undefined), 'cancelled fails');
      assert.deepEqual(t.checks?.checks.map((c) => [c.name, c.status]), [['lint', 'success'], ['docs', 'success'], ['e2e', 'failure']]);
      // A re-run that passes (the latest run of a name is the one in force) counts the PR.
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'e2e', conclusion: 'success' });
      await g.settled();
      await until(async () => (await task(g, offer.task_id)).state === 'pr_opened', 'the re-run counts');
    } finally {
      await g.close();
    }
  });

  test('a PR from a fork is verified, recorded with its head repo, and counts on its checks', async () => {
    const g = await startGitHubPool({ webhooks: true });
    try {
      await g.pool.repo(REPO, { required_checks: ['build'] });
      const s = g.gh.state;
      s.addIssue(REPO, { title: 'From a fork', labels: ['owp'] });
      await g.poll();
      const bob = await g.volunteer('bob');
      s.addRepo({ full_name: 'bob/site', fork_of: REPO });
      const offer = await nextOffer(bob.worker);
      const { lease } = await bob.worker.accept(offer.offer_id);
      const branch = branchName(DEFAULT_CONTRACT.branch, { task_id: offer.task.id, title: offer.task.title });
      s.addBranch('bob/site', branch, { commits: [{ author: 'bob' }] });
      const opened = await openPullRequest({ token: bob.githubToken, owner: 'acme', repo: 'site', head: `bob:${branch}`, base: 'main', task: offer.task, contract: DEFAULT_CONTRACT, apiBaseUrl: g.gh.url, attribution: 'Opened by bob via OWP' });
      const { task: answer } = await bob.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: opened.url, gates: GATES, head_repo: 'acme/site', head_sha: '0'.repeat(40) } });
      const head = branchHead(g, 'bob/site', branch);
      assert.equal(answer.pr?.head_repo, 'bob/site', 'the fork, as GitHub says, not what the worker claimed');
      assert.equal(answer.pr?.head_sha, head);
      assert.equal(answer.pr?.branch, branch);
      assert.equal(answer.checks?.status, 'pending');
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'build', conclusion: 'success' });
      await g.settled();
      const t = await until(async () => ((await task(g, offer.task_id)).state === 'pr_opened' ? task(g, offer.task_id) : undefined), 'the fork PR counts');
      assert.equal(t.pr?.head_repo, 'bob/site');
      assert.equal(t.pr?.evidence, 'ci');
    } finally {
      await g.close();
    }
  });

  test('a PR still red at the checks deadline goes back to its volunteer (heartbeats again), and counts if it turns green later', async () => {
    const g = await startGitHubPool({ webhooks: true });
    try {
      await g.pool.repo(REPO, { required_checks: ['build'], checks_timeout_ms: 1000 });
      const s = g.gh.state;
      s.addIssue(REPO, { title: 'Slow CI', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');
      const notes = told(alice);
      const { offer, pr } = await takeToPr(g, alice);
      const head = branchHead(g, REPO, pr.branch);
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'build', conclusion: 'failure' });
      await g.settled();
      const t = await until(async () => ((await task(g, offer.task_id)).checks?.timed_out_at !== undefined ? task(g, offer.task_id) : undefined), 'the checks deadline passes');
      assert.equal(t.state, 'leased', 'not requeued, not counted: still alice\'s');
      assert.equal(t.lease?.worker_id, alice.worker.worker?.id);
      await until(() => notes.some((n) => n.name === 'pr.checks_updated' && (n.payload.checks as PrChecks).timed_out_at !== undefined), 'alice is told to look at her PR again');
      const hb = await alice.worker.request('lease.heartbeat', { lease_id: t.lease?.lease_id as string, epoch: t.epoch });
      assert.ok(hb.lease.expires_at > Date.now(), 'the lease is in heartbeat mode again');
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'build', conclusion: 'success' });
      await g.settled();
      const counted = await until(async () => ((await task(g, offer.task_id)).state === 'pr_opened' ? task(g, offer.task_id) : undefined), 'green after the deadline still counts');
      assert.equal(counted.pr?.evidence, 'ci');
    } finally {
      await g.close();
    }
  });

  test('without required checks a PR counts on the worker\'s word, labelled self_reported', async () => {
    const g = await startGitHubPool();
    try {
      g.gh.state.addIssue(REPO, { title: 'No CI here', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');
      const { answer, pr } = await takeToPr(g, alice);
      assert.equal(answer.state, 'pr_opened');
      assert.equal(answer.pr?.evidence, 'self_reported');
      assert.equal(answer.pr?.head_sha, branchHead(g, REPO, pr.branch));
      assert.equal(answer.checks, undefined);
    } finally {
      await g.close();
    }
  });
});
