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
  const entries = { coordinator: 'coordinator-process.ts', fleet: 'load/owp-fleet.ts', echo: 'load/echo-server.ts', lifecycle: 'load/owp-lifecycle.ts' };
  // Split like dist/cli.mjs (esbuild.mjs): a dynamic import() stays lazy, so the coordinator under
  // test loads pg and the cluster code only when asked for them, as `owp coordinator` does.
  rmSync(join(out, 'chunks'), { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([key, entry]) => [key, join(root, 'bench', entry)])),
    outdir: out,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
  });
  return Object.fromEntries(Object.keys(entries).map((key) => [key, join(out, `${key}.mjs`)])) as unknown as Bundles;
}

/** Bundles a peer's worker next to the peer packages it imports at run time. */
export async function bundlePeer(root: string, entry: string, name: string): Promise<string> {
  const outfile = join(root, 'bench', 'node_modules', '.owp-bench', `${name}.mjs`);
  await build({ ...common, entryPoints: [join(root, 'bench', entry)], outfile });
  return outfile;
}
