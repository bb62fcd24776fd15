import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findHeldTask, readState, updateState, writeState, type WorkerState } from '../../cli/worker-state.ts';
import { planHandoff } from '../../cli/handoff.ts';
import { findOnPath } from '../../client/ai-tools.ts';
import { Output, visibleLength } from '../../cli/output.ts';
import { UsageError } from '../../cli/args.ts';
import { parseSpeed } from '../../cli/commands/demo.ts';

const held = (id: string, dir: string) => ({ task_id: id, lease_id: `L-${id.slice(2)}`, epoch: 1, repo: 'o/r', title: 't', branch: `owp/${id}-t`, base: 'main', dir, accepted_at: 1 });

test('the worker state file is private, atomic and read back as written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-state-'));
  try {
    const file = join(dir, 'nested', 'owp-worker.json');
    const state: WorkerState = { version: 1, coordinator: 'http://c', token: 'owp_w_secret', worker_id: 'W-1', github_login: 'alice', repo_dir: dir, tasks: {} };
    await writeState(file, state);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    await updateState(file, (s) => (s.tasks['T-1'] = held('T-1', '/w/T-1')));
    assert.equal((await readState(file))!.tasks['T-1']!.branch, 'owp/T-1-t');
    assert.equal(await readState(join(dir, 'missing.json')), undefined);
    writeFileSync(file, '{"version":2}');
    await assert.rejects(readState(file), /not a valid OWP worker state file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('findHeldTask picks by id, by worktree, by branch, or the only one', () => {
  const state: WorkerState = { version: 1, coordinator: 'c', token: 't', worker_id: 'W-1', github_login: 'a', repo_dir: '/r', tasks: { 'T-1': held('T-1', '/w/T-1'), 'T-2': held('T-2', '/w/T-2') } };
  assert.equal(findHeldTask(state, { taskId: 'T-2' }).task_id, 'T-2');
  assert.equal(findHeldTask(state, { dir: '/w/T-1' }).task_id, 'T-1');
  assert.equal(findHeldTask(state, { branch: 'owp/T-2-t' }).task_id, 'T-2');
  assert.throws(() => findHeldTask(state, { dir: '/elsewhere' }), (e: Error) => e instanceof UsageError && /several tasks \(T-1, T-2\)/.test(e.message));
  assert.throws(() => findHeldTask(state, { taskId: 'T-9' }), /holds no task T-9/);
  delete state.tasks['T-2'];
  assert.equal(findHeldTask(state, { dir: '/elsewhere' }).task_id, 'T-1');
});

test('hand-off plans: claude interactive or headless, aider with --message, fallbacks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-bin-'));
  const savedPath = process.env.PATH;
  try {
    mkdirSync(join(dir, 'bin'));
    for (const name of ['claude', 'aider']) {
      writeFileSync(join(dir, 'bin', name), '#!/bin/sh\n');
      chmodSync(join(dir, 'bin', name), 0o755);
    }
    writeFileSync(join(dir, 'bin', 'not-exec'), '');
    process.env.PATH = join(dir, 'bin');
    assert.equal(findOnPath('claude'), join(dir, 'bin', 'claude'));
    assert.equal(findOnPath('not-exec'), undefined);
    assert.deepEqual(planHandoff('claude-code', 'PROMPT', true).args, ['PROMPT']);
    assert.deepEqual(planHandoff('claude-code', 'PROMPT', false).args, ['-p', '--permission-mode', 'acceptEdits', 'PROMPT']);
    assert.deepEqual(planHandoff('aider', 'PROMPT', true).args, ['--message', 'PROMPT']);
    assert.deepEqual(planHandoff('aider', 'PROMPT', false).args, ['--message', 'PROMPT']);
    assert.equal(planHandoff('aider', 'PROMPT', true).command, join(dir, 'bin', 'aider'));
    assert.match(planHandoff('none', 'PROMPT', true).fallback!, /--tool none/);
    process.env.PATH = '/nonexistent';
    const missing = planHandoff('aider', 'PROMPT', true);
    assert.equal(missing.command, undefined);
    assert.match(missing.fallback!, /`aider` is not on PATH; install Aider/);
  } finally {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  }
});

function capture(tty: boolean, json = false): { out: Output; text: () => string } {
  let text = '';
  const stream = { isTTY: tty, columns: 60, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { out: new Output({ stream, tty, json }), text: () => text };
}

test('output: plain lines when piped, JSON events with --json, a status line only on a terminal', () => {
  const piped = capture(false);
  piped.out.status('status line');
  piped.out.success('done');
  piped.out.spin('running gates');
  piped.out.stopSpinner();
  assert.equal(piped.text(), '✓ done\n▸ running gates\n', 'no escape codes and no status line in a pipe');

  const json = capture(false, true);
  json.out.success('done', { task_id: 'T-1' });
  json.out.event('accepted', { lease_id: 'L-1' });
  json.out.block('ignored');
  const lines = json.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => [l.event, l.level ?? null, l.task_id ?? l.lease_id]), [['log', 'success', 'T-1'], ['accepted', null, 'L-1']]);

  const tty = capture(true);
  tty.out.status('x'.repeat(100));
  tty.out.info('hello');
  assert.match(tty.text(), /\r\x1b\[2K/);
  const statusLines = tty.text().split('\r\x1b[2K').filter((s) => s.startsWith('x'));
  assert.ok(statusLines.every((s) => visibleLength(s) <= 59), 'the status line is cut to the terminal width');
  assert.match(tty.text(), /hello\n/);
});

test('--speed: fast, factors, and clear errors', () => {
  assert.equal(parseSpeed(undefined), 1);
  assert.equal(parseSpeed('fast'), 6);
  assert.equal(parseSpeed('2.5'), 2.5);
  assert.throws(() => parseSpeed('0'), /between 0.25 and 50/);
  assert.throws(() => parseSpeed('warp'), /"fast" or a factor/);
});
