/**
 * The kit's runner on its own: capability-gated tests run only when declared and are then
 * mandatory (CAP-001), SHOULD failures are warnings, --level and --only select, a hung test times
 * out, and the JUnit XML counts what happened. Against a real coordinator process that declares a
 * capability; the tests here are synthetic so each outcome is certain.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSuite } from '../../conformance/runner.ts';
import { formatText, toJunit } from '../../conformance/report.ts';
import type { Suite, SuiteReport } from '../../conformance/types.ts';
import { startSut, type SutProcess } from './sut-process.ts';

const fail = async (): Promise<void> => {
  throw new Error('deliberate failure');
};
const pass = async (): Promise<void> => undefined;

const SYNTHETIC: Suite = {
  area: 'synthetic',
  tests: [
    { requirement: 'CAP-001', title: 'gated on a declared capability, failing', capability: 'x-probe', run: fail },
    { requirement: 'CAP-001', title: 'gated on a capability nobody declares', capability: 'x-absent', run: fail },
    { requirement: 'WIRE-002', title: 'a SHOULD that fails', run: fail },
    { requirement: 'STATE-003', title: 'a MAY that passes', run: pass },
    { requirement: 'INFO-001', title: 'a MUST that hangs', timeoutMs: 300, run: () => new Promise(() => undefined) },
  ],
};

let sut: SutProcess;
let report: SuiteReport;

before(async () => {
  sut = await startSut(['--import', 'tsx', 'test/conformance/defective-coordinator.ts', '--defect', 'none', '--capability', 'x-probe']);
  report = await runSuite({ url: sut.url, token: sut.token, suites: [SYNTHETIC] });
});

after(async () => {
  await sut.stop();
});

const statusOf = (title: string): string | undefined => report.tests.find((t) => t.title === title)?.status;

test('a test of a declared capability runs and is mandatory; an undeclared one is skipped', () => {
  assert.ok(report.coordinator.capabilities.includes('x-probe'), `declared: ${report.coordinator.capabilities.join(', ')}`);
  assert.equal(statusOf('gated on a declared capability, failing'), 'fail');
  assert.equal(statusOf('gated on a capability nobody declares'), 'skip');
});

test('SHOULD failures are warnings, a hung test fails with a timeout, requirements take their worst test', () => {
  assert.equal(statusOf('a SHOULD that fails'), 'warn');
  assert.equal(statusOf('a MAY that passes'), 'pass');
  assert.equal(statusOf('a MUST that hangs'), 'fail');
  assert.match(report.tests.find((t) => t.title === 'a MUST that hangs')?.message ?? '', /did not finish within 300 ms/);
  assert.equal(report.requirements.find((r) => r.id === 'CAP-001')?.status, 'fail');
  assert.equal(report.requirements.find((r) => r.id === 'WIRE-002')?.status, 'warn');
  assert.equal(report.requirements.find((r) => r.id === 'DUR-002')?.status, 'untested');
  assert.match(formatText(report), /MUST requirements failed: INFO-001, CAP-001/);
});

test('JUnit XML has a failure per failed test, a skipped element per skip, and warnings as passing cases', () => {
  const xml = toJunit(report);
  assert.equal((xml.match(/<failure /g) ?? []).length, 2);
  assert.equal((xml.match(/<skipped /g) ?? []).length, 1);
  assert.match(xml, /WARNING \(SHOULD not met\)/);
});

test('--level must skips weaker tests; --only selects by id', async () => {
  const must = await runSuite({ url: sut.url, token: sut.token, suites: [SYNTHETIC], level: 'MUST', only: ['WIRE-002', 'STATE-003'] });
  assert.deepEqual(must.tests.map((t) => [t.requirement, t.status, t.message]), [
    ['WIRE-002', 'skip', 'below --level must'],
    ['STATE-003', 'skip', 'below --level must'],
  ]);
});

test('a token that is not a maintainer token is refused before any test runs', async () => {
  await assert.rejects(runSuite({ url: sut.url, token: 'owp_not_a_token', suites: [SYNTHETIC] }), /--token was refused/);
});
