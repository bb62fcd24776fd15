/**
 * The kit's mutation testing inside `npm test`: the catalogue (test/conformance/mutants.mjs) still
 * applies to the code, and a small sample of its mutants (a coordinator copy with one defect each)
 * fails exactly the requirement ids it names. The whole catalogue runs in `npm run test:mutants`
 * and `npm run test:reliability`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// One per kind of gap the issue named: an open offer's capacity, a fenced deadline, a policy on claims.
const SAMPLE = ['capacity-ignores-offer', 'update-after-deadline', 'claim-skips-policy'];

test('every mutant of the catalogue still applies to the code and names requirements of SPEC.md', () => {
  const run = spawnSync(process.execPath, ['scripts/mutants.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  const [, count, groups] = /(\d+) mutants in (\d+) requirement groups/.exec(run.stdout) ?? [];
  assert.ok(Number(count) >= 40 && Number(groups) >= 20, run.stdout);
});

test(`the kit catches a sample of mutants on the ids they break (${SAMPLE.join(', ')})`, { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-mutants-sample-'));
  try {
    const out = join(dir, 'mutants.json');
    const run = spawnSync(process.execPath, ['scripts/mutants.mjs', '--only-expected', '--jobs', '1', '--out', out, ...SAMPLE], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { caught: number; results: Array<{ name: string; caught: boolean; breaks: string[]; named_failed: string[] }> };
    assert.equal(report.caught, SAMPLE.length);
    for (const r of report.results) assert.deepEqual(r.named_failed, r.breaks, r.name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
