/**
 * The cycle phase of `npm run bench` alone, a few windows in a row, for a diagnosis of the durable
 * transition figures in a minute instead of the whole bench's minutes: a coordinator process on
 * its lowdb store (the bench's settings, OWP_BENCH_SETTINGS applies), N ready tasks, and 200 workers
 * in 4 processes cycling offer→accept→release over real socket.io connections. Per window: the
 * transitions per second, their median and p99, and the coordinator's CPU per transition, which
 * is what the phase is bound by (it runs at about one core) and varies less than the other two.
 * There is no hold phase before it: `--idle-workers 10000` registers that many workers first (over
 * HTTP, never connected) so the state and its snapshots weigh what they do in the whole bench.
 *
 * With --timeline, each window also says how its slow answers (over 50 ms) lie against the
 * snapshots and the GC pauses of the coordinator: which of them were under way while one waited.
 *
 * With --heap-profile FILE, the first window's allocations by site (V8's sampling heap profiler,
 * keeping what minor and major collections took; with --heap-promoted, only what outlived the
 * minor ones): sum them with bench/heap-profile-sum.ts.
 *
 *   node --import tsx bench/cycle-socket.ts [--tasks 10000] [--idle-workers 0] [--windows 3] [--window-ms 10000] [--profile DIR] [--timeline] [--heap-profile FILE [--heap-promoted]]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchAdmin } from './lib/admin.ts';
import { bundleRunners } from './lib/bundle.ts';
import { gcByKind, type Pauses } from './lib/pauses.ts';
import { median, quantile, sleep } from './lib/stats.ts';
import { closeFleets, gather, measure, PER_REPO, startCoordinator, startFleets, type FleetReport } from './owp.ts';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '10000' }, windows: { type: 'string', default: '3' }, 'window-ms': { type: 'string', default: '10000' }, workers: { type: 'string', default: '200' }, profile: { type: 'string' }, timeline: { type: 'boolean', default: false }, 'heap-profile': { type: 'string' }, 'idle-workers': { type: 'string', default: '0' }, 'heap-promoted': { type: 'boolean', default: false } } });
const TASKS = Number(values.tasks);
const WINDOW_MS = Number(values['window-ms']);
const root = resolve(import.meta.dirname, '..');
const bundles = await bundleRunners(root);
const dataDir = mkdtempSync(join(tmpdir(), 'owp-cycle-socket-'));
const coordinator = await startCoordinator({ quick: false, coordinatorBundle: bundles.coordinator, fleetBundle: bundles.fleet, dataDir, log: () => undefined, ...(values.profile ? { profileDir: resolve(values.profile) } : {}) }, values.profile !== undefined);
try {
  const admin = new BenchAdmin(coordinator.url, coordinator.adminToken);
  const repos = Math.ceil(TASKS / PER_REPO);
  for (let r = 0; r < repos; r += 1) {
    await admin.configureRepo(`bench/hold-${r}`, { max_open_prs: 1000, max_new_prs_per_hour: 1000, max_attempts: 20, heartbeat_timeout_ms: 30_000, required_gates: [] });
  }
  await admin.createTasks(TASKS, 64, (i) => ({ repo: `bench/hold-${i % repos}`, title: `bench task ${i}`, skills: ['hold'] }));
  const idle = Number(values['idle-workers']);
  for (let i = 0; i < idle; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, idle - i) }, (_, k) => admin.call('worker.register', { github_login: `idle${i + k}`, skills: ['idle'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } })));
  }
  const cycle = await startFleets(bundles.fleet, 'cycle', Number(values.workers), 4, { url: coordinator.url, skills: ['hold'], role: 'cycle' });
  await sleep(1000);
  for (let w = 0; w < Number(values.windows); w += 1) {
    const profileHeap = w === 0 && values['heap-profile'] !== undefined;
    const { reports, coordinator: stats } = await measure(cycle, coordinator.child, WINDOW_MS, {
      times: values.timeline,
      wait: async (ms) => {
        if (profileHeap) await coordinator.child.request('heapProfile', { start: true, minor: !values['heap-promoted'], major: true, interval: 16384 });
        await sleep(ms);
        if (profileHeap) await coordinator.child.request('heapProfile', { file: resolve(values['heap-profile'] as string) });
      },
    });
    const ms = gather(reports, ['accept', 'release']);
    const transitions = reports.reduce((a, r) => a + r.transitions, 0);
    const perS = transitions / (WINDOW_MS / 1000);
    const cpuUs = ((stats.cpu_pct / 100) * 1e6) / perS;
    console.log(JSON.stringify({ window: w + 1, transitions_per_s: Math.round(perS), median_ms: +(median(ms) ?? 0).toFixed(1), p99_ms: +(quantile(ms, 0.99) ?? 0).toFixed(1), coordinator_cpu_pct: Math.round(stats.cpu_pct), coordinator_cpu_us_per_transition: Math.round(cpuUs), event_loop_lag_p99_ms: +stats.event_loop_lag_p99_ms.toFixed(1) }));
    if (values.timeline) console.log(JSON.stringify(slowAnswers(reports, await coordinator.child.request<Pauses>('pauses'))));
  }
  await closeFleets(cycle);
} finally {
  await coordinator.child.stop().catch(() => coordinator.child.kill());
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);

/** The answers over 50 ms: how many were waiting while a snapshot ran, while a GC pause over 5 ms ran, or neither. */
function slowAnswers(reports: FleetReport[], pauses: Pauses): Record<string, unknown> {
  const overlaps = (a0: number, a1: number, b0: number, b1: number): boolean => a0 < b1 && b0 < a1;
  const out = { slow: 0, during_snapshot: 0, during_gc_over_5ms: 0, neither: 0, snapshots: pauses.snapshots.length, snapshot_ms: pauses.snapshots.map(([a, b]) => Math.round(b - a)), gc_over_5ms: pauses.gc.filter((g) => g[1] > 5).length, gc_max_ms: Math.round(Math.max(0, ...pauses.gc.map((g) => g[1]))), gc_by_kind: gcByKind(pauses.gc) };
  for (const r of reports) {
    for (const kind of ['accept', 'release']) {
      const ms = r.samples[kind] ?? [];
      const at = r.sample_at?.[kind] ?? [];
      for (let i = 0; i < ms.length; i += 1) {
        if ((ms[i] as number) <= 50) continue;
        out.slow += 1;
        const end = at[i] as number;
        const start = end - (ms[i] as number);
        const snap = pauses.snapshots.some(([a, b]) => overlaps(start, end, a, b));
        const gc = pauses.gc.some(([a, d]) => d > 5 && overlaps(start, end, a, a + d));
        if (snap) out.during_snapshot += 1;
        if (gc) out.during_gc_over_5ms += 1;
        if (!snap && !gc) out.neither += 1;
      }
    }
  }
  return out;
}

