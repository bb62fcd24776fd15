/** Bundles the coordinator under test with esbuild, so it starts like the built CLI (no tsx at run time). */
import { build } from 'esbuild';
import { join } from 'node:path';

export async function bundleCoordinator(root: string): Promise<string> {
  const outfile = join(root, '.cache', 'bench', 'coordinator.mjs');
  await build({
    entryPoints: [join(root, 'bench', 'coordinator-process.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __owpCreateRequire } from 'node:module'; const require = __owpCreateRequire(import.meta.url);" },
  });
  return outfile;
}
