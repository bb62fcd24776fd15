/**
 * The rough edges of `owp` a newcomer meets (issue 16), run as the real CLI in a child process:
 * a mistyped command or flag gets "did you mean", `owp help worker` prints the worker's help,
 * errors under --json are JSON, and `owp policy explain` exits with a distinct, documented code
 * for each outcome (cli/exit-codes.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { WorkerClient } from '../../client/worker-client.ts';
import { startPool, tempDir } from '../helpers/coordinator.ts';
import { owpArgv } from '../helpers/owp-cli.ts';
import { EXIT } from '../../cli/exit-codes.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

function owp(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...owpArgv(), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A local URL nothing listens on. */
async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

test('a mistyped command or flag says what was meant; owp help <command> prints that command\'s help', async () => {
  const typo = await owp(['stauts']);
  assert.equal(typo.code, EXIT.usage);
  assert.equal(typo.stderr.trim(), 'owp: unknown command "stauts". Did you mean `owp status`? Run `owp --help` for the list of commands.');
  assert.equal(typo.stdout, '', 'not the whole help');

  const far = await owp(['frobnicate']);
  assert.equal(far.code, EXIT.usage);
  assert.doesNotMatch(far.stderr, /Did you mean/, 'no suggestion when nothing is close');

  const flag = await owp(['worker', '--skils', 'docs']);
  assert.equal(flag.code, EXIT.usage);
  assert.equal(flag.stderr.trim(), 'owp worker: unknown option --skils. Did you mean --skills? Run `owp worker --help` for its options.');
  assert.doesNotMatch(flag.stderr, /positional argument/, "not Node's parser message");
  const missing = await owp(['worker', '--coordinator']);
  assert.equal(missing.stderr.trim(), 'owp worker: --coordinator needs a value. Run `owp worker --help` for its options.');

  const help = await owp(['help', 'worker']);
  assert.equal(help.code, EXIT.ok);
  assert.match(help.stdout, /^Usage: owp worker --coordinator URL/);
  const top = await owp(['--help']);
  assert.match(top.stdout, /Exit codes: 0 ok/);
  const helpTypo = await owp(['help', 'wroker']);
  assert.equal(helpTypo.code, EXIT.usage);
  assert.match(helpTypo.stderr, /Did you mean `owp worker`\?/);
});

test('errors under --json are one JSON object on stdout, with the code and exit code', async () => {
  const typo = await owp(['stauts', '--json']);
  assert.equal(typo.code, EXIT.usage);
  assert.equal(typo.stderr, '');
  const parsed = JSON.parse(typo.stdout) as { event: string; code: string; exit_code: number; message: string };
  assert.deepEqual([parsed.event, parsed.code, parsed.exit_code], ['error', 'USAGE', EXIT.usage]);
  assert.match(parsed.message, /Did you mean `owp status`\?/);

  const notClone = tempDir('owp-json-');
  try {
    const status = await owp(['status', '--json', '--repo-dir', notClone]);
    assert.equal(status.code, EXIT.usage);
    const error = JSON.parse(status.stdout) as { code: string; message: string };
    assert.equal(error.code, 'USAGE');
    assert.match(error.message, /is not a git checkout/);
  } finally {
    rmSync(notClone, { recursive: true, force: true });
  }
});

test('owp policy explain exits 0 can take, 1 cannot, 2 usage, 3 unreachable, 4 bad token, 5 not found', async () => {
  const pool = await startPool();
  try {
    await pool.repo('acme/site');
    const docs = await pool.task('acme/site', { skills: ['docs'] });
    const rust = await pool.task('acme/site', { skills: ['rust'] });
    const { worker } = await WorkerClient.register(pool.url, { github_login: 'newcomer', skills: ['docs'], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
    const env = { OWP_COORDINATOR_URL: pool.url, OWP_TOKEN: pool.adminToken };
    const explain = (task: string, workerId: string, extra: string[] = [], over: Record<string, string> = env) => owp(['policy', 'explain', '--task', task, '--worker', workerId, ...extra], over);

    assert.equal((await explain(docs, worker.id)).code, EXIT.ok);
    const cannot = await explain(rust, worker.id);
    assert.equal(cannot.code, EXIT.failed, cannot.stdout + cannot.stderr);
    assert.match(cannot.stdout, /missing skill rust/);
    assert.equal((await owp(['policy', 'explain', '--task', docs], env)).code, EXIT.usage, 'no --worker');
    const unreachable = await explain(docs, worker.id, [], { OWP_COORDINATOR_URL: await closedUrl(), OWP_TOKEN: pool.adminToken });
    assert.equal(unreachable.code, EXIT.unavailable, unreachable.stderr);
    assert.match(unreachable.stderr, /Cannot reach the coordinator/);
    const badToken = await explain(docs, worker.id, [], { OWP_COORDINATOR_URL: pool.url, OWP_TOKEN: 'owpm_not_a_real_token' });
    assert.equal(badToken.code, EXIT.auth, badToken.stderr);
    assert.equal((await explain('T-999', worker.id)).code, EXIT.notFound);
    const noWorker = await explain(docs, 'W-999');
    assert.equal(noWorker.code, EXIT.notFound, noWorker.stderr);
    assert.match(noWorker.stderr, /knows no worker W-999/);

    // The same outcomes under --json: a script reads the code, not the prose.
    const json = await explain(docs, worker.id, ['--json'], { OWP_COORDINATOR_URL: pool.url, OWP_TOKEN: 'owpm_not_a_real_token' });
    assert.equal(json.code, EXIT.auth);
    assert.deepEqual((({ code, exit_code }) => ({ code, exit_code }))(JSON.parse(json.stdout) as { code: string; exit_code: number }), { code: 'UNAUTHENTICATED', exit_code: EXIT.auth });
  } finally {
    await pool.close();
  }
});
