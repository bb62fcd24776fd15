/**
 * Every child process OWP starts gets an allow-listed environment (client/child-env.ts): gate
 * commands, the CLI's AI tool hand-off, the extension's AI terminal, git and the hooks it runs.
 * Each child here prints its environment and the test looks for the secrets planted in ours.
 * Broken variant: `env: { ...process.env, … }` (the old gates.ts, git.ts) or `env: process.env`
 * (the old cli/handoff.ts), or a terminal without `strictEnv`, fails the "no secret" assertions.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv, looksSecret, passEnvFrom } from '../../client/child-env.ts';
import { runCommand, runGates } from '../../client/gates.ts';
import { commitAll, git } from '../../client/git.ts';
import { tokenAuthEnv } from '../../client/branch-push.ts';
import { runHandoff } from '../../cli/handoff.ts';
import { handoffPlan } from '../../extension/logic/ai-tool.ts';
import { tempDir } from '../helpers/coordinator.ts';

const SECRETS: Record<string, string> = {
  GITHUB_TOKEN: 'ghp_secret_github_token',
  GH_TOKEN: 'gho_secret_gh_token',
  OWP_TOKEN: 'owp_w_secret',
  OWP_ADMIN_TOKEN: 'owp_m_secret_admin',
  NPM_TOKEN: 'npm_secret_token',
  AWS_SECRET_ACCESS_KEY: 'aws_secret_key',
  SSH_AUTH_SOCK: '/tmp/secret-agent.sock',
  MY_SERVICE_PASSWORD: 'hunter2_secret',
};
const saved: Record<string, string | undefined> = {};
const printEnv = `${JSON.stringify(process.execPath)} -e "process.stdout.write(JSON.stringify(process.env))"`;

function leaked(text: string): string[] {
  return Object.entries(SECRETS).filter(([, v]) => text.includes(v)).map(([k]) => k);
}

before(() => {
  for (const [k, v] of Object.entries(SECRETS)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  saved.ANTHROPIC_API_KEY = process.env.ANTHROPIC_API_KEY;
  process.env.ANTHROPIC_API_KEY = 'sk-ant-tool-key';
});
after(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

test('childEnv keeps what programs need and drops tokens, unless the volunteer names them', () => {
  const base = { ...SECRETS, PATH: '/usr/bin', HOME: '/home/v', LANG: 'C.UTF-8', LC_ALL: 'C', TERM: 'xterm', AIDER_MODEL: 'x', AIDER_API_TOKEN: 't', HTTPS_PROXY: 'http://p' };
  const env = childEnv(base);
  assert.deepEqual(Object.keys(env).sort(), ['HOME', 'LANG', 'LC_ALL', 'PATH', 'TERM']);
  assert.equal(childEnv(base, { pass: ['HTTPS_PROXY'] }).HTTPS_PROXY, 'http://p');
  assert.equal(childEnv({ ...base, OWP_PASS_ENV: 'HTTPS_PROXY,NPM_TOKEN' }).NPM_TOKEN, SECRETS.NPM_TOKEN, 'named on purpose: passed');
  const prefixed = childEnv(base, { pass: ['AIDER_*'] });
  assert.equal(prefixed.AIDER_MODEL, 'x');
  assert.equal(prefixed.AIDER_API_TOKEN, undefined, 'a prefix does not pass a secret-looking member');
  assert.equal(childEnv(base, { set: { CI: '1' } }).CI, '1');
  for (const name of Object.keys(SECRETS)) assert.ok(looksSecret(name), name);
  assert.deepEqual(passEnvFrom(' A,B  C_* ;rm -rf'), ['A', 'B', 'C_*']);
});

test('gate commands see no secret (runCommand and runGates)', async () => {
  const dir = tempDir('owp-env-');
  try {
    const direct = await runCommand(printEnv, { cwd: dir, timeoutMs: 20_000 });
    assert.equal(direct.exitCode, 0, direct.output);
    assert.deepEqual(leaked(direct.output), []);
    const env = JSON.parse(direct.output) as Record<string, string>;
    assert.ok(env.PATH && env.HOME, 'PATH and HOME are there');
    assert.equal(env.CI, process.env.CI ?? '1');
    let output = '';
    const evidence = await runGates({ repoDir: dir, contract: { version: 1, setup: [], test: [printEnv], lint: [], branch: 'owp/{task_id}', pr: {} as never, areas: {}, safe_lanes: [], gates: ['tests'] }, onOutput: (_g, chunk) => (output += chunk) });
    assert.equal(evidence[0]?.passed, true, JSON.stringify(evidence));
    assert.ok(output.includes('"PATH"'), 'the gate printed its environment');
    assert.deepEqual(leaked(output), []);
    const passed = await runCommand(printEnv, { cwd: dir, timeoutMs: 20_000, passEnv: ['NPM_TOKEN'] });
    assert.deepEqual(leaked(passed.output), ['NPM_TOKEN'], 'what the volunteer passes on purpose arrives');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI hand-off gives the AI tool its own key and no other secret', async () => {
  const dir = tempDir('owp-env-');
  try {
    let output = '';
    const code = await runHandoff({ tool: 'claude-code', command: process.execPath, args: ['-e', 'process.stdout.write(JSON.stringify(process.env))'], interactive: false }, dir, (c) => (output += c));
    assert.equal(code, 0, output);
    assert.deepEqual(leaked(output), []);
    assert.equal((JSON.parse(output) as Record<string, string>).ANTHROPIC_API_KEY, 'sk-ant-tool-key', 'Claude Code needs its key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the extension runs a terminal AI tool with a strict, allow-listed environment', () => {
  const plan = handoffPlan('claude-code', 'do the task', new Set());
  assert.equal(plan.kind, 'terminal');
  if (plan.kind !== 'terminal') return;
  assert.equal(plan.terminal.strictEnv, true, 'VS Code would otherwise merge its own environment in');
  assert.deepEqual(leaked(JSON.stringify(plan.terminal.env)), []);
  assert.equal(plan.terminal.env.ANTHROPIC_API_KEY, 'sk-ant-tool-key');
  assert.ok(plan.terminal.env.PATH);
});

test('git hooks the worktree holds do not run: not on commit, not where git carries credentials', async () => {
  const root = tempDir('owp-env-');
  try {
    const remote = join(root, 'remote.git');
    const dir = join(root, 'work');
    mkdirSync(dir);
    await git(root, ['init', '--bare', '-q', remote]);
    await git(dir, ['init', '-q', '-b', 'main']);
    await git(dir, ['remote', 'add', 'origin', remote]);
    const hookOut = join(root, 'post-commit-env.json');
    const prePush = join(root, 'pre-push-ran');
    // Hooks the AI tool could have written into the worktree's .git.
    writeFileSync(join(dir, '.git', 'hooks', 'post-commit'), `#!/bin/sh\n${printEnv} > ${JSON.stringify(hookOut)}\n`);
    writeFileSync(join(dir, '.git', 'hooks', 'pre-push'), `#!/bin/sh\ntouch ${JSON.stringify(prePush)}\n`);
    chmodSync(join(dir, '.git', 'hooks', 'post-commit'), 0o755);
    chmodSync(join(dir, '.git', 'hooks', 'pre-push'), 0o755);
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    await commitAll(dir, 'first', { name: 'V', email: 'v@example.invalid' });
    // --no-verify skips only pre-commit and commit-msg; core.hooksPath=/dev/null skips post-commit too.
    assert.equal(existsSync(hookOut), false, 'the post-commit hook did not run');
    await git(dir, ['push', '-q', 'origin', 'main'], { env: tokenAuthEnv('https://github.com/o/r', 'ghp_push_token') });
    assert.equal(existsSync(prePush), false, 'pre-push did not run while a token was in git\'s environment');
    assert.equal(await git(remote, ['rev-parse', 'main']), await git(dir, ['rev-parse', 'HEAD']), 'the push happened');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
