/**
 * `owp submit --wait` in a repo whose PRs must pass CI (issue 15 item 2), against a real
 * coordinator, a real git remote and the GitHub-shaped server: submit prints the checks it waits
 * for and keeps the task; a failed check ends the wait with exit 1 and the task still held; a fix
 * pushed with `owp submit --wait` again restarts the wait on the new head; green counts the PR and
 * the volunteer's draft is marked ready for review with their token. The checks are reported as
 * the coordinator's GitHub integration reports them (task.report_checks on the PR's head).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextOffer, startPool, tempDir, until } from '../helpers/coordinator.ts';
import { createDemoRemote } from '../../cli/demo/demo-repo.ts';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { owpArgv } from '../helpers/owp-cli.ts';
import type { WorkerState } from '../../cli/worker-state.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const REPO = 'octo-org/hello-owp';

interface Run {
  out: () => string;
  err: () => string;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function owp(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [...owpArgv(), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { out: () => stdout, err: () => stderr, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

type Event = Record<string, unknown> & { event: string };
function events(text: string): Event[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
}
const phases = (text: string): unknown[] => events(text).filter((e) => e.event === 'log' && e.phase !== undefined).map((e) => e.phase);

test('owp submit --wait: checks printed, a failure ends the wait with the task kept, a fix restarts it, green counts and marks the draft ready', { timeout: 180_000 }, async () => {
  const pool = await startPool('lowdb');
  const root = tempDir('owp-cli-checks-');
  const remote = await createDemoRemote(join(root, 'git'));
  const github = await startFakeGitHub({ layout: 'enterprise', tokens: [{ token: 'ghs_volunteer', login: 'alice' }], repos: [{ full_name: REPO, git: remote, collaborators: ['alice'] }] });
  try {
    await pool.repo(REPO, { required_gates: ['tests', 'lint'], required_checks: ['build'] });
    const taskId = await pool.task(REPO, { title: 'Fix the guide', area: 'docs', skills: ['docs'], effort: 1 });
    const worker = await pool.join({ github_login: 'alice', skills: ['docs'], capacity: 1 });
    const offer = await nextOffer(worker);
    const { lease } = await worker.accept(offer.offer_id);

    // The clone and the task worktree as `owp worker` leaves them.
    const clone = join(root, 'alice', 'hello-owp');
    mkdirSync(join(root, 'alice'));
    execFileSync('git', ['clone', '--quiet', remote, clone]);
    const dir = join(root, 'alice', 'wt');
    const branch = `owp/${taskId}-fix-the-guide`;
    execFileSync('git', ['-C', clone, 'worktree', 'add', '--quiet', '-b', branch, dir, 'origin/main']);
    const stateFile = join(clone, '.git', 'owp-worker.json');
    const state: WorkerState = {
      version: 1, coordinator: pool.url, token: worker.token, worker_id: worker.worker!.id, github_login: 'alice', repo_dir: clone,
      tasks: { [taskId]: { task_id: taskId, lease_id: lease.lease_id, epoch: lease.epoch, repo: REPO, title: 'Fix the guide', branch, base: 'main', dir, accepted_at: Date.now() } },
    };
    writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
    mkdirSync(join(dir, 'docs'), { recursive: true });
    writeFileSync(join(dir, 'docs', `${taskId}.md`), `# ${taskId} fixed\n\nThe guide reads well now.\n`);
    const env = { ...process.env, GITHUB_TOKEN: 'ghs_volunteer', GIT_AUTHOR_NAME: 'Alice', GIT_AUTHOR_EMAIL: 'alice@example.invalid', GIT_COMMITTER_NAME: 'Alice', GIT_COMMITTER_EMAIL: 'alice@example.invalid', NO_COLOR: '1' };
    const submitArgs = ['submit', '--repo-dir', dir, '--confirm-checklist', '--yes', '--github-api', github.url, '--wait', '--poll-ms', '50', '--json'];
    const tip = (): string => execFileSync('git', ['--git-dir', remote, 'rev-parse', `refs/heads/${branch}`], { encoding: 'utf8' }).trim();
    const held = (): string[] => Object.keys((JSON.parse(readFileSync(stateFile, 'utf8')) as WorkerState).tasks);

    // 1. Submitted, waiting: the check is printed pending; CI fails it; the wait ends with exit 1.
    const first = owp(submitArgs, env);
    await until(() => phases(first.out()).includes('waiting'), `submit prints the wait\n${first.out()}\n${first.err()}`, 60_000);
    const [pull] = github.state.pulls(REPO);
    assert.ok(pull && pull.pull.draft, 'a draft PR is open');
    const status = await owp(['status', '--repo-dir', dir], env).done;
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /PR http\S+\/pull\/1 · waiting for CI · 0 of 1 required check passed; build pending\n\s+… build pending/, 'owp status shows the waiting check');
    const head1 = tip();
    await pool.admin.call('task.report_checks', { task_id: taskId, head_sha: head1, checks: [{ name: 'build', status: 'failure', url: 'https://ci.example/runs/1' }] });
    const failed = await first.done;
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    const failure = events(failed.stdout).find((e) => e.event === 'log' && e.phase === 'failed') as { message: string; lines: string[] } | undefined;
    assert.match(failure?.message ?? '', /a required check failed.*owp submit/);
    assert.deepEqual(failure?.lines, ['✗ build failed — https://ci.example/runs/1'], 'the failed check is printed with its link');
    assert.deepEqual(held(), [taskId], 'the task stays held for the fix');
    assert.equal((await pool.admin.call('task.get', { task_id: taskId })).task.state, 'leased');

    // 2. The fix: submit again pushes a new head, the wait restarts on it, green counts it.
    writeFileSync(join(dir, 'docs', `${taskId}.md`), `# ${taskId} fixed\n\nThe guide reads well now, and builds.\n`);
    const second = owp(submitArgs, env);
    await until(() => tip() !== head1 && phases(second.out()).includes('waiting'), `the second submit waits on a new head\n${second.out()}`, 60_000);
    await pool.admin.call('task.report_checks', { task_id: taskId, head_sha: tip(), checks: [{ name: 'build', status: 'pending' }] });
    await pool.admin.call('task.report_checks', { task_id: taskId, head_sha: tip(), checks: [{ name: 'build', status: 'success', url: 'https://ci.example/runs/2' }] });
    const counted = await second.done;
    assert.equal(counted.code, 0, counted.stdout + counted.stderr);
    assert.equal(phases(counted.stdout).at(-1), 'counted');
    assert.match(counted.stdout, /counts as opened, proven by CI \(build\)/);
    const task = (await pool.admin.call('task.get', { task_id: taskId })).task;
    assert.equal(task.state, 'pr_opened');
    assert.equal(task.pr?.evidence, 'ci');
    assert.equal(github.state.pulls(REPO).length, 1, 'the same PR, not a second one');
    assert.equal(github.state.pulls(REPO)[0]!.pull.draft, false, 'the draft was marked ready for review');
    assert.ok(events(counted.stdout).some((e) => e.event === 'log' && typeof e.ready_for_review === 'string'));
    assert.deepEqual(held(), [], 'a counted task is forgotten');
    worker.close();
  } finally {
    await github.close();
    await pool.close();
    rmSync(root, { recursive: true, force: true });
  }
});
