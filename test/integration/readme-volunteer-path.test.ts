/**
 * A newcomer follows the README (issue 16): the command lines of "Your first task as a volunteer"
 * are read from README.md's text and run as they are, in a copy of this checkout, from `npm start`
 * to a task accepted with `owp worker` in a clone and a PR opened on the demo's GitHub-shaped
 * server, its branch in the demo's git remote; then the demo's maintainer merges it for real and
 * the running `owp worker` announces the merge. Two deviations, both for a shared machine: `npm ci`
 * is not run (the copy links this checkout's node_modules), and `npm start` gets `--port` with a
 * free port, so the README's 8787 / 8788 are replaced by it and the next one — in the lines `npm
 * start` prints too, which must be the README's own lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../../client/git.ts';
import { until } from '../helpers/coordinator.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const COPIED = new Set(['package.json', 'esbuild.mjs', 'bin']);
const LEFT_OUT = /^(\.git|\.owp.*|dist|\.cache|\.artifacts)$/;

/** The `sh` blocks of README's "Your first task as a volunteer", each as its lines. */
function readmeBlocks(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Your first task as a volunteer');
  assert.ok(start >= 0, 'README has the section');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] as string).split('\n').filter(Boolean));
}

/** A copy of this checkout for `npm start` to build and run in: its own .owp and dist. */
function checkoutCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'owp-readme-'));
  for (const entry of readdirSync(ROOT)) {
    if (LEFT_OUT.test(entry)) continue;
    if (COPIED.has(entry)) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    else symlinkSync(join(ROOT, entry), join(dir, entry));
  }
  return dir;
}

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next && port < 65_000) return port;
  }
}

const STEP_TIMEOUT_MS = 120_000;

/** A step's exit code; one that hangs is killed (with its process group) and fails with its output. */
async function exitOf(step: ReturnType<typeof shell>, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STEP_TIMEOUT_MS)));
  const code = await Promise.race([step.done, late]);
  clearTimeout(timer);
  if (code !== 'late') return code;
  stop(step.child, 'SIGKILL');
  assert.fail(`${what} did not finish within ${STEP_TIMEOUT_MS / 1000} s:\n${step.output()}`);
}

function stop(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function shell(line: string, cwd: string, stdin: 'ignore' | 'pipe' = 'ignore'): { child: ChildProcess; output: () => string; done: Promise<number | null> } {
  // Its own process group, so stopping it reaches npm, the shell and node as Ctrl-C would.
  const child = spawn('bash', ['-c', line], { cwd, detached: true, env: { ...process.env, NO_COLOR: '1' }, stdio: [stdin, 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, done };
}

test('README: from npm start to a task accepted in a clone and a PR opened on the demo\'s GitHub, with the README\'s own lines', { timeout: 600_000 }, async (t) => {
  const [first, second] = readmeBlocks();
  assert.equal(first?.length, 2, 'clone and worker lines');
  assert.equal(second?.length, 3, 'change, submit and status lines');
  const dir = checkoutCopy();
  const port = await freePortPair();
  const local = (line: string): string => line.replaceAll('127.0.0.1:8787', `127.0.0.1:${port}`).replaceAll('127.0.0.1:8788', `127.0.0.1:${port + 1}`);
  const start = shell(`npm start -- --port ${port}`, dir);
  let worker: ReturnType<typeof shell> | undefined;
  // Runs even when the test is cancelled: nothing it started outlives it.
  t.after(async () => {
    if (worker) {
      worker.child.stdin?.write('q\n');
      stop(worker.child, 'SIGTERM');
    }
    stop(start.child, 'SIGINT');
    await Promise.race([start.done, new Promise((r) => setTimeout(r, 20_000))]);
    stop(start.child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await until(() => /Try the volunteer path[\s\S]*status --repo-dir/.test(start.output()), `npm start prints the volunteer lines:\n${start.output()}`, 150_000);
  const printed = start.output().split('\n').map((l) => l.trim());
  for (const line of [first[0], first[1], second[1], second[2]] as string[]) assert.ok(printed.includes(local(line)), `npm start prints the README's line: ${local(line)}\n${start.output()}`);

  const clone = shell(local(first[0] as string), dir);
  assert.equal(await exitOf(clone, 'git clone'), 0, clone.output());
  worker = shell(local(first[1] as string), dir, 'pipe');
  await until(() => /offer/i.test(worker?.output() ?? ''), `owp worker gets an offer:\n${worker.output()}`, 60_000);
  worker.child.stdin?.write('a\n');
  const accepted = await until(() => /(T-\d+): when the work is done/.exec(worker?.output() ?? ''), `the task is accepted in a worktree:\n${worker.output()}`, 60_000);
  const taskId = accepted[1] as string;

  for (const line of second as string[]) {
    const step = shell(local(line), dir);
    assert.equal(await exitOf(step, line), 0, `${line}\n${step.output()}`);
    if (line.includes(' submit ')) assert.match(step.output(), new RegExp(`Opened PR #1: http://127\\.0\\.0\\.1:${port + 1}/octo-org/hello-owp/pull/1`));
    if (line.includes(' status ')) assert.match(step.output(), new RegExp(`Submitted\\n\\s+${taskId} octo-org/hello-owp ".*" · PR #1 (open, in review|merged)`));
  }

  // The PR is on the GitHub-shaped server, as alice, and its branch is in the demo's git remote.
  const token = readFileSync(join(dir, '.owp', 'demo', 'github-token'), 'utf8').trim();
  const pull = await fetch(`http://127.0.0.1:${port + 1}/api/v3/repos/octo-org/hello-owp/pulls/1`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(pull.status, 200);
  const body = (await pull.json()) as { user: { login: string }; head: { ref: string }; title: string };
  assert.equal(body.user.login, 'alice');
  assert.match(body.title, new RegExp(`\\(OWP ${taskId}\\)$`));
  const heads = await git(dir, ['ls-remote', '--heads', join(dir, '.owp', 'demo', 'remote', 'octo-org', 'hello-owp.git')]);
  assert.match(heads, new RegExp(`refs/heads/${body.head.ref.replaceAll('/', '\\/')}`));
  const remote = join(dir, '.owp', 'demo', 'remote', 'octo-org', 'hello-owp.git');
  assert.match(await git(dir, ['-C', remote, 'show', `${body.head.ref}:docs/joining-owp.md`]), /Volunteers join the pool with owp worker/);

  // The demo's maintainer merges it for real (into the remote's main), and the running owp worker says so.
  await until(() => /your PR #1 for T-\d+ .* was merged/.test(worker?.output() ?? ''), `owp worker announces the merge:\n${worker.output()}`, 120_000);
  assert.match(await git(dir, ['-C', remote, 'show', 'main:docs/joining-owp.md']), /Volunteers join the pool with owp worker/);
});
