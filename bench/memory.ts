/**
 * What each connected worker costs the coordinator in memory (issue 20, item 5): the hold phase of
 * `npm run bench` alone (N workers, each holding a lease and heartbeating it every 10 s), with the
 * coordinator's resident memory and heap read before the workers connect and once they all hold
 * their lease, and the peak resident memory over the window that follows (--settle, 30 s like the
 * bench's hold window), then the live heap after a full collection. Several coordinator builds can be compared in the same conditions, interleaved
 * (A B A B …), so a busy machine shifts both alike:
 *
 *   node --import tsx bench/memory.ts [--workers 2000] [--rounds 2] [--roots .,.cache/ab-base]
 *     [--node-flags '|--max-semi-space-size=4'] [--snapshot-dir DIR] [--snapshot-every EVENTS]
 *
 * --node-flags runs each root once per `|`-separated set of node flags (an empty one is the
 * default; V8 flags NODE_OPTIONS refuses are allowed), interleaved the same way. --snapshot-dir writes a heap snapshot of each run once every
 * worker holds its lease (bench/heap-diff.ts compares two). Each run also prints where the memory
 * is: V8's spaces (committed and used), `external` and `arrayBuffers`.
 *
 * Each root is a checkout whose bench/coordinator-process.ts is bundled (put an older checkout
 * under this one, e.g. `git archive HEAD~3 | tar -x -C .cache/ab-base`, so its bundle resolves
 * this tree's node_modules). Run it under `flock /tmp/owp-heavy.lock` like every bench.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchAdmin } from './lib/admin.ts';
import { build } from 'esbuild';
import { bundleRunners } from './lib/bundle.ts';
import { Child, killAllChildren } from './lib/children.ts';
import { sleep } from './lib/stats.ts';

const { values } = parseArgs({ options: { workers: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '2' }, roots: { type: 'string', default: '.' }, settle: { type: 'string', default: '30000' }, 'node-flags': { type: 'string', default: '' }, 'snapshot-dir': { type: 'string' }, 'snapshot-every': { type: 'string' }, 'heap-profile': { type: 'string' }, 'heap-profile-keep': { type: 'string', default: 'major' }, timeline: { type: 'boolean', default: false } } });
const WORKERS = Number(values.workers);
const ROUNDS = Number(values.rounds);
const SETTLE_MS = Number(values.settle);
const ROOTS = values.roots.split(',').map((r) => resolve(r));
const NODE_FLAGS = values['node-flags'].split('|');
const SNAPSHOT_DIR = values['snapshot-dir'] ? resolve(values['snapshot-dir']) : undefined;
/** Events between the coordinator's state snapshots (its default unless given; a large value keeps them out of the run). */
const SNAPSHOT_EVERY = values['snapshot-every'] ? Number(values['snapshot-every']) : undefined;
/** Samples allocations over the connect ramp (from before the workers connect until all hold their lease) into DIR/<run>.heapprofile. */
const HEAP_PROFILE_DIR = values['heap-profile'] ? resolve(values['heap-profile']) : undefined;
/** Which collected objects the profile keeps: `major` (objects that died old: promoted garbage), `minor`, `both`, or `live` (none: what is still live at the end). */
const HEAP_PROFILE_KEEP = values['heap-profile-keep'];
const FLEETS = Math.max(1, Math.ceil(WORKERS / 1250));
const PER_REPO = 500;

interface Stats {
  rss_mb: number;
  rss_peak_mb: number;
  heap_used_mb: number;
  sockets: number;
}

async function runOnce(coordinatorBundle: string, fleetBundle: string, nodeFlags: string, label: string): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'owp-mem-'));
  const coordinator = new Child('coordinator', coordinatorBundle, { env: { ...(values.timeline ? { OWP_BENCH_TIMELINE: '1' } : {}), OWP_BENCH_COORDINATOR: JSON.stringify({ data_dir: dataDir, ...(SNAPSHOT_EVERY ? { snapshot_every_events: SNAPSHOT_EVERY, snapshot_interval_ms: 3_600_000 } : {}) }) }, execArgv: ['--expose-gc', ...nodeFlags.split(' ').filter(Boolean)] });
  const fleets: Child[] = [];
  try {
    const ready = await coordinator.next('ready', 120_000);
    const admin = new BenchAdmin(ready.url as string, ready.adminToken as string);
    const repos = Math.ceil(WORKERS / PER_REPO);
    for (let r = 0; r < repos; r += 1) await admin.call('repo.configure', { repo: `bench/mem-${r}`, max_open_prs: 1000, max_new_prs_per_hour: 1000, max_attempts: 20, heartbeat_timeout_ms: 30_000, required_gates: [] });
    await admin.createTasks(WORKERS, 64, (i) => ({ repo: `bench/mem-${i % repos}`, title: `memory task ${i}`, skills: ['hold'] }));
    await sleep(2000);
    const before = await coordinator.request<Stats>('stats');
    if (HEAP_PROFILE_DIR) await coordinator.request('heapProfile', { start: true, major: ['major', 'both'].includes(HEAP_PROFILE_KEEP), minor: ['minor', 'both'].includes(HEAP_PROFILE_KEEP) });
    for (let i = 0; i < FLEETS; i += 1) fleets.push(new Child(`hold-${i}`, fleetBundle));
    await Promise.all(fleets.map((c) => c.next('started', 60_000)));
    const per = Math.ceil(WORKERS / FLEETS);
    await Promise.all(fleets.map((c, i) => c.request('setup', { url: ready.url, skills: ['hold'], role: 'hold', heartbeatEveryMs: 10_000, count: Math.min(per, WORKERS - i * per), prefix: `mem-${i}`, connectDeadlineMs: 300_000 }, 900_000)));
    const deadline = Date.now() + 180_000;
    let leases = 0;
    while (Date.now() < deadline) {
      const all = await Promise.all(fleets.map((f) => f.request<{ leases: number }>('stats')));
      leases = all.reduce((n, s) => n + s.leases, 0);
      if (leases >= WORKERS) break;
      await sleep(500);
    }
    const heapProfile = HEAP_PROFILE_DIR ? (await coordinator.request<{ file: string }>('heapProfile', { file: join(HEAP_PROFILE_DIR, `${label}-${WORKERS}-${HEAP_PROFILE_KEEP}.heapprofile`) }, 600_000)).file : undefined;
    // As the bench's hold window: the peak from here on, sampled every 250 ms (coordinator-process.ts).
    await coordinator.request('reset');
    await sleep(SETTLE_MS);
    const after = await coordinator.request<Stats>('stats');
    const memory = await coordinator.request<Record<string, unknown>>('memory');
    const smaps = values.timeline ? await coordinator.request<Record<string, number>>('smaps') : undefined;
    const timeline = values.timeline ? (await coordinator.request<{ timeline: unknown[] }>('timeline')).timeline : undefined;
    const live = await coordinator.request<{ heap_used_mb: number; heap_total_mb: number; rss_mb: number }>('memory', { gc: true });
    const reduced = values.timeline ? await coordinator.request<{ rss_mb: number; reduce_ms: number }>('memory', { reduce: true }) : undefined;
    const snapshot = SNAPSHOT_DIR ? (await coordinator.request<{ file: string }>('heapSnapshot', { file: join(SNAPSHOT_DIR, `${label}-${WORKERS}.heapsnapshot`) }, 600_000)).file : undefined;
    return {
      workers: WORKERS,
      leases,
      sockets: after.sockets,
      rss_before_mb: Math.round(before.rss_mb),
      rss_after_mb: Math.round(after.rss_mb),
      rss_peak_mb: Math.round(after.rss_peak_mb),
      heap_after_mb: Math.round(after.heap_used_mb),
      rss_kb_per_worker: Math.round(((after.rss_mb - before.rss_mb) * 1024) / WORKERS),
      heap_kb_per_worker: Math.round(((after.heap_used_mb - before.heap_used_mb) * 1024) / WORKERS),
      memory,
      live_heap_mb: live.heap_used_mb,
      rss_after_gc_mb: live.rss_mb,
      ...(snapshot ? { snapshot } : {}),
      ...(smaps ? { smaps, timeline, rss_after_reduce_mb: reduced?.rss_mb, reduce_ms: reduced?.reduce_ms } : {}),
      ...(heapProfile ? { heap_profile: heapProfile } : {}),
    };
  } finally {
    for (const f of fleets) f.kill();
    coordinator.kill();
    await Promise.all([...fleets, coordinator].map((c) => c.exited));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const fleetBundle = (await bundleRunners(resolve('.'))).fleet;
const coordinatorBundles: string[] = [];
for (const root of ROOTS) {
  // Only the coordinator comes from each root (an older checkout lacks today's load generators).
  const outfile = join(root, '.cache', 'bench', 'coordinator-memory.mjs');
  await build({ bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning', packages: 'external', entryPoints: [join(root, 'bench', 'coordinator-process.ts')], outfile });
  coordinatorBundles.push(outfile);
}
try {
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let i = 0; i < ROOTS.length; i += 1) {
      for (const [v, nodeFlags] of NODE_FLAGS.entries()) {
        const figures = await runOnce(coordinatorBundles[i] as string, fleetBundle, nodeFlags, `r${round}-root${i}-v${v}`);
        console.log(JSON.stringify({ round, root: ROOTS[i], node_flags: nodeFlags, ...figures }));
      }
    }
  }
} finally {
  killAllChildren();
}
