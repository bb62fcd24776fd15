// `npm run test:reliability [-- --long]`: the reliability suite at full size — crash loops against the
// bundled coordinator, thousands of property runs and fuzz cases, the access matrix, storage and
// worker faults — then `.owp-results/reliability.json` with the figures. A short version of each
// test runs inside `npm test`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const long = process.argv.includes('--long');
const partsDir = '.owp-results/reliability-parts';
rmSync(partsDir, { recursive: true, force: true });
mkdirSync(partsDir, { recursive: true });

const build = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const started = Date.now();
const env = {
  ...process.env,
  OWP_USE_BUNDLE: '1',
  OWP_FIGURES_DIR: partsDir,
  OWP_CRASH_LOOPS: long ? '1000' : '200',
  OWP_PROPERTY_RUNS: long ? '20000' : '2000',
  OWP_FUZZ_CASES: long ? '20000' : '3000',
};
const files = readdirSync('test/reliability').filter((f) => f.endsWith('.test.ts')).map((f) => join('test/reliability', f));
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=3600000', ...files], { stdio: 'inherit', env });

const parts = {};
for (const f of readdirSync(partsDir)) parts[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(partsDir, f), 'utf8'));
const crash = parts['crash-loops'] ?? {};
const summary = {
  passed: run.status === 0,
  long,
  duration_s: Math.round((Date.now() - started) / 1000),
  loops_run: crash.loops ?? 0,
  acknowledged_changes_checked: crash.acknowledged_changes_checked ?? 0,
  lost: crash.lost ?? null,
  double_leases: crash.double_leases ?? null,
  budget_violations: crash.budget_violations ?? null,
  property_runs: parts.property?.property_runs ?? 0,
  fuzz_cases: parts.fuzz?.fuzz_cases ?? 0,
  crashes: parts.fuzz?.crashes ?? null,
  access_cases_tried: parts.access?.access_cases_tried ?? 0,
  access_cases_refused: parts.access?.access_cases_refused ?? 0,
  rate_limit: parts['rate-limit'] ?? null,
  machine: { node: process.version, platform: process.platform, arch: process.arch },
};
writeFileSync('.owp-results/reliability.json', `${JSON.stringify(summary, null, 2)}\n`);
rmSync(partsDir, { recursive: true, force: true });
console.log(`\nReliability: ${summary.passed ? 'PASSED' : 'FAILED'} in ${summary.duration_s} s — ${summary.loops_run} crash loops, ${summary.acknowledged_changes_checked} acknowledged changes checked (${summary.lost} lost, ${summary.double_leases} double leases), ${summary.property_runs} property runs, ${summary.fuzz_cases} fuzz cases (${summary.crashes} crashes), ${summary.access_cases_refused}/${summary.access_cases_tried} access cases refused. Written to .owp-results/reliability.json`);
process.exit(run.status ?? 1);
