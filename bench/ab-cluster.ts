/**
 * A/B of the cluster's cycle phase: two builds of the CLI (folders holding bin/owp.mjs and
 * dist/cli.mjs), run alternately in the same conditions, each round a fresh three-node cluster.
 * `node --import tsx bench/ab-cluster.ts A_DIR B_DIR [rounds]`: prints transitions/s per round and
 * the medians. For comparing a change on a busy machine, where one run alone says little.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleRunners } from './lib/bundle.ts';
import { killAllChildren } from './lib/children.ts';
import { median } from './lib/stats.ts';
import { runCluster } from './cluster.ts';

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: bench/ab-cluster.ts A_DIR B_DIR [rounds]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 3);
const root = resolve(import.meta.dirname, '..');
const workDir = mkdtempSync(join(tmpdir(), 'owp-ab-'));
const bundles = await bundleRunners(root);
const results: Record<string, Array<{ per_s: number; median_ms: number }>> = { A: [], B: [] };
try {
  for (let r = 0; r < rounds; r += 1) {
    for (const [name, dir] of [['A', a], ['B', b]] as const) {
      const profileDir = mkdtempSync(join(workDir, `prof-${name}-`));
      const run = await runCluster({ quick: true, cli: join(resolve(dir), 'bin', 'owp.mjs'), fleetBundle: bundles.fleet, workDir, profileDir, log: () => undefined });
      const cycle = run.detail.cycle as { median_ms: number };
      const got = { per_s: run.figures.cluster_durable_transitions_per_s as number, median_ms: Math.round(cycle.median_ms * 10) / 10 };
      results[name]?.push(got);
      console.log(`round ${r + 1} ${name}: ${got.per_s} transitions/s, median ${got.median_ms} ms`);
    }
  }
  for (const name of ['A', 'B']) {
    const runs = results[name] ?? [];
    console.log(`${name}: median ${median(runs.map((x) => x.per_s))} transitions/s, median latency ${median(runs.map((x) => x.median_ms))} ms`);
  }
} finally {
  killAllChildren();
  rmSync(workDir, { recursive: true, force: true });
}
