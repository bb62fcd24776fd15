/**
 * What one durable transition costs the coordinator, counted rather than timed, so it holds on a
 * busy machine where throughput does not: a Runtime on a real lowdb store in a temp dir, W
 * in-process workers (no sockets) in a closed loop, either the cycle phase's accept → release or
 * the lifecycle's accept → report pr_opened (with a gate) → complete merged (a maintainer). After
 * a warm-up it measures a window plainly, then one more under the inspector, and prints per
 * transition (an acknowledged request):
 *  - process CPU (µs, process.cpuUsage) in the plain window, and the transitions per group commit;
 *  - bytes allocated (V8's sampling heap profiler keeping what minor and major GCs collected);
 *  - the CPU split by stage: each CPU-profile sample goes to the innermost coordinator/ or
 *    protocol/ file on its stack (what it called in node: and the GC included), else "(node)".
 *
 *   node --import tsx bench/transition-cost.ts [--mode cycle|lifecycle] [--workers 50] [--tasks 20000] [--warm 4000] [--measure 20000] [--top 25] [--answer-bytes N]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { SourceMap } from 'node:module';
import { build } from 'esbuild';
import { SystemClock } from '../coordinator/clock.ts';
import { Runtime } from '../coordinator/runtime.ts';
import { LowdbStore } from '../coordinator/store/lowdb.ts';
import type { Principal } from '../coordinator/auth.ts';
import type { OperationName } from '../protocol/operations.ts';
import { offerWaiter, seedTasks } from './lib/in-process.ts';

// Measured as the coordinator ships (an esbuild bundle, esbuild.mjs), not under tsx, whose
// transform keeps function names with a call per closure made (a few µs per transition here).
const self = fileURLToPath(import.meta.url);
if (self.endsWith('.ts')) {
  const outfile = resolve('.cache', 'bench', 'transition-cost.mjs');
  mkdirSync(resolve('.cache', 'bench'), { recursive: true });
  await build({ bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: 'external', logLevel: 'warning', packages: 'external', entryPoints: [self], outfile });
  const run = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
const map = new SourceMap(JSON.parse(readFileSync(`${self}.map`, 'utf8')));

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'cycle' }, workers: { type: 'string', default: '50' }, tasks: { type: 'string', default: '20000' }, warm: { type: 'string', default: '4000' }, measure: { type: 'string', default: '20000' }, top: { type: 'string', default: '25' }, 'answer-bytes': { type: 'string' } } });
const MODE = values.mode;
if (MODE !== 'cycle' && MODE !== 'lifecycle') throw new Error('--mode is cycle or lifecycle');
const WORKERS = Number(values.workers);
const WARM = Number(values.warm);
const MEASURE = Number(values.measure);
// The lifecycle finishes its tasks: it needs one per three transitions.
const TASKS = Math.max(Number(values.tasks), MODE === 'lifecycle' ? Math.ceil((WARM + 2 * MEASURE) / 3) + WORKERS * 2 : 0);

const dir = mkdtempSync(join(tmpdir(), 'owp-transition-cost-'));
const runtime = await Runtime.open({ store: new LowdbStore(dir), clock: new SystemClock(), adminTokens: ['owpm_transition_cost'], ...(values['answer-bytes'] ? { idempotencyLimits: { maxKeys: 2_000_000, maxAnswerBytes: Number(values['answer-bytes']) } } : {}) });
const admin = runtime.authenticate('owpm_transition_cost') as Principal;
let commits = 0;
runtime.on('commit', () => (commits += 1));

/** Set once the measurement is taken: the workers still in flight stop quietly. */
let done = false;
async function call(p: Principal, name: OperationName, params: Record<string, unknown>): Promise<any> {
  const ack = await runtime.call(p, name, { ...params, idempotency_key: randomUUID() });
  if (done) return new Promise(() => undefined);
  if (!ack.ok) throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

await seedTasks(call, admin, { prefix: 'cost', tasks: TASKS, perRepo: 1000, skill: 'cost', gates: MODE === 'lifecycle' ? ['tests'] : [] });
const nextOffer = offerWaiter(runtime);

let transitions = 0;
const total = WARM + 2 * MEASURE;
let onMark: (() => void) | undefined;
let nextMark = WARM;
const counted = (): void => {
  transitions += 1;
  if (transitions >= nextMark && onMark) {
    const fn = onMark;
    onMark = undefined;
    fn();
  }
};
const reached = (mark: number): Promise<void> => new Promise((resolve) => {
  nextMark = mark;
  onMark = resolve;
});

async function worker(i: number): Promise<void> {
  const reg = await call({ kind: 'anonymous' }, 'worker.register', { github_login: `cost${i}`, skills: ['cost'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  const id = reg.worker.id as string;
  const p: Principal = { kind: 'worker', id };
  await runtime.workerConnected(id);
  while (transitions < total) {
    const { lease } = await call(p, 'offer.accept', { offer_id: await nextOffer(id) });
    counted();
    if (MODE === 'cycle') {
      await call(p, 'lease.release', { lease_id: lease.lease_id, epoch: lease.epoch });
      counted();
      continue;
    }
    const n = Number(String(lease.task_id).replace(/\D/g, '').slice(-9)) || 1;
    await call(p, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://example.invalid/bench/pull/${n}`, number: n, gates: [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0, duration_ms: 1 }] } });
    counted();
    await call(admin, 'task.complete', { task_id: lease.task_id, outcome: 'merged' });
    counted();
  }
}

// ---- the inspector: a CPU profile and a sampling heap profile over the measured window -----------
const session = new Session();
session.connect();
const post = <T>(method: string, params?: object): Promise<T> => new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));

interface Frame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface CpuNode { id: number; callFrame: Frame; parent?: number; children?: number[] }
interface HeapNode { callFrame: Frame; selfSize: number; children: HeapNode[] }

/** The source file of a frame in the bundle (through its source map), as coordinator/… or protocol/…, if it is one. */
const fileOf = (f: Frame): string => {
  if (!f.url.endsWith('transition-cost.mjs')) return f.url;
  const entry = map.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string };
  return entry.originalSource ?? f.url;
};
const stageOf = (f: Frame): string | undefined => {
  const m = /\/(coordinator|protocol)\/(.+?)(\?.*)?$/.exec(fileOf(f));
  return m ? `${m[1]}/${m[2]}` : undefined;
};

for (let i = 0; i < WORKERS; i += 1) void worker(i);
await reached(WARM);
// A first window without the inspector: the CPU and the commits as the coordinator runs them, and its GC pauses.
const gcs = { minor: { n: 0, ms: 0, max: 0 }, major: { n: 0, ms: 0, max: 0 } };
const gcWatch = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR ? gcs.minor : gcs.major;
    kind.n += 1;
    kind.ms += e.duration;
    kind.max = Math.max(kind.max, e.duration);
  }
});
gcWatch.observe({ entryTypes: ['gc'] });
const plain = { cpu: process.cpuUsage(), transitions };
await reached(WARM + MEASURE);
gcWatch.disconnect();
const plainCpu = process.cpuUsage(plain.cpu);
const plainUs = (plainCpu.user + plainCpu.system) / (transitions - plain.transitions);
await post('Profiler.enable');
await post('Profiler.setSamplingInterval', { interval: 200 });
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
await post('Profiler.start');
const t0 = { cpu: process.cpuUsage(), at: performance.now(), transitions, commits };
await reached(WARM + 2 * MEASURE);
const cpu = process.cpuUsage(t0.cpu);
const wall = performance.now() - t0.at;
const n = transitions - t0.transitions;
done = true;
const { profile } = await post<{ profile: { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] } }>('Profiler.stop');
const { profile: heap } = await post<{ profile: { head: HeapNode } }>('HeapProfiler.stopSampling');

// CPU by stage.
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
for (const node of profile.nodes) for (const c of node.children ?? []) (byId.get(c) as CpuNode).parent = node.id;
const stageCache = new Map<number, string>();
const stageOfNode = (id: number): string => {
  const hit = stageCache.get(id);
  if (hit !== undefined) return hit;
  const node = byId.get(id) as CpuNode;
  const fn = node.callFrame.functionName;
  const stage = fn === '(garbage collector)' ? '(gc)' : fn === '(idle)' ? '(idle)' : fn === '(program)' ? '(program)' : stageOf(node.callFrame) ?? (node.parent === undefined ? '(node)' : stageOfNode(node.parent));
  stageCache.set(id, stage);
  return stage;
};
const cpuByStage = new Map<string, number>();
const cpuBySite = new Map<string, number>();
let sampled = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const stage = stageOfNode(id);
  if (stage === '(idle)') return;
  sampled += dt;
  cpuByStage.set(stage, (cpuByStage.get(stage) ?? 0) + dt);
  const f = (byId.get(id) as CpuNode).callFrame;
  const site = `${f.functionName || '(anonymous)'} ${stageOf(f) ?? fileOf(f).replace(/^.*node_modules\//, '')} < ${stage}`;
  cpuBySite.set(site, (cpuBySite.get(site) ?? 0) + dt);
});
// Allocation by stage and by function.
const allocByStage = new Map<string, number>();
const allocBySite = new Map<string, number>();
let allocated = 0;
const walk = (node: HeapNode, stage: string): void => {
  const here = stageOf(node.callFrame) ?? stage;
  if (node.selfSize > 0) {
    allocated += node.selfSize;
    allocByStage.set(here, (allocByStage.get(here) ?? 0) + node.selfSize);
    const site = `${node.callFrame.functionName || '(anonymous)'} ${stageOf(node.callFrame) ?? node.callFrame.url.replace(/^.*node_modules\//, '')}:${node.callFrame.lineNumber + 1}`;
    allocBySite.set(site, (allocBySite.get(site) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, here);
};
walk(heap.head, '(node)');

const TOP = Number(values.top);
const perT = (x: number): number => Math.round((x / n) * 10) / 10;
console.log(JSON.stringify({ mode: MODE, workers: WORKERS, transitions: n, per_s: Math.round(n / (wall / 1000)), cpu_us_per_transition: Math.round(plainUs * 10) / 10, cpu_us_profiled: perT(cpu.user + cpu.system), bytes_per_transition: Math.round(allocated / n), transitions_per_commit: Math.round((n / (commits - t0.commits)) * 10) / 10 }));
const gcLine = (g: { n: number; ms: number; max: number }): string => `${g.n} (${(g.ms / MEASURE * 1000).toFixed(1)} µs per transition, longest ${g.max.toFixed(1)} ms)`;
console.log(`GC pauses in the plain window: scavenges ${gcLine(gcs.minor)}; other collections ${gcLine(gcs.major)}`);
console.log('CPU µs per transition by stage (profile, scaled to process CPU):');
const scale = (cpu.user + cpu.system) / Math.max(1, sampled);
for (const [stage, us] of [...cpuByStage].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${perT(us * scale).toFixed(1).padStart(7)}  ${stage}`);
console.log('CPU µs per transition by function (self) < stage:');
for (const [site, us] of [...cpuBySite].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${perT(us * scale).toFixed(1).padStart(7)}  ${site}`);
console.log('bytes allocated per transition by stage:');
for (const [stage, b] of [...allocByStage].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${String(Math.round(b / n)).padStart(7)}  ${stage}`);
console.log('bytes allocated per transition by function:');
for (const [site, b] of [...allocBySite].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${String(Math.round(b / n)).padStart(7)}  ${site}`);

session.disconnect();
await runtime.close({ snapshot: false });
rmSync(dir, { recursive: true, force: true });
process.exit(0);
