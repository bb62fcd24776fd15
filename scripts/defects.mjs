// `npm run test:defects [-- NAME…]`: proves the guarantee tests bite. For each deliberately broken
// variant in test/defects/defects.mjs it copies the working tree to a temp folder, applies the
// defect there (an exact find/replace in the product code, which must match once), runs the tests
// the README cites for that promise, and expects the named tests to fail. Writes
// .owp-results/defects.json. Exits non-zero when a defect no longer applies or a test did not fail.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFECTS } from '../test/defects/defects.mjs';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
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

/** Tracked and untracked (not ignored) files: the working tree as it is, uncommitted changes included. */
function worktreeFiles() {
  const out = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`git ls-files failed: ${out.stderr}`);
  return out.stdout.split('\0').filter(Boolean);
}

function copyTree(dest) {
  for (const file of worktreeFiles()) {
    try {
      mkdirSync(dirname(join(dest, file)), { recursive: true });
      copyFileSync(join(root, file), join(dest, file));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error; // deleted but not yet staged
    }
  }
  symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'));
  symlinkSync(join(root, '.cache'), join(dest, '.cache'));
}

function applyDefect(dest, defect) {
  for (const edit of defect.edits) {
    const path = join(dest, edit.file);
    const text = readFileSync(path, 'utf8');
    const count = text.split(edit.find).length - 1;
    if (count !== 1) return `${edit.file}: the code to break was found ${count} times (expected once); update test/defects/defects.mjs`;
    writeFileSync(path, text.replace(edit.find, () => edit.replace));
  }
  return null;
}

// One copy of the working tree as it is now; each defect starts from a fresh copy of that.
const base = mkdtempSync(join(tmpdir(), 'owp-defects-base-'));
copyTree(base);
process.on('exit', () => rmSync(base, { recursive: true, force: true }));

const results = [];
let ok = true;
for (const defect of defects) {
  const dest = mkdtempSync(join(tmpdir(), `owp-defect-${defect.name}-`));
  const started = Date.now();
  let result;
  try {
    cpSync(base, dest, { recursive: true, verbatimSymlinks: true });
    const problem = applyDefect(dest, defect);
    if (problem) {
      result = { name: defect.name, caught: false, problem };
    } else {
      const env = { ...process.env, OWP_TEST: '1', OWP_DEFECT: defect.name, ...(defect.env ?? {}) };
      delete env.OWP_USE_BUNDLE; // the copy has no bundle: coordinators run from the broken source
      delete env.OWP_FIGURES_DIR;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=600000', ...defect.tests], { cwd: dest, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const failed = [...run.stdout.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1].trim());
      const missed = defect.expect.filter((name) => !failed.some((f) => f.startsWith(name)));
      result = { name: defect.name, caught: missed.length === 0, failed_tests: failed, ...(missed.length > 0 ? { problem: `these tests did not fail: ${missed.join(' | ')}` } : {}) };
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
