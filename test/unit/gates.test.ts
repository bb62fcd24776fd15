import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseContract } from '../../client/contract.ts';
import { checklistGate, missingGates, runCommand, runGates } from '../../client/gates.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'owp-gates-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('passing gates give evidence with commands, exit codes and output', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'check.sh'), 'echo "3 tests passed"\n');
    const contract = parseContract('setup: echo setting up > setup.log\ntest: [sh check.sh, echo second]\nlint: "true"\ngates: [tests, lint]');
    const chunks: string[] = [];
    const started: string[] = [];
    const evidence = await runGates({ repoDir: dir, contract, onOutput: (gate, chunk) => chunks.push(`${gate}:${chunk}`), onGateStart: (g) => started.push(g) });
    assert.deepEqual(evidence.map((e) => [e.name, e.passed, e.exit_code]), [['setup', true, 0], ['tests', true, 0], ['lint', true, 0]]);
    assert.deepEqual(started, ['setup', 'tests', 'lint']);
    const tests = evidence[1]!;
    assert.equal(tests.command, 'sh check.sh && echo second');
    assert.match(tests.summary!, /3 tests passed\nsecond/);
    assert.ok(tests.duration_ms! >= 0);
    assert.ok(chunks.some((c) => c.startsWith('tests:') && c.includes('3 tests passed')));
  }));

test('a failing command fails its gate, stops that gate, and later gates still run', () =>
  withDir(async (dir) => {
    const contract = parseContract('test: ["echo boom >&2; exit 3", "touch should-not-exist"]\nlint: "true"');
    const evidence = await runGates({ repoDir: dir, contract });
    const tests = evidence.find((e) => e.name === 'tests')!;
    assert.equal(tests.passed, false);
    assert.equal(tests.exit_code, 3);
    assert.match(tests.summary!, /exited with code 3[\s\S]*boom/);
    assert.equal(evidence.find((e) => e.name === 'lint')!.passed, true);
    assert.deepEqual(missingGates(evidence, ['tests', 'lint']), ['tests']);
  }));

test('a failing setup marks later gates as not run', () =>
  withDir(async (dir) => {
    const contract = parseContract('setup: exit 1\ntest: touch ran\n');
    const evidence = await runGates({ repoDir: dir, contract });
    assert.deepEqual(evidence.map((e) => [e.name, e.passed]), [['setup', false], ['tests', false]]);
    assert.equal(evidence[1]!.summary, 'not run: setup failed');
  }));

test('a command past its timeout is killed with its children', () =>
  withDir(async (dir) => {
    const contract = parseContract('test: "sleep 30 & sleep 30; echo never"');
    const evidence = await runGates({ repoDir: dir, contract, timeoutMs: 300 });
    assert.equal(evidence[0]!.passed, false);
    assert.match(evidence[0]!.summary!, /timed out/);
    assert.doesNotMatch(evidence[0]!.summary!, /\nnever/);
  }));

test('an abort signal stops a running gate', () =>
  withDir(async (dir) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await runCommand('sleep 30', { cwd: dir, timeoutMs: 60_000, signal: controller.signal });
    assert.equal(result.stopped, 'aborted');
  }));

test('a required gate without commands is reported as not passed', () =>
  withDir(async (dir) => {
    const evidence = await runGates({ repoDir: dir, contract: parseContract('gates: [tests]') });
    assert.equal(evidence.length, 1);
    assert.equal(evidence[0]!.passed, false);
    assert.match(evidence[0]!.summary!, /lists no command/);
    assert.deepEqual(await runGates({ repoDir: dir, contract: parseContract('gates: []') }), []);
  }));

test('the checklist gate reflects the volunteer confirmation', () => {
  const contract = parseContract('gates: [tests, checklist]\npr:\n  checklist: [Ran tests, Stayed in area]');
  assert.deepEqual(checklistGate(contract, true), { name: 'checklist', passed: true, summary: 'Confirmed by the volunteer:\n- [x] Ran tests\n- [x] Stayed in area' });
  assert.equal(checklistGate(contract, false)!.passed, false);
  assert.equal(checklistGate(contract, undefined), undefined);
  assert.equal(checklistGate(parseContract('gates: [tests]'), false), undefined);
});
