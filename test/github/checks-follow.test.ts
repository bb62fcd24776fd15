/**
 * The volunteer's side of gates proven by CI (issue 15 item 2), through a real coordinator and the
 * GitHub-shaped server: the WorkerClient keeps a lease whose PR waits for checks and hears
 * `pr.checks` / `pr.counted`; `followChecks` (what `owp submit --wait` runs) stops on a failed
 * check, follows a new push to green, and the counted draft is marked ready for review with the
 * volunteer's own token. Without required checks the PR counts at once, labelled self-reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool, type GitHubPool, type Volunteer } from '../helpers/github-pool.ts';
import { evidenceLabel, followChecks, markCountedReady, prProgress, type PrProgress } from '../../client/checks-wait.ts';
import type { NotificationPayload } from '../../protocol/operations.ts';
import type { Task } from '../../protocol/model.ts';

function head(g: GitHubPool, branch: string): string {
  const sha = g.gh.state.repo(REPO).branches.get(branch)?.at(-1)?.sha;
  assert.ok(sha);
  return sha;
}

function read(v: Volunteer, taskId: string): () => Promise<Task> {
  return async () => (await v.worker.request('task.get', { task_id: taskId })).task;
}

test('a failing check stops the wait, a new push restarts it, green counts it and the draft is marked ready', async () => {
  const g = await startGitHubPool({ webhooks: true });
  try {
    await g.pool.repo(REPO, { required_checks: ['build'] });
    const s = g.gh.state;
    s.addIssue(REPO, { title: 'Fix the docs build', labels: ['owp'] });
    await g.poll();
    const alice = await g.volunteer('alice');
    const checksTold: Array<NotificationPayload<'pr.checks_updated'>> = [];
    const counted: Array<NotificationPayload<'pr.counted'>> = [];
    const lost: string[] = [];
    alice.worker.on('pr.checks', (p) => void checksTold.push(p));
    alice.worker.on('pr.counted', (p) => void counted.push(p));
    alice.worker.on('lease.lost', ({ lease }) => void lost.push(lease.lease_id));

    const offer = await nextOffer(alice.worker);
    const { lease } = await alice.worker.accept(offer.offer_id);
    const pr = await alice.openPr(offer.task);
    assert.equal(s.issue(REPO, pr.number).pull?.draft, true, 'opened as a draft');
    const { task: answer } = await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: pr.url, number: pr.number, gates: GATES } });
    assert.equal(prProgress(answer).phase, 'waiting');
    assert.ok(alice.worker.leases.has(lease.lease_id), 'the lease stays with alice while the PR waits for CI');
    assert.ok(checksTold.length >= 1 && checksTold[0]!.checks.status === 'pending');
    assert.ok(alice.worker.leases.get(lease.lease_id)?.checks_deadline_at !== undefined, 'the client holds the lease in its waiting mode');

    // The wait as `owp submit --wait` runs it: each "sleep" lets CI move on, so nothing is timed.
    const first = head(g, pr.branch);
    const seen: PrProgress[] = [];
    const steps = [async () => {
      s.ci.addCheckRun(REPO, { head_sha: first, name: 'build', conclusion: 'failure' });
      await g.settled();
    }];
    const failed = await followChecks({ read: read(alice, offer.task_id), intervalMs: 1, onChange: (p) => void seen.push(p), sleep: async () => steps.shift()!() });
    assert.equal(failed.progress.phase, 'failed');
    assert.deepEqual(seen.map((p) => p.phase), ['waiting', 'failed']);
    assert.equal(failed.progress.checks?.checks[0]?.status, 'failure');
    assert.match(failed.progress.checks?.checks[0]?.url ?? '', /^https?:\/\//, 'the failed check links its page');
    assert.ok(checksTold.some((p) => p.checks.status === 'failure'), 'the socket told alice the check failed');
    assert.ok(alice.worker.leases.has(lease.lease_id), 'a red PR keeps the task with alice');

    // The fix is pushed and submitted again: the wait restarts on the new head, green counts it.
    s.pushFiles(REPO, pr.branch, { 'docs/fix.md': 'fixed\n' }, { author: 'alice' });
    const second = head(g, pr.branch);
    await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: pr.url, number: pr.number, gates: GATES } });
    const seen2: PrProgress[] = [];
    const steps2 = [async () => {
      s.ci.addCheckRun(REPO, { head_sha: second, name: 'build', status: 'in_progress' });
      await g.settled();
    }, async () => {
      const run = s.ci.addCheckRun(REPO, { head_sha: second, name: 'build', status: 'in_progress' });
      s.ci.updateCheckRun(run.id, { conclusion: 'success' });
      await g.settled();
    }];
    const done = await followChecks({ read: read(alice, offer.task_id), intervalMs: 1, onChange: (p) => void seen2.push(p), sleep: async () => steps2.shift()!() });
    assert.equal(done.progress.phase, 'counted');
    assert.equal(done.progress.evidence, 'ci');
    assert.equal(evidenceLabel(done.progress), 'proven by CI (build)');
    assert.equal(seen2[0]?.checks?.head_sha ?? second, second);
    assert.equal(seen2.at(-1)?.phase, 'counted');
    assert.equal(counted.length, 1, 'alice is told once that the PR counts');
    assert.equal(alice.worker.leases.has(lease.lease_id), false, 'the counted lease is dropped, not heartbeated');
    await alice.worker.heartbeat(lease.lease_id);
    assert.deepEqual(lost, [], 'a lease that ended because its PR counted is not reported lost');

    // Her client marks the draft ready for review with her own token.
    const ready = await markCountedReady(counted[0]!.pr, { token: alice.githubToken, apiBaseUrl: g.gh.url });
    assert.equal(ready.changed, true);
    assert.equal(s.issue(REPO, pr.number).pull?.draft, false);
    assert.equal((await markCountedReady(counted[0]!.pr, { token: alice.githubToken, apiBaseUrl: g.gh.url })).changed, false, 'twice is harmless');
    await g.settled(); // the ready_for_review webhook reaches the coordinator before it closes
  } finally {
    await g.close();
  }
});

test('without required checks the PR counts at once and its evidence reads self-reported', async () => {
  const g = await startGitHubPool({ webhooks: true });
  try {
    await g.pool.repo(REPO, {});
    g.gh.state.addIssue(REPO, { title: 'No CI here', labels: ['owp'] });
    await g.poll();
    const bob = await g.volunteer('bob');
    const offer = await nextOffer(bob.worker);
    const { lease } = await bob.worker.accept(offer.offer_id);
    const pr = await bob.openPr(offer.task);
    const { task } = await bob.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url: pr.url, gates: GATES } });
    const progress = prProgress(task);
    assert.equal(progress.phase, 'counted');
    assert.equal(progress.evidence, 'self_reported');
    assert.match(evidenceLabel(progress), /^self-reported/);
    assert.equal(bob.worker.leases.has(lease.lease_id), false, 'the lease ended with the report');
  } finally {
    await g.close();
  }
});
