// `npm run test:defects [-- NAME…]`: proves the guarantee tests bite. For each deliberately broken
// variant in test/defects/defects.mjs it copies the working tree to a temp folder, applies the
// defect there (an exact find/replace in the product code, which must match once), runs the tests
// the README cites for that promise, and expects the named tests to fail. Writes
// .owp-results/defects.json. Exits non-zero when a defect no longer applies or a test did not fail.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFECTS } from '../test/defects/defects.mjs';
import { ROOT as root, baseCopy } from './lib/tree-copy.mjs';

const CATALOGUE = 'test/defects/defects.mjs';
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !DEFECTS.some((d) => d.name === w));
if (unknown.length > 0) {
  console.error(`Unknown defect ${unknown.join(', ')}. Known: ${DEFECTS.map((d) => d.name).join(', ')}`);
  process.exit(2);
}
const defects = wanted.length > 0 ? DEFECTS.filter((d) => wanted.includes(d.name)) : DEFECTS;

// The power-failure crash loops need lossyfs; build it once here, not in every copy.
if (defects.some((d) => d.tests.some((t) => t.includes('crash-loop')))) {
  const built = spawnSync('bash', ['scripts/build-lossyfs.sh'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

// One copy of the working tree as it is now; each defect starts from a fresh copy of that.
const copies = baseCopy('owp-defects');
process.on('exit', () => copies.close());

const results = [];
let ok = true;
for (const defect of defects) {
  const started = Date.now();
  const { dir: dest, problem } = copies.variant(defect.name, defect.edits, CATALOGUE);
  let result;
  try {
    if (problem) {
      result = { name: defect.name, caught: false, problem };
    } else {
      const env = { ...process.env, OWP_TEST: '1', OWP_DEFECT: defect.name, ...(defect.env ?? {}) };
      delete env.OWP_USE_BUNDLE; // the copy has no bundle: coordinators run from the broken source
      delete env.OWP_FIGURES_DIR;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=600000', ...defect.tests], { cwd: dest, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const failed = [...run.stdout.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1].trim());
      const missed = defect.expect.filter((name) => !failed.some((f) => f.startsWith(name)));
      // A file the runner stopped (its test timed out with handles open) is reported under the file's name, not its tests'.
      const stopped = failed.filter((f) => /\.test\.[cm]?[jt]s$/.test(f));
      const problem = `these tests did not fail: ${missed.join(' | ')}${stopped.length > 0 ? ` (stopped whole, timed out or crashed: ${stopped.join(', ')})` : ''}`;
      result = { name: defect.name, caught: missed.length === 0, failed_tests: failed, ...(missed.length > 0 ? { problem } : {}) };
    }
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
  result.promise = defect.promise;
  result.seconds = Math.round((Date.now() - started) / 1000);
  results.push(result);
  if (!result.caught) ok = false;
  console.log(`${result.caught ? 'caught ' : 'MISSED '} ${defect.name.padEnd(28)} ${String(result.seconds).padStart(4)} s  ${result.caught ? defect.expect.join(' | ') : result.problem}`);
}

if (wanted.length === 0) {
  mkdirSync(join(root, '.owp-results'), { recursive: true });
  writeFileSync(join(root, '.owp-results/defects.json'), `${JSON.stringify({ all_caught: ok, defects: results }, null, 2)}\n`);
}
console.log(`\n${results.filter((r) => r.caught).length}/${results.length} deliberately broken variants were caught by the tests that cite them.`);
process.exit(ok ? 0 : 1);
