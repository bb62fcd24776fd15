/**
 * The coordinator under test, in its own process: `startCoordinator` on the lowdb store in the
 * data directory it is given (the same code path as `owp coordinator`), plus what only a benchmark
 * needs: the event-loop delay histogram (perf_hooks), CPU and memory, answered over IPC.
 * The runner bundles this file with esbuild so a restart is timed like the built CLI, not tsx.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { createLogger } from '../coordinator/log.ts';
import { DEFAULT_RATE_LIMITS } from '../coordinator/rate-limit.ts';
import { startCoordinator } from '../coordinator/server.ts';
import { serveParent } from './lib/children.ts';
import type { Pauses } from './lib/pauses.ts';

interface Settings {
  data_dir: string;
  sweep_interval_ms?: number;
  /** bench/memory.ts --snapshot-every: how much the snapshots' copies of the state weigh. */
  snapshot_every_events?: number;
  snapshot_interval_ms?: number;
  /** Sample the event-loop delay (a 1 ms timer). The lifecycle turns it off: it reports no lag, and the timer's thousand wake-ups a second are not the coordinator's. */
  loop_delay?: boolean;
}

const settings = JSON.parse(process.env.OWP_BENCH_COORDINATOR ?? '{}') as Settings;
if (!settings.data_dir) throw new Error('OWP_BENCH_COORDINATOR must name a data_dir');

// The histogram records the time between timer wake-ups (period + lag), so the period is subtracted.
const LOOP_SAMPLE_MS = 1;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
const lagMs = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
if (settings.loop_delay !== false) loopDelay.enable();
let cpuBase = process.cpuUsage();
let wallBase = performance.now();
let rssPeak = 0;
let profiler: Session | undefined;
const rssTimer = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 250);
rssTimer.unref();
/** bench/memory.ts --timeline: RSS and V8's spaces every 500 ms, to see when the peak falls. */
const timeline: Array<Record<string, number>> = [];
let countSockets = (): number => 0;
const t0 = performance.now();
if (process.env.OWP_BENCH_TIMELINE) {
  setInterval(() => {
    const m = process.memoryUsage();
    const sp = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]));
    const mb = (n: number | undefined): number => Math.round((n ?? 0) / 1048576);
    timeline.push({ t: Math.round(performance.now() - t0), rss: mb(m.rss), used: mb(m.heapUsed), total: mb(m.heapTotal), old: mb(sp.old_space), new: mb(sp.new_space), sockets: countSockets() });
  }, 500).unref();
}

const started = await startCoordinator({
  config: {
    port: 0,
    host: '127.0.0.1',
    store: 'lowdb',
    data_dir: settings.data_dir,
    // The fleet registers hundreds of workers from one address: worker.register's own limits are off.
    rate_limits: { ...DEFAULT_RATE_LIMITS, register: { per_second: 0, burst: 0 }, register_total: { per_second: 0, burst: 0 } },
    ...(settings.sweep_interval_ms ? { sweep_interval_ms: settings.sweep_interval_ms } : {}),
    ...(settings.snapshot_every_events ? { snapshot_every_events: settings.snapshot_every_events } : {}),
    ...(settings.snapshot_interval_ms ? { snapshot_interval_ms: settings.snapshot_interval_ms } : {}),
  },
  log: createLogger({ format: 'json' }),
});
const servingAtMs = performance.now();
countSockets = () => started.coordinator.io.engine.clientsCount;
// Group commits (one write + fsync of a batch of events each): what a workload costs on disk.
let commits = 0;
started.coordinator.runtime.on('commit', (c) => {
  if (c.ok) commits += 1;
});

// When snapshots ran and GC paused since the last reset (wall ms): bench.json's cycle details, and
// bench/cycle-socket.ts --timeline sets slow answers against them.
const wall = (t: number): number => performance.timeOrigin + t;
const pauses: Pauses = { snapshots: [], gc: [] };
// A Runtime (the lowdb store has no cluster node): its own calls to snapshot() go through this wrapper too.
const runtime = started.coordinator.runtime as unknown as { snapshot(): Promise<void> };
const snapshot = runtime.snapshot.bind(runtime);
let lastSnapshot: Promise<void> | null = null;
runtime.snapshot = () => {
  const start = wall(performance.now());
  const done = snapshot();
  if (done !== lastSnapshot) {
    lastSnapshot = done;
    void done.finally(() => pauses.snapshots.push([start, wall(performance.now())]));
  }
  return done;
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (pauses.gc.length < 100_000) pauses.gc.push([wall(e.startTime), e.duration, ((e as { detail?: { kind?: number } }).detail)?.kind ?? 0]);
}).observe({ entryTypes: ['gc'] });

function stats(): Record<string, number> {
  const cpu = process.cpuUsage(cpuBase);
  const wallMs = performance.now() - wallBase;
  const rss = process.memoryUsage.rss();
  rssPeak = Math.max(rssPeak, rss);
  return {
    event_loop_lag_p50_ms: lagMs(loopDelay.percentile(50)),
    event_loop_lag_p99_ms: lagMs(loopDelay.percentile(99)),
    event_loop_lag_max_ms: lagMs(loopDelay.max),
    cpu_pct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    rss_mb: rss / 1024 / 1024,
    rss_peak_mb: rssPeak / 1024 / 1024,
    heap_used_mb: process.memoryUsage().heapUsed / 1024 / 1024,
    window_ms: wallMs,
    sockets: started.coordinator.io.engine.clientsCount,
    journal_seq: started.coordinator.runtime.engine.state.seq,
    commits,
  };
}

serveParent({
  stats: () => stats(),
  /** Where resident memory goes (bench/memory.ts): V8's spaces, committed vs used, and what lives outside the heap. */
  memory: async (args) => {
    // With { gc: true } (and --expose-gc), after a full collection: the live heap, without the garbage V8 has not collected yet.
    if (args.gc === true) (globalThis as { gc?: () => void }).gc?.();
    // With { reduce: true }, after V8's memory-reducing collection (the inspector's collectGarbage is a low-memory notification on node 20): what it gives back, and its pause.
    let reduceMs: number | undefined;
    if (args.reduce === true) {
      const session = new Session();
      session.connect();
      const t = performance.now();
      await new Promise<void>((done) => session.post('HeapProfiler.collectGarbage', () => done()));
      reduceMs = Math.round(performance.now() - t);
      session.disconnect();
    }
    const m = process.memoryUsage();
    const mb = (n: number): number => Math.round((n / 1024 / 1024) * 10) / 10;
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { committed_mb: mb(s.physical_space_size), used_mb: mb(s.space_used_size) }]));
    return { ...(reduceMs === undefined ? {} : { reduce_ms: reduceMs }), rss_mb: mb(m.rss), heap_total_mb: mb(m.heapTotal), heap_used_mb: mb(m.heapUsed), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers), spaces };
  },
  /** Writes a heap snapshot (bench/heap-diff.ts compares two) and answers its path. */
  heapSnapshot: (args) => ({ file: writeHeapSnapshot(typeof args.file === 'string' ? args.file : undefined) }),
  /**
   * V8's sampling heap profiler (bench/memory.ts --heap-profile): `start` with which collected
   * objects to keep (by major or minor collections; neither keeps only what is live at `stop`),
   * `stop` writes the profile (a .heapprofile, by allocation site) to `file`.
   */
  heapProfile: async (args) => {
    if (!profiler) {
      profiler = new Session();
      profiler.connect();
    }
    const post = (method: string, params?: object): Promise<unknown> =>
      new Promise((done, fail) => profiler?.post(method, params, (error, result) => (error ? fail(error) : done(result))));
    if (args.start === true) {
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', { samplingInterval: Number(args.interval ?? 32768), includeObjectsCollectedByMajorGC: args.major === true, includeObjectsCollectedByMinorGC: args.minor === true });
      return { started: true };
    }
    const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
    writeFileSync(String(args.file), JSON.stringify(profile));
    return { file: args.file };
  },
  timeline: () => ({ timeline }),
  pauses: () => pauses,
  /** /proc/self/smaps summed by kind of mapping: where the RSS outside V8's heap is. */
  smaps: () => {
    const text = readFileSync('/proc/self/smaps', 'utf8');
    const sums: Record<string, number> = {};
    let name = '';
    for (const line of text.split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) name = head[1] || '[anon]';
      else if (line.startsWith('Rss:')) sums[name] = (sums[name] ?? 0) + Number(line.split(/\s+/)[1]) / 1024;
    }
    return Object.fromEntries(Object.entries(sums).filter(([, v]) => v >= 1).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]));
  },
  /** Starts a measurement window: clears the histogram and the CPU baseline. */
  reset: () => {
    loopDelay.reset();
    cpuBase = process.cpuUsage();
    wallBase = performance.now();
    rssPeak = process.memoryUsage.rss();
    pauses.snapshots.length = 0;
    pauses.gc.length = 0;
    if (process.env.OWP_BENCH_TIMELINE) timeline.push({ t: Math.round(performance.now() - t0), reset: 1 });
    return stats();
  },
});

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await started.coordinator.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

process.send?.({
  type: 'ready',
  url: started.url,
  adminToken: started.adminToken,
  /** From process start (performance.timeOrigin) to listening, as this process saw it. */
  serving_after_ms: servingAtMs,
  warnings: started.coordinator.runtime.warnings,
});
