/**
 * `npm test` runs the whole kit, through the `owp conformance` command, against the reference
 * coordinator started as a separate process (`owp coordinator --port 0 --store memory`): every
 * MUST requirement passes, and the JSON and JUnit reports are written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SuiteReport } from '../../conformance/types.ts';
import { REQUIREMENTS } from '../../conformance/requirements.ts';
import { startSut } from './sut-process.ts';
import { owpArgv } from '../helpers/owp-cli.ts';

function owp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...owpArgv(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the reference coordinator passes every MUST requirement of the kit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-conformance-'));
  // The kit registers a worker or more per test from one address, past the default registration limits.
  const config = join(dir, 'coordinator.yml');
  writeFileSync(config, 'rate_limits:\n  register: { per_second: 0, burst: 0 }\n  register_total: { per_second: 0, burst: 0 }\n');
  const sut = await startSut([...owpArgv(), 'coordinator', '--port', '0', '--store', 'memory', '--config', config]);
  try {
    const reportFile = join(dir, 'report.json');
    const run = await owp(['conformance', '--url', sut.url, '--token', sut.token, '--report', reportFile, '--concurrency', '8']);
    assert.equal(run.code, 0, `owp conformance exited ${run.code}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /conforms at MUST level/);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as SuiteReport;
    const failed = report.tests.filter((t) => t.status === 'fail');
    assert.deepEqual(failed, []);
    for (const req of report.requirements) {
      if (req.level !== 'MUST' || req.status === 'untested') continue;
      // WORKER-002 needs closed registration; REPORT-005 a repo synced from the kit's GitHub-shaped
      // server (capability github-sync: test/conformance/github-sync.test.ts runs it).
      assert.ok(req.status === 'pass' || (req.status === 'skip' && (req.id === 'WORKER-002' || req.id === 'REPORT-005')), `${req.id} is ${req.status}`);
    }
    assert.equal(report.requirements.length, REQUIREMENTS.length);
    const junit = readFileSync(join(dir, 'report.xml'), 'utf8');
    assert.match(junit, /^<\?xml version="1.0"/);
    assert.equal((junit.match(/<testcase /g) ?? []).length, report.tests.length);
    assert.doesNotMatch(junit, /<failure/);
    console.log(`conformance run against the reference: ${report.summary.pass} passed, ${report.summary.warn} warnings, ${report.summary.skip} skipped in ${(report.durationMs / 1000).toFixed(1)} s`);
  } finally {
    await sut.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('owp conformance --list names every requirement; bad input gets a usage error; an unreachable URL exits 3', async () => {
  const list = await owp(['conformance', '--list']);
  assert.equal(list.code, 0);
  for (const req of REQUIREMENTS) assert.match(list.stdout, new RegExp(`^${req.id} `, 'm'));
  const usage = await owp(['conformance', '--url', 'http://127.0.0.1:9']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--token/);
  const unreachable = await owp(['conformance', '--url', 'http://127.0.0.1:9', '--token', 'x']);
  assert.equal(unreachable.code, 3);
  assert.match(unreachable.stderr, /Cannot reach an OWP coordinator/);
});
