/**
 * A submitted PR stays visible (issue 16, SPEC WORKER-004): after the PR ends the lease, the
 * editor window's session still lists it through `worker.prs`, announces its merge and the trust
 * the volunteer gained, and `owp status` shows the same. Against a real coordinator, with the
 * real CLI in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PoolSession, type IdentityStore, type WorkerIdentity } from '../../extension/logic/pool-session.ts';
import { readSubmitted, type SubmittedNotice } from '../../client/submitted-prs.ts';
import type { Offer } from '../../protocol/model.ts';
import { GATES, startPool, tempDir, until } from '../helpers/coordinator.ts';
import { owpArgv } from '../helpers/owp-cli.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

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

function nextOffer(session: PoolSession): Promise<Offer> {
  const open = session.snapshot().offers[0];
  return open ? Promise.resolve(open) : new Promise((resolve) => session.once('offer', resolve));
}

function owp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...owpArgv(), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a PR stays in My work after the lease ends; its merge and the trust gained are announced; owp status shows it', async () => {
  const pool = await startPool();
  const store = new MemoryIdentityStore();
  const session = new PoolSession(store, { client: { reconnectionDelayMs: 100, reconnectionDelayMaxMs: 300 }, relistDelayMs: 20 });
  const notices: SubmittedNotice[] = [];
  session.on('submitted', (n) => notices.push(n));
  const dir = tempDir('owp-submitted-');
  try {
    await pool.repo('acme/site');
    const worker = await session.join(pool.url, { github_login: 'alice', skills: ['docs'], capacity: 3, tools: ['vscode'], capabilities: { can_run_tests: true, can_open_prs: true } });
    assert.ok(worker);
    // Someone else's PR in the same repo: never in alice's group.
    const bob = await pool.join({ github_login: 'bob', skills: ['rust'] });
    const bobsTask = await pool.task('acme/site', { skills: ['rust'], title: 'Bob\'s task' });
    const { lease: bobsLease } = await bob.claim(bobsTask);
    await bob.report(bobsLease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/acme/site/pull/9', number: 9, gates: GATES } });

    const taskId = await pool.task('acme/site', { skills: ['docs'], title: 'Fix the [README](command:evil)' });
    const { lease } = await session.accept((await nextOffer(session)).offer_id);
    await session.report(lease.lease_id, { state: 'pr_opened', pr: { url: 'https://github.com/acme/site/pull/12', number: 12, gates: GATES } });
    await until(() => session.snapshot().leases.length === 0 && session.snapshot().submitted.length === 1, 'the lease ended and the PR is listed as submitted');
    assert.deepEqual(session.snapshot().submitted.map((p) => [p.task_id, p.state, p.pr.number]), [[taskId, 'pr_opened', 12]]);
    assert.equal(notices.length, 0, 'an open PR is news to nobody');

    await pool.admin.call('task.complete', { task_id: taskId, outcome: 'merged' });
    const merged = await until(() => notices.find((n) => n.kind === 'merged'), 'the merge is announced');
    assert.match(merged.text, /PR #12 for T-\d+ .* in acme\/site was merged/);
    assert.equal(session.snapshot().submitted[0]?.state, 'merged');

    await pool.admin.call('worker.set_trust', { worker_id: worker.id, trust: 1 });
    const trust = await until(() => notices.find((n) => n.kind === 'trust'), 'the trust change is announced (tasks.changed follows a trust change)');
    assert.deepEqual([trust.kind === 'trust' && trust.from, trust.kind === 'trust' && trust.to], [0, 1]);
    assert.equal(session.snapshot().worker?.trust, 1);
    assert.equal(notices.length, 2, 'each change is announced once');

    // owp status, as the CLI worker of this identity would run it.
    const stateFile = join(dir, 'owp-worker.json');
    writeFileSync(stateFile, JSON.stringify({ version: 1, coordinator: pool.url, token: store.saved?.token, worker_id: worker.id, github_login: 'alice', repo_dir: dir, tasks: {} }), { mode: 0o600 });
    const text = await owp(['status', '--state', stateFile]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Submitted\n.*T-\d+ acme\/site "Fix the \[README\]\(command:evil\)" · PR #12 merged · no required CI checks\n\s+https:\/\/github\.com\/acme\/site\/pull\/12/);
    assert.doesNotMatch(text.stdout, /pull\/9/, 'bob\'s PR is not alice\'s');
    const json = await owp(['status', '--state', stateFile, '--json']);
    const parsed = JSON.parse(json.stdout) as { submitted: Array<{ task_id: string; state: string }>; worker: { trust: number } };
    assert.deepEqual(parsed.submitted.map((p) => [p.task_id, p.state]), [[taskId, 'merged']]);
    assert.equal(parsed.worker.trust, 1);
  } finally {
    session.dispose();
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readSubmitted walks every page of worker.prs (PAGE-001), newest first, with the trust', async () => {
  const pool = await startPool();
  try {
    await pool.repo('acme/site', { max_open_prs: 10, max_new_prs_per_hour: 10 });
    const alice = await pool.join({ github_login: 'alice', skills: ['docs'], capacity: 3 });
    const opened: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const task = await pool.task('acme/site', { skills: ['docs'], title: `PR ${i}` });
      const { lease } = await alice.claim(task);
      await alice.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/acme/site/pull/${i + 1}`, number: i + 1, gates: GATES } });
      opened.push(task);
    }
    await pool.admin.call('worker.set_trust', { worker_id: alice.worker?.id as string, trust: 2 });
    let pages = 0;
    const read = await readSubmitted((params) => {
      pages += 1;
      return alice.request('worker.prs', { ...params, limit: 2 });
    });
    assert.equal(pages, 3, 'five PRs in pages of two');
    assert.deepEqual(read.prs.map((p) => p.task_id), [...opened].reverse(), 'each PR once, newest first');
    assert.equal(read.trust, 2);
  } finally {
    await pool.close();
  }
});
