#!/usr/bin/env node
// The `owp` command. The CLI is bundled by esbuild (`npm run build`, run on install by `prepare`).
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
if (!existsSync(bundle)) {
  console.error('owp: the CLI is not built yet. Run `npm run build` in the OWP folder, then try again.');
  process.exit(1);
}
// Node 22.1+ keeps the compiled bundle on disk (NODE_COMPILE_CACHE, else a folder in the OS temp
// folder), so a start after the first skips compiling it again: part of every coordinator restart.
// Older Node has no such call; a cache that cannot be written is skipped by Node itself.
nodeModule.enableCompileCache?.();
await import(bundle);
