// `npm run test:e2e`: installs the e2e tools when missing (scripts/e2e-setup.sh), builds, packages
// the extension as a .vsix, then runs the scenarios in test/e2e/ with Node's test runner, one file
// at a time (each file runs its own editors, and the machine has two cores).
// Pass files to run a subset: `npm run test:e2e -- test/e2e/two-windows.test.ts`.
// OWP_E2E_SKIP_SETUP=1 skips the install check and the build (for quick reruns while editing tests).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`e2e: "${[command, ...args].join(' ')}" failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

const started = Date.now();
if (!process.env.OWP_E2E_SKIP_SETUP) {
  run('bash', [join('scripts', 'e2e-setup.sh')]);
  run('npm', ['run', 'build']);
  run('npm', ['run', 'package']);
}

const given = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = given.length > 0 ? given : readdirSync(join(root, 'test', 'e2e')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', 'e2e', f));
// Each suite writes its screenshots and logs to .artifacts/e2e/<suite>/; start those folders empty so
// a FAILED-* file there always belongs to this run.
for (const file of files) rmSync(join(root, '.artifacts', 'e2e', basename(file, '.test.ts')), { recursive: true, force: true });
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...passthrough, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, OWP_TEST: '1' } },
);
console.log(`\ne2e: finished in ${Math.round((Date.now() - started) / 1000)} s; screenshots and logs in .artifacts/e2e/`);
process.exit(result.status ?? 1);
