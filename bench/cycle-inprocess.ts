/**
 * The cycle phase of `npm run bench` in-process (no sockets): a Runtime on a real lowdb store,
 * N ready tasks, W workers each accepting the offer it is pushed and releasing the lease at once.
 * Prints, per batch of transitions, the process CPU per transition and the heap after a GC, so
 * a cost or a heap that grows with history shows as a rising column; and the event loop's delay
 * (p99, max) and each transition's answer time (p99, max), where a stall (a snapshot, a segment
 * closing, a GC pause) shows. `--idle-workers N` registers N more workers that never connect (the
 * state the offers phase snapshots holds 10,000 of them).
 *
 *   node --expose-gc --import tsx bench/cycle-inprocess.ts [--tasks 10000] [--workers 200] [--batches 8] [--per-batch 20000] [--idle-workers 0]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SystemClock } from '../coordinator/clock.ts';
import { Runtime } from '../coordinator/runtime.ts';
import { LowdbStore } from '../coordinator/store/lowdb.ts';
import type { Principal } from '../coordinator/auth.ts';
import type { OperationName } from '../protocol/operations.ts';
import { offerWaiter, seedTasks } from './lib/in-process.ts';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '10000' }, workers: { type: 'string', default: '200' }, batches: { type: 'string', default: '8' }, 'per-batch': { type: 'string', default: '20000' }, 'idem-keys': { type: 'string' }, 'idle-workers': { type: 'string', default: '0' } } });
const TASKS = Number(values.tasks);
const WORKERS = Number(values.workers);
const BATCHES = Number(values.batches);
const PER_BATCH = Number(values['per-batch']);
const PER_REPO = 1000;

const dir = mkdtempSync(join(tmpdir(), 'owp-cycle-'));
const runtime = await Runtime.open({ store: new LowdbStore(dir), clock: new SystemClock(), adminTokens: ['owpm_cycle_bench'], ...(values['idem-keys'] ? { idempotencyLimits: { maxKeys: Number(values['idem-keys']), maxAnswerBytes: 2 ** 40 } } : {}) });
const admin = runtime.authenticate('owpm_cycle_bench') as Principal;

async function call(p: Principal, name: OperationName, params: Record<string, unknown>): Promise<any> {
  const ack = await runtime.call(p, name, { ...params, idempotency_key: randomUUID() });
  if (!ack.ok) throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

await seedTasks(call, admin, { prefix: 'hold', tasks: TASKS, perRepo: PER_REPO, skill: 'hold', gates: [] });

const profile = { skills: ['idle'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };
for (let i = 0; i < Number(values['idle-workers']); i += 1) await call({ kind: 'anonymous' }, 'worker.register', { github_login: `idle${i}`, ...profile });

let transitions = 0;
/** Answer times of accepts and releases (ms) in the current batch. */
let answers: number[] = [];
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const timed = async (p: Principal, name: OperationName, params: Record<string, unknown>): Promise<any> => {
  const t0 = performance.now();
  const data = await call(p, name, params);
  answers.push(performance.now() - t0);
  return data;
};
const nextOffer = offerWaiter(runtime);

const total = BATCHES * PER_BATCH;
async function worker(i: number): Promise<void> {
  const reg = await call({ kind: 'anonymous' }, 'worker.register', { github_login: `cycle${i}`, skills: ['hold'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  const id = reg.worker.id as string;
  const p: Principal = { kind: 'worker', id };
  await runtime.workerConnected(id);
  while (transitions < total) {
    const offerId = await nextOffer(id);
    const { lease } = await timed(p, 'offer.accept', { offer_id: offerId });
    transitions += 1;
    await timed(p, 'lease.release', { lease_id: lease.lease_id, epoch: lease.epoch });
    transitions += 1;
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
const reporter = (async () => {
  let mark = 0;
  let cpu = process.cpuUsage();
  let t = performance.now();
  while (mark < total) {
    // A batch may end past its mark (every worker in flight finishes its transition): the last one waits for the total only.
    while (transitions < Math.min(mark + PER_BATCH, total)) await new Promise((r) => setTimeout(r, 20));
    const c = process.cpuUsage(cpu);
    const wall = performance.now() - t;
    const sorted = answers.sort((a, b) => a - b);
    const answer = { answer_p99_ms: Math.round((sorted[Math.floor(sorted.length * 0.99)] ?? 0) * 10) / 10, answer_max_ms: Math.round(sorted.at(-1) ?? 0) };
    const lag = { loop_p99_ms: Math.round(loop.percentile(99) / 1e5) / 10, loop_max_ms: Math.round(loop.max / 1e6) };
    answers = [];
    loop.reset();
    gc?.();
    const m = process.memoryUsage();
    const state = runtime.engine.state;
    console.log(JSON.stringify({ transitions, per_s: Math.round((transitions - mark) / (wall / 1000)), cpu_us_per_transition: Math.round((c.user + c.system) / (transitions - mark)), heap_mb: Math.round(m.heapUsed / 1048576), rss_mb: Math.round(m.rss / 1048576), idempotency: state.idempotency.size, seq: state.seq, ...answer, ...lag }));
    mark = transitions;
    cpu = process.cpuUsage();
    t = performance.now();
  }
})();
for (let i = 0; i < WORKERS; i += 1) void worker(i);
await reporter;
// Workers still waiting for an offer are left waiting: the run ends with the last batch.
await runtime.close({ snapshot: false });
rmSync(dir, { recursive: true, force: true });
process.exit(0);
