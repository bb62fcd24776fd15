/**
 * How tests run the `owp` CLI as a child process: the esbuild bundle (bin/owp.mjs → dist/cli.mjs)
 * when OWP_USE_BUNDLE is set (scripts/run-tests.mjs builds it fresh before the suite, so it is
 * never stale there), else the TypeScript source through tsx. The bundle starts several times faster.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
// Resolved here: the CLI may run in temp folders where a bare `--import tsx` would not be found.
const TSX = import.meta.resolve('tsx');

export function usingBundle(): boolean {
  return Boolean(process.env.OWP_USE_BUNDLE) && existsSync(join(ROOT, 'dist', 'cli.mjs'));
}

/** The node arguments that start `owp` (append the command and its flags). */
export function owpArgv(): string[] {
  return usingBundle() ? [join(ROOT, 'bin', 'owp.mjs')] : ['--import', TSX, join(ROOT, 'cli', 'main.ts')];
}
