#!/usr/bin/env node
// The `owp` command. The CLI is bundled by esbuild (`npm run build`, run on install by `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
if (!existsSync(bundle)) {
  console.error('owp: the CLI is not built yet. Run `npm run build` in the OWP folder, then try again.');
  process.exit(1);
}
await import(bundle);
