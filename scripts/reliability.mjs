// `npm run test:reliability [-- --long]`: the reliability suite at full size — crash loops against the
// bundled coordinator on lossyfs (SIGKILL plus a power failure that drops unsynced data), thousands
// of property runs and fuzz cases, the access matrix, storage, network and worker faults, the conformance kit's mutation score (`npm run test:mutants`) — then
// `.owp-results/reliability.json` with the figures. A short version of each test runs inside
// `npm test`; `npm run test:defects` shows each of them fails on a deliberately broken variant.
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

// The conformance kit's mutation score: every catalogued mutant of the reference must be caught.
const mutants = spawnSync(process.execPath, ['scripts/mutants.mjs', '--quiet'], { stdio: 'inherit' });
let mutation = null;
try {
  const m = JSON.parse(readFileSync('.owp-results/mutants.json', 'utf8'));
  mutation = { mutants: m.mutants, caught: m.caught, missed: m.missed, score: m.mutation_score };
} catch {
  // No report: the script failed before writing one; its exit status says so below.
}

const parts = {};
for (const f of readdirSync(partsDir)) parts[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(partsDir, f), 'utf8'));
const crash = parts['crash-loops'] ?? {};
const hooks = parts['durability-hooks'] ?? {};
const property = parts.property ?? {};
const fuzz = parts.fuzz ?? {};
const summary = {
  passed: run.status === 0 && mutants.status === 0,
  long,
  duration_s: Math.round((Date.now() - started) / 1000),
  loops_run: crash.loops ?? 0,
  // Each loop: SIGKILL under load, then a power failure of lossyfs (unsynced writes and directory changes dropped).
  power_failures: crash.power_failures ?? 0,
  kills_inside_write: crash.kills_inside_write ?? 0,
  kills_inside_journal_write: crash.kills_inside_journal_write ?? 0,
  kills_inside_snapshot_write: crash.kills_inside_snapshot_write ?? 0,
  syncs_withheld: {
    // Writes whose fsync never came before the power failed: lossyfs dropped them (or let a prefix through, torn).
    by_power_failure: crash.unsynced_writes_dropped ?? 0,
    bytes_dropped: crash.unsynced_bytes_dropped ?? 0,
    torn_in: crash.unsynced_writes_torn_in ?? 0,
    directory_changes_dropped: crash.namespace_changes_dropped ?? 0,
    // Syncs the store's I/O hook held while a client waited for its answer, and syncs it failed.
    held_by_store_hook: hooks.syncs_withheld ?? 0,
    failed_by_store_hook: hooks.syncs_failed ?? 0,
  },
  torn_tails_recovered: crash.torn_tails_recovered ?? 0,
  acknowledged: crash.acknowledged ?? null,
  acknowledged_changes_checked: crash.acknowledged_changes_checked ?? 0,
  journal_events_checked: crash.events_checked ?? 0,
  load_races: crash.load_races ?? null,
  lost: crash.lost ?? null,
  double_leases: crash.double_leases ?? null,
  budget_violations: crash.budget_violations ?? null,
  hourly_budget_violations: crash.hourly_budget_violations ?? null,
  budget_checks: { crash_loops: crash.budget_checks ?? null, property: property.budget ?? null },
  property_runs: property.property_runs ?? 0,
  property_steps: property.steps ?? 0,
  stale_epochs_generated: property.stale_epochs_generated ?? 0,
  stale_epochs_refused: property.stale_epochs_refused ?? 0,
  idempotent_replays: property.replays ?? 0,
  deadline_checks: property.deadline_checks ?? 0,
  fuzz_cases: fuzz.fuzz_cases ?? 0,
  fuzz_requests: fuzz.requests ?? 0,
  fuzz_reached_engine: fuzz.reached_engine ?? 0,
  fuzz_prototype_key_cases: fuzz.prototype_key_cases ?? 0,
  crashes: fuzz.crashes ?? null,
  internal_errors: fuzz.internal_errors ?? null,
  schema_bypasses: fuzz.schema_bypasses ?? null,
  access_cases_tried: parts.access?.access_cases_tried ?? 0,
  access_cases_refused: parts.access?.access_cases_refused ?? 0,
  rate_limit: parts['rate-limit'] ?? null,
  conformance_mutation: mutation,
  machine: { node: process.version, platform: process.platform, arch: process.arch },
};
writeFileSync('.owp-results/reliability.json', `${JSON.stringify(summary, null, 2)}\n`);
rmSync(partsDir, { recursive: true, force: true });
console.log(`\nReliability: ${summary.passed ? 'PASSED' : 'FAILED'} in ${summary.duration_s} s — ${summary.loops_run} crash loops with ${summary.power_failures} power failures (${summary.kills_inside_write} inside a write, ${summary.syncs_withheld.by_power_failure} unsynced writes dropped), ${summary.acknowledged_changes_checked} acknowledged changes checked (${summary.lost} lost, ${summary.double_leases} double leases, ${summary.hourly_budget_violations} hourly budget violations), ${summary.property_runs} property runs (${summary.stale_epochs_refused}/${summary.stale_epochs_generated} stale epochs refused), ${summary.fuzz_cases} fuzz cases (${summary.crashes} crashes, ${summary.internal_errors} internal errors, ${summary.schema_bypasses} schema bypasses), ${summary.access_cases_refused}/${summary.access_cases_tried} access cases refused. Written to .owp-results/reliability.json`);
process.exit(summary.passed ? 0 : (run.status || mutants.status || 1));
