/**
 * `owp conformance --client`: the reference worker client and `owp worker` meet every worker-client
 * requirement (SPEC §5.15), and each deliberately broken client fails exactly the requirement it
 * breaks, over a real relay in front of a real coordinator.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClientSuite } from '../../conformance/client/run.ts';
import type { SuiteReport } from '../../conformance/types.ts';
import { startPool, type TestPool } from '../helpers/coordinator.ts';
import { owpArgv } from '../helpers/owp-cli.ts';
import { driveClient, type BrokenClient, type Driven } from './client-driver.ts';

let pool: TestPool;
before(async () => {
  pool = await startPool('memory');
});
after(async () => {
  await pool.close();
});

async function runAgainst(broken?: BrokenClient): Promise<SuiteReport> {
  let driven: Driven | undefined;
  try {
    return await runClientSuite({
      url: pool.url,
      token: pool.adminToken,
      connectTimeoutMs: 20_000,
      start: async (relayUrl, repo) => {
        driven = await driveClient(relayUrl, repo, broken);
      },
    });
  } finally {
    driven?.stop();
  }
}

function failed(report: SuiteReport): string[] {
  return report.tests.filter((t) => t.status === 'fail').map((t) => t.requirement);
}

function describeRun(report: SuiteReport): string {
  return report.tests.map((t) => `${t.status} ${t.requirement}${t.message ? `: ${t.message}` : ''}`).join('\n');
}

describe('owp conformance --client', { concurrency: true }, () => {
  test('the reference worker client passes every client requirement, its retry included', async () => {
    const report = await runAgainst();
    assert.deepEqual(failed(report), [], describeRun(report));
    for (const t of report.tests) assert.equal(t.status, 'pass', describeRun(report));
  });

  const BROKEN: Array<[BrokenClient, string]> = [
    ['no-heartbeat', 'CLIENT-002'],
    ['new-key-on-retry', 'CLIENT-007'],
    ['ignores-cancelled', 'CLIENT-004'],
    ['ignores-lost', 'CLIENT-005'],
    ['stale-epoch', 'CLIENT-006'],
    ['no-hello-first', 'CLIENT-001'],
  ];
  for (const [broken, id] of BROKEN) {
    test(`a client that is ${broken} fails ${id} and nothing else`, async () => {
      const report = await runAgainst(broken);
      assert.deepEqual(failed(report), [id], describeRun(report));
    });
  }

  test('a worker that never connects: the run stops with exit 3 and says where the worker should connect', async () => {
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [...owpArgv(), 'conformance', '--client', '--client-cmd', 'exit 0', '--connect-timeout', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.once('exit', (code) => resolve({ code, out }));
    });
    assert.equal(run.code, 3, run.out);
    assert.match(run.out, /did not connect and say hello within 2 s: start it with the coordinator URL http:\/\/127\.0\.0\.1:\d+ \(it serves the repo owp-conformance-[0-9a-f]+\/client\)/);
  });

  test('owp worker passes, started by the kit in a clone of the repo it made (owp conformance --client --client-cmd)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owp-client-mode-'));
    try {
      const reportFile = join(dir, 'report.json');
      const worker = [...owpArgv(), 'worker', '--coordinator', '{url}', '--github-login', 'conformance', '--auto-accept', '--tool', 'none', '--repo-dir', '{dir}', '--state', '{dir}/.git/owp-worker.json', '--json'].map((a) => JSON.stringify(a)).join(' ');
      const command = `${JSON.stringify(process.execPath)} ${worker}`;
      const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [...owpArgv(), 'conformance', '--client', '--client-cmd', command, '--report', reportFile], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.once('exit', (code) => resolve({ code, out }));
      });
      assert.equal(run.code, 0, run.out);
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as SuiteReport;
      assert.deepEqual(failed(report), [], describeRun(report));
      // With --auto-accept, owp worker negotiates direct-leases with the reference coordinator: it is
      // granted leases without offers, so there is no accept to time or to retry (CLIENT-003, -007).
      const skipped = report.tests.filter((t) => t.status === 'skip');
      assert.deepEqual(skipped.map((t) => t.requirement).sort(), ['CLIENT-003', 'CLIENT-007'], describeRun(report));
      for (const t of skipped) assert.match(t.message ?? '', /negotiated direct-leases/);
      assert.equal(report.tests.filter((t) => t.status === 'pass').length, 5, describeRun(report));
      assert.match(run.out, /conforms at MUST level/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
