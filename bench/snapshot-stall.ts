/**
 * What a snapshot costs the commands around it. A Runtime on a real lowdb store (fsync on) holds
 * the offers phase's state — `--tasks` ready tasks, `--workers` registered workers, `--keys`
 * idempotency keys — while `--clients` loops send `task.update`s; in turn, A then B, `--rounds`
 * times, one snapshot is taken during the load (and a window without one):
 *
 * - whole: the state copied and serialised in one go on the loop (`State.toSnapshot` and
 *   `saveSnapshot`, as the runtime did before snapshot-capture.ts);
 * - sliced: `Runtime.snapshot()`, the capture written a slice at a time;
 * - none: the same load for 600 ms without a snapshot, the baseline.
 *
 * For each it prints the longest synchronous block the snapshot took, the event loop's longest
 * delay and the answers' p99 and max in the window from the snapshot's start to its end plus
 * 200 ms. Run it under the heavy-job lock; on a busy machine compare the two lines of a round.
 *
 *   node --expose-gc --import tsx bench/snapshot-stall.ts [--tasks 20000] [--workers 10000] [--keys 100000] [--clients 50] [--rounds 3] [--slice-ms 4,2,1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SystemClock } from '../coordinator/clock.ts';
import { Runtime, type RuntimeOptions } from '../coordinator/runtime.ts';
import { LowdbStore } from '../coordinator/store/lowdb.ts';
import { SnapshotCapture } from '../coordinator/state/snapshot-capture.ts';
import { State } from '../coordinator/state/state.ts';
import type { Principal } from '../coordinator/auth.ts';
import type { OperationName } from '../protocol/operations.ts';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '20000' }, workers: { type: 'string', default: '10000' }, keys: { type: 'string', default: '100000' }, clients: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' }, 'slice-ms': { type: 'string' } } });
const TASKS = Number(values.tasks);
const dir = mkdtempSync(join(tmpdir(), 'owp-snapshot-stall-'));
const store = new LowdbStore(dir);
const SLICES = (values['slice-ms'] ?? '4').split(',').map(Number);
// The runtime reads snapshotSliceMs from this object at each snapshot: the rounds below set it.
const options: RuntimeOptions = { store, clock: new SystemClock(), adminTokens: ['owpm_snapshot_stall'], snapshotEveryEvents: 1e9, snapshotIntervalMs: 2 ** 30 };
const runtime = await Runtime.open(options);
const admin = runtime.authenticate('owpm_snapshot_stall') as Principal;

let answers: number[] = [];
async function call(name: OperationName, params: Record<string, unknown>, p: Principal = admin): Promise<any> {
  const t0 = performance.now();
  const ack = await runtime.call(p, name, { ...params, idempotency_key: randomUUID() });
  answers.push(performance.now() - t0);
  if (!ack.ok) throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

await call('repo.configure', { repo: 'stall/repo', max_open_prs: 1000, max_new_prs_per_hour: 1000, required_gates: [] });
const ids: string[] = [];
for (let i = 0; i < TASKS; i += 1000) {
  const { tasks } = await call('task.create_many', { tasks: Array.from({ length: Math.min(1000, TASKS - i) }, (_, k) => ({ repo: 'stall/repo', title: `stall ${i + k}`, skills: ['nobody'] })) });
  ids.push(...tasks.map((t: { id: string }) => t.id));
}
const profile = { skills: ['idle'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };
const anonymous: Principal = { kind: 'anonymous' };
for (let i = 0; i < Number(values.workers); i += 100) {
  await Promise.all(Array.from({ length: 100 }, (_, k) => call('worker.register', { github_login: `stall${i + k}`, ...profile }, anonymous)));
}
console.error(`state built: ${runtime.engine.state.tasks.size} tasks, ${runtime.engine.state.workers.size} workers`);
let running = true;
let n = 0;
const update = (): Promise<unknown> => call('task.update', { task_id: ids[(n += 1) % ids.length], priority: n % 7 });
const clients = Array.from({ length: Number(values.clients) }, async () => {
  while (running) await update();
});
while (runtime.engine.state.idempotency.size < Number(values.keys)) await new Promise((r) => setTimeout(r, 50));
console.error(`${runtime.engine.state.idempotency.size} keys`);

// The longest synchronous piece of a sliced snapshot: its start (the record lists and the small
// parts copied at S, State.beginCapture) and every slice (SnapshotCapture.next), timed.
let longestSlice = 0;
function timeEachCall<T extends object>(proto: T, name: keyof T & string): void {
  const original = proto[name] as (...args: unknown[]) => unknown;
  (proto as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const out = original.apply(this, args);
    longestSlice = Math.max(longestSlice, performance.now() - t0);
    return out;
  };
}
timeEachCall(SnapshotCapture.prototype, 'next');
timeEachCall(State.prototype, 'beginCapture');

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
async function measure(kind: 'none' | 'whole' | 'sliced'): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await runtime.whenIdle();
  await new Promise((r) => setTimeout(r, 300));
  answers = [];
  loop.reset();
  longestSlice = 0;
  const t0 = performance.now();
  let block = 0;
  if (kind === 'whole') {
    // What the runtime did: wait until the journal is all durable, then copy and save in one go.
    do await runtime.whenIdle();
    while (runtime.engine.state.seq !== runtime.lastDurableSeq());
    const b0 = performance.now();
    const saving = store.saveSnapshot(runtime.engine.state.toSnapshot());
    block = performance.now() - b0;
    await saving;
  } else if (kind === 'sliced') {
    await runtime.snapshot();
    block = longestSlice;
  } else {
    await new Promise((r) => setTimeout(r, 600)); // the same load, no snapshot: the baseline
  }
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  const sorted = answers.sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 10) / 10;
  console.log(JSON.stringify({
    kind, ...(kind === 'sliced' ? { slice_ms: options.snapshotSliceMs } : {}), snapshot_ms: Math.round(ms), longest_block_ms: round(block), loop_max_ms: round(loop.max / 1e6), loop_p99_ms: round(loop.percentile(99) / 1e6),
    answers: sorted.length, answer_p99_ms: round(sorted[Math.floor(sorted.length * 0.99)] ?? 0), answer_max_ms: round(sorted.at(-1) ?? 0),
    tasks: runtime.engine.state.tasks.size, workers: runtime.engine.state.workers.size, keys: runtime.engine.state.idempotency.size,
  }));
}
for (let r = 0; r < Number(values.rounds); r += 1) {
  await measure('none');
  await measure('whole');
  for (const ms of SLICES) {
    options.snapshotSliceMs = ms;
    await measure('sliced');
  }
}
running = false;
await Promise.all(clients);
await runtime.close({ snapshot: false });
rmSync(dir, { recursive: true, force: true });
process.exit(0);
