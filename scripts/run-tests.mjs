// Runs the test suite with Node's own runner (TypeScript through tsx). `npm test` calls this after
// type-checking. Pass folders or files to run a subset: `node scripts/run-tests.mjs test/unit`.
// When a selected file drives a browser (it imports test/helpers/browser.ts), Chromium is installed
// first if missing (scripts/ensure-chromium.sh), so `npm test` passes on a fresh machine.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Suites with their own commands (npm run test:e2e, test:reliability) are not part of `npm test`.
const EXCLUDED_DIRS = new Set(['e2e', 'fixtures', 'reliability-long']);

function collect(path, out) {
  const info = statSync(path);
  if (info.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return out;
  }
  for (const entry of readdirSync(path).sort()) {
    if (EXCLUDED_DIRS.has(entry) || entry === 'node_modules') continue;
    collect(join(path, entry), out);
  }
  return out;
}

const targets = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = (targets.length > 0 ? targets : ['test']).flatMap((t) => collect(t, []));
if (files.length === 0) {
  console.error('No test files found.');
  process.exit(1);
}
const needsBrowser = files.filter((file) => /helpers\/browser(\.ts)?['"]/.test(readFileSync(file, 'utf8')));
if (needsBrowser.length > 0) {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'ensure-chromium.sh');
  const ensured = spawnSync('bash', [script], { stdio: 'inherit' });
  if (ensured.status !== 0) {
    console.error(`The browser tests (${needsBrowser.join(', ')}) need Chromium, and it could not be installed (see above).`);
    process.exit(1);
  }
}
// Tests that start the `owp` CLI as a process use the bundle, built fresh here so it is never stale
// (it starts several times faster than the source through tsx; test/helpers/owp-cli.ts).
const build = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...passthrough, ...files],
  { stdio: 'inherit', env: { ...process.env, OWP_TEST: '1', OWP_USE_BUNDLE: '1' } },
);
process.exit(result.status ?? 1);
