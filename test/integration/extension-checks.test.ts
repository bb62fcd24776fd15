/**
 * The extension's side of gates proven by CI (issue 15 item 2), without VS Code: one editor
 * window's PoolSession against a real coordinator and the GitHub-shaped server. The task's
 * required checks appear under it in My work (rows with links, the description saying it waits),
 * a failed check gives one warning with its link (not again for the same failure), and when the
 * PR counts the session says so and the volunteer's draft is marked ready with their token. The
 * checks are reported as the coordinator's GitHub integration reports them (task.report_checks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoolSession, type IdentityStore, type WorkerIdentity, type PoolSessionEvents } from '../../extension/logic/pool-session.ts';
import { checkItems, checksDescription, countedNotice, failureNotices, submittedTail } from '../../extension/logic/checks-items.ts';
import { markCountedReady } from '../../client/checks-wait.ts';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { GATES, startPool, until } from '../helpers/coordinator.ts';
import type { Offer } from '../../protocol/model.ts';

class MemoryIdentityStore implements IdentityStore {
  saved: { identity: WorkerIdentity; token: string } | undefined;
  async load() {
    return this.saved ? structuredClone(this.saved) : undefined;
  }
  async save(identity: WorkerIdentity, token: string) {
    this.saved = { identity: { ...identity }, token };
  }
  async clear() {
    this.saved = undefined;
  }
}

const REPO = 'acme/site';
const SHA1 = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);

test('My work shows the waiting checks, a failure warns once with its link, counting marks the draft ready', async () => {
  const pool = await startPool();
  const gh = await startFakeGitHub({ tokens: [{ token: 'ghp_alice', login: 'alice' }], repos: [REPO] });
  const session = new PoolSession(new MemoryIdentityStore(), { client: { reconnectionDelayMs: 100, reconnectionDelayMaxMs: 300 }, relistDelayMs: 20 });
  try {
    await pool.repo(REPO, { required_checks: ['build', 'docs **lint**'] });
    await session.join(pool.url, { github_login: 'alice', skills: ['docs'], capacity: 2, tools: ['vscode'], capabilities: { can_run_tests: true, can_open_prs: true } });
    const taskId = await pool.task(REPO, { skills: ['docs'], title: 'Fix the README' });
    const offer = session.snapshot().offers[0] ?? (await new Promise<Offer>((resolve) => session.once('offer', resolve)));
    const { lease } = await session.accept(offer.offer_id);
    const number = gh.state.openPull(REPO, 'alice', { head: 'owp/T-1-fix', title: 'Fix the README', draft: true });
    const url = `${gh.htmlUrl}/${REPO}/pull/${number}`;
    const heard: { checks: Array<PoolSessionEvents['pr.checks'][0]>; counted: Array<PoolSessionEvents['pr.counted'][0]> } = { checks: [], counted: [] };
    session.on('pr.checks', (e) => void heard.checks.push(e));
    session.on('pr.counted', (e) => void heard.counted.push(e));

    const reported = await session.report(lease.lease_id, { state: 'pr_opened', pr: { url, number, gates: GATES } });
    assert.match(submittedTail(reported), /counts once the required CI checks pass \(0 of 2 required checks passed; build, docs \*\*lint\*\* pending\)/);
    assert.deepEqual(session.snapshot().leases.map((l) => l.lease_id), [lease.lease_id], 'the task stays in My work while CI runs');
    let rows = checkItems(session.task(taskId), lease.lease_id);
    assert.deepEqual(rows.map((r) => [r.label, r.description, r.icon]), [['build', 'pending', 'clock'], ['docs **lint**', 'pending', 'clock']]);
    assert.match(rows[1]!.tooltip, /docs \\\*\\\*lint\\\*\\\*/, 'a check name is escaped in the Markdown tooltip');
    assert.match(checksDescription(session.task(taskId)) ?? '', /^waiting for CI · 0 of 2/);

    // build fails (with a link), the other one never had a link that is not http(s).
    await pool.admin.call('task.report_checks', { task_id: taskId, head_sha: SHA1, checks: [{ name: 'build', status: 'failure', url: 'https://ci.example/runs/1' }, { name: 'docs **lint**', status: 'pending' }] });
    await until(() => heard.checks.some((e) => e.payload.checks.status === 'failure'), 'the window hears the failure');
    const failure = heard.checks.find((e) => e.payload.checks.status === 'failure')!;
    assert.deepEqual(failureNotices(failure.before, failure.payload, 'Fix the README').map((n) => n.url), ['https://ci.example/runs/1']);
    rows = checkItems(session.task(taskId), lease.lease_id);
    assert.deepEqual(rows.map((r) => [r.label, r.description, r.icon, r.url]), [['build', 'failed', 'error', 'https://ci.example/runs/1'], ['docs **lint**', 'pending', 'clock', undefined]]);
    assert.match(checksDescription(session.task(taskId)) ?? '', /^a required check failed/);

    // The other check reports while build is still red: no second warning for the same failure.
    await pool.admin.call('task.report_checks', { task_id: taskId, head_sha: SHA1, checks: [{ name: 'build', status: 'failure', url: 'https://ci.example/runs/1' }, { name: 'docs **lint**', status: 'success' }] });
    await until(() => heard.checks.length >= 3, 'the second update arrives');
    const again = heard.checks.at(-1)!;
    assert.deepEqual(failureNotices(again.before, again.payload, 'Fix the README'), [], 'a failure is announced once');

    // A new push restarts the wait; green on it counts the PR.
    await pool.admin.call('task.report_checks', { task_id: taskId, head_sha: SHA2, checks: [{ name: 'build', status: 'success' }, { name: 'docs **lint**', status: 'success' }] });
    await until(() => heard.counted.length === 1, 'the window hears the PR counts');
    assert.equal(session.task(taskId)?.state, 'pr_opened');
    assert.deepEqual(session.snapshot().leases, [], 'the counted lease leaves My work');
    const payload = heard.counted[0]!;
    const ready = await markCountedReady(payload.pr, { token: 'ghp_alice', apiBaseUrl: gh.url });
    assert.equal(ready.changed, true);
    assert.equal(gh.state.issue(REPO, number).pull?.draft, false, 'the draft is ready for review');
    assert.equal(countedNotice(payload, 'marked'), `OWP: ${taskId} counts as opened, proven by CI (build, docs **lint**). Your draft PR is now ready for review.`);
    assert.match(countedNotice(payload, 'no-token'), /press "Ready for review"/);
  } finally {
    session.dispose();
    await gh.close();
    await pool.close();
  }
});

test('a check link that is not http(s) is not offered; a repo without checks reads self-reported', () => {
  const task = { id: 'T-9', state: 'leased' as const, pr: { url: 'https://github.com/acme/site/pull/9', gates: [] }, checks: { status: 'failure' as const, checks: [{ name: 'evil', status: 'failure' as const, url: 'javascript:alert(1)' }], started_at: 0, deadline_at: 1, updated_at: 0 } };
  const [row] = checkItems(task, 'L-1');
  assert.equal(row?.url, undefined);
  assert.equal(row?.contextValue, 'prCheckNoLink');
  assert.match(submittedTail({ state: 'pr_opened', pr: { url: 'https://github.com/acme/site/pull/9', gates: [], evidence: 'self_reported' } }), /Evidence: self-reported/);
  assert.deepEqual(checkItems({ id: 'T-9', state: 'pr_opened', pr: { url: 'https://x/acme/site/pull/9', gates: [], evidence: 'self_reported' } }, 'L-1'), []);
});
