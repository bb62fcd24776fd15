/**
 * A/B of the lifecycle workload on OWP (bench/lifecycle.ts): bundles the coordinator of each root
 * and runs the same lifecycle on each in turn (A B A B …), so a busy machine moves both alike.
 * Put the older checkout under this one so its bundle resolves this tree's packages:
 *
 *   git archive REV | (mkdir -p .cache/ab-base && tar -x -C .cache/ab-base)
 *   node --import tsx bench/ab-lifecycle.ts --roots .cache/ab-base,. [--rounds 3] [--tasks 2000] [--backlog 2000] [--areas 0]
 *
 * Prints each round's steady tasks/s and coordinator CPU per task, then the medians. Run it under
 * `flock /tmp/owp-heavy.lock` like every bench.
 */
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleRunners } from './lib/bundle.ts';
import { killAllChildren } from './lib/children.ts';
import { quantile } from './lib/stats.ts';
import { runOwpLifecycle } from './lifecycle.ts';

const { values } = parseArgs({ options: { roots: { type: 'string', default: '.' }, rounds: { type: 'string', default: '3' }, tasks: { type: 'string', default: '2000' }, backlog: { type: 'string' }, areas: { type: 'string', default: '0' } } });
const roots = values.roots.split(',').map((r) => resolve(r));
const n = Number(values.tasks);
const backlog = values.backlog ? Number(values.backlog) : n;
const workDir = mkdtempSync(join(tmpdir(), 'owp-ab-lifecycle-'));
process.on('exit', () => {
  killAllChildren();
  rmSync(workDir, { recursive: true, force: true });
});

const here = resolve('.');
const lifecycleBundle = (await bundleRunners(here)).lifecycle;
const coordinators = await Promise.all(roots.map(async (root, i) => {
  const outfile = join(here, '.cache', 'bench', `ab-coordinator-${i}.mjs`);
  mkdirSync(join(here, '.cache', 'bench'), { recursive: true });
  await build({ bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning', packages: 'external', entryPoints: [join(root, 'bench', 'coordinator-process.ts')], outfile });
  return outfile;
}));

const results: Array<Array<{ steady: number | null; cpu: number | undefined }>> = roots.map(() => []);
for (let round = 0; round < Number(values.rounds); round += 1) {
  for (let i = 0; i < roots.length; i += 1) {
    const key = `ab-${round}-${i}`;
    const figures = await runOwpLifecycle({ quick: true, root: here, workDir, coordinatorBundle: coordinators[i] as string, lifecycleBundle, peers: false, log: () => undefined }, { key, n, probes: 0, areas: Number(values.areas), backlog });
    const row = { steady: figures.steady_tasks_per_s, cpu: figures.coordinator_cpu_ms_per_task };
    (results[i] as typeof row[]).push(row);
    console.log(JSON.stringify({ round, root: roots[i], steady_tasks_per_s: row.steady && Math.round(row.steady), coordinator_cpu_ms_per_task: row.cpu, merged: figures.merged, commits_note: figures.durable_writes_note }));
    rmSync(join(workDir, `lifecycle-${key}`), { recursive: true, force: true });
  }
}
for (let i = 0; i < roots.length; i += 1) {
  const rows = results[i] as Array<{ steady: number | null; cpu: number | undefined }>;
  const steady = quantile(rows.map((r) => r.steady ?? 0), 0.5);
  const cpu = quantile(rows.map((r) => r.cpu ?? 0), 0.5);
  console.log(`median ${roots[i]}: steady ${Math.round(steady ?? 0)} tasks/s, coordinator CPU ${cpu} ms/task`);
}
