/**
 * Capability `github-sync` over the wire: the reference coordinator, configured to sync a repo from
 * the GitHub-shaped server `owp conformance --github-repo … --github-port …` starts, passes the
 * kit's REPORT-005 test (an issue becomes a task; PRs that are missing, by another author, on
 * another branch or without the issue reference are refused with PR_MISMATCH; the right one counts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SuiteReport } from '../../conformance/types.ts';
import { owpArgv } from '../helpers/owp-cli.ts';
import { startSut } from './sut-process.ts';

const REPO = 'conformance/github';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a coordinator that syncs a repo from the kit\'s GitHub-shaped server passes the github-sync tests (REPORT-005)', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-conformance-github-'));
  const port = await freePort();
  const config = join(dir, 'coordinator.yml');
  writeFileSync(config, [
    'rate_limits:',
    '  register: { per_second: 0, burst: 0 }',
    '  register_total: { per_second: 0, burst: 0 }',
    'github:',
    `  api_url: http://127.0.0.1:${port}`,
    '  token_env: OWP_CONFORMANCE_GITHUB_TOKEN',
    '  poll_interval_ms: 300',
    `  repos: [{ repo: ${REPO} }]`,
    '',
  ].join('\n'));
  process.env.OWP_CONFORMANCE_GITHUB_TOKEN = 'owp-conformance-github';
  const sut = await startSut([...owpArgv(), 'coordinator', '--port', '0', '--store', 'memory', '--config', config]);
  try {
    const reportFile = join(dir, 'report.json');
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [...owpArgv(), 'conformance', '--url', sut.url, '--token', sut.token, '--only', 'github', '--github-repo', REPO, '--github-port', String(port), '--report', reportFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.once('exit', (code) => resolve({ code, out }));
    });
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as SuiteReport;
    const tests = report.tests.filter((t) => t.area === 'github');
    assert.ok(tests.length > 0, run.out);
    for (const t of tests) assert.equal(t.status, 'pass', `${t.requirement} ${t.title}: ${t.message ?? ''}\n${run.out}`);
    assert.equal(run.code, 0, run.out);
  } finally {
    await sut.stop();
    delete process.env.OWP_CONFORMANCE_GITHUB_TOKEN;
    rmSync(dir, { recursive: true, force: true });
  }
});
