/**
 * Bundles the benchmark's processes with esbuild so they start like the built CLI: the coordinator
 * under test (its restart is timed), the load generators and the peers' workers (many are started;
 * tsx would add its transform to each start). Packages stay external and resolve at run time: the
 * peers' bundles live in bench/node_modules so `bullmq` and `graphile-worker` resolve from there.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const common = {
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning' as const,
  packages: 'external' as const,
};

export interface Bundles {
  coordinator: string;
  fleet: string;
  echo: string;
  lifecycle: string;
}

export async function bundleRunners(root: string): Promise<Bundles> {
  const out = join(root, '.cache', 'bench');
  const loads = { fleet: 'load/owp-fleet.ts', echo: 'load/echo-server.ts', lifecycle: 'load/owp-lifecycle.ts' };
  rmSync(join(out, 'chunks'), { recursive: true, force: true });
  rmSync(join(out, 'coordinator-chunks'), { recursive: true, force: true });
  const split = { outdir: out, splitting: true, outExtension: { '.js': '.mjs' } };
  await Promise.all([
    build({ ...common, ...split, chunkNames: 'chunks/[name]-[hash]', entryPoints: Object.fromEntries(Object.entries(loads).map(([key, entry]) => [key, join(root, 'bench', entry)])) }),
    // The coordinator under test is built as dist/cli.mjs is (esbuild.mjs): its packages inside the
    // bundle, split so a dynamic import() stays lazy (pg and the cluster load only when asked for),
    // so its start and restart are timed as `owp coordinator` starts, not with a node_modules look-up per package.
    build({
      ...common,
      ...split,
      packages: 'bundle',
      external: ['bufferutil', 'utf-8-validate'],
      banner: { js: "import { createRequire as __owpCreateRequire } from 'node:module'; const require = __owpCreateRequire(import.meta.url);" },
      chunkNames: 'coordinator-chunks/[name]-[hash]',
      entryPoints: { coordinator: join(root, 'bench', 'coordinator-process.ts') },
    }),
  ]);
  return { coordinator: join(out, 'coordinator.mjs'), ...Object.fromEntries(Object.keys(loads).map((key) => [key, join(out, `${key}.mjs`)])) } as Bundles;
}

/** Bundles a peer's worker next to the peer packages it imports at run time. */
export async function bundlePeer(root: string, entry: string, name: string): Promise<string> {
  const outfile = join(root, 'bench', 'node_modules', '.owp-bench', `${name}.mjs`);
  await build({ ...common, entryPoints: [join(root, 'bench', entry)], outfile });
  return outfile;
}
