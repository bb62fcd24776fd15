/**
 * Where a snapshot's cost goes in the cycle phase, in process (no sockets): the cycle of
 * bench/cycle-inprocess.ts (a Runtime on a real lowdb store with fsync, N ready tasks, W workers
 * accepting and releasing, `--idle-workers` more registered) with the snapshots' parts timed:
 * the capture's slices (`SnapshotCapture.next`) and pre-images (`beforeFold`), the key file's
 * write (`KeyFile.write`, wall and bytes), the bytes written and the time of each fsync by file,
 * and the journal's fdatasync while a snapshot is being written against while none is.
 *
 *   node --expose-gc --import tsx bench/snapshot-cost.ts [--tasks 10000] [--workers 200] [--idle-workers 10000] [--transitions 120000] [--every N] [--sync-mb 4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { SystemClock } from '../coordinator/clock.ts';
import { Runtime } from '../coordinator/runtime.ts';
import { LowdbStore, NODE_STORE_IO, type StoreFile, type StoreIo } from '../coordinator/store/lowdb.ts';
import { KeyFile } from '../coordinator/store/key-file.ts';
import { SnapshotCapture } from '../coordinator/state/snapshot-capture.ts';
import type { Principal } from '../coordinator/auth.ts';
import type { OperationName } from '../protocol/operations.ts';
import { offerWaiter, seedTasks } from './lib/in-process.ts';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '10000' }, workers: { type: 'string', default: '200' }, 'idle-workers': { type: 'string', default: '10000' }, transitions: { type: 'string', default: '120000' }, every: { type: 'string' }, 'sync-mb': { type: 'string' } } });
const TASKS = Number(values.tasks);
const WORKERS = Number(values.workers);
const TOTAL = Number(values.transitions);

/** Per snapshot-ish counters, reset by the reporter. */
const c = { captureMs: 0, preMs: 0, preCount: 0, keyFileMs: 0, keyFileWrites: 0, bytes: { journal: 0, snapshot: 0, probe: 0 } as Record<StoreFile, number>, syncs: { journal: [] as number[], journalDuring: [] as number[], snapshot: [] as number[] }, snapshots: 0 };
let snapshotting = 0;
const io: StoreIo = {
  ...NODE_STORE_IO,
  async write(file, handle, data) {
    c.bytes[file] += data.length;
    await NODE_STORE_IO.write(file, handle, data);
  },
  async sync(file, handle) {
    const t0 = performance.now();
    const during = snapshotting > 0;
    await NODE_STORE_IO.sync(file, handle);
    const ms = performance.now() - t0;
    if (file === 'journal') (during ? c.syncs.journalDuring : c.syncs.journal).push(ms);
    else c.syncs.snapshot.push(ms);
  },
};
const next = SnapshotCapture.prototype.next;
SnapshotCapture.prototype.next = function (this: SnapshotCapture, limits) {
  const t0 = performance.now();
  try {
    return next.call(this, limits);
  } finally {
    c.captureMs += performance.now() - t0;
  }
};
const beforeFold = SnapshotCapture.prototype.beforeFold;
SnapshotCapture.prototype.beforeFold = function (this: SnapshotCapture, state, e) {
  const t0 = performance.now();
  beforeFold.call(this, state, e);
  c.preMs += performance.now() - t0;
  c.preCount += 1;
};
const write = KeyFile.write;
KeyFile.write = async function (...args: Parameters<typeof KeyFile.write>) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    return await write.apply(KeyFile, args);
  } finally {
    c.keyFileMs += performance.now() - t0;
    c.keyFileWrites += 1;
    void cpu0;
  }
};

const dir = mkdtempSync(join(tmpdir(), 'owp-snapcost-'));
const runtime = await Runtime.open({ store: new LowdbStore(dir, { io, ...(values['sync-mb'] === undefined ? {} : { snapshotSyncBytes: Number(values['sync-mb']) * 1024 * 1024 }) }), clock: new SystemClock(), adminTokens: ['owpm_cycle_bench'], ...(values.every ? { snapshotEveryEvents: Number(values.every) } : {}) });
const snapshot = runtime.snapshot.bind(runtime);
runtime.snapshot = async () => {
  snapshotting += 1;
  c.snapshots += 1;
  try {
    await snapshot();
  } finally {
    snapshotting -= 1;
  }
};
const admin = runtime.authenticate('owpm_cycle_bench') as Principal;
async function call(p: Principal, name: OperationName, params: Record<string, unknown>): Promise<any> {
  const ack = await runtime.call(p, name, { ...params, idempotency_key: randomUUID() });
  if (!ack.ok) throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}
await seedTasks(call, admin, { prefix: 'hold', tasks: TASKS, perRepo: 1000, skill: 'hold', gates: [] });
const profile = { skills: ['idle'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };
for (let i = 0; i < Number(values['idle-workers']); i += 1) await call({ kind: 'anonymous' }, 'worker.register', { github_login: `idle${i}`, ...profile });
await runtime.snapshotWritten();

let transitions = 0;
let answers: number[] = [];
const nextOffer = offerWaiter(runtime);
async function worker(i: number): Promise<void> {
  const reg = await call({ kind: 'anonymous' }, 'worker.register', { github_login: `cycle${i}`, skills: ['hold'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  const p: Principal = { kind: 'worker', id: reg.worker.id as string };
  await runtime.workerConnected(reg.worker.id as string);
  while (transitions < TOTAL) {
    const offerId = await nextOffer(reg.worker.id as string);
    const t0 = performance.now();
    const { lease } = await call(p, 'offer.accept', { offer_id: offerId });
    answers.push(performance.now() - t0);
    transitions += 1;
    const t1 = performance.now();
    await call(p, 'lease.release', { lease_id: lease.lease_id, epoch: lease.epoch });
    answers.push(performance.now() - t1);
    transitions += 1;
  }
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0) * 10) / 10;
};
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
for (const k of Object.keys(c.bytes) as StoreFile[]) c.bytes[k] = 0;
c.captureMs = c.preMs = c.preCount = c.keyFileMs = c.keyFileWrites = c.snapshots = 0;
c.syncs = { journal: [], journalDuring: [], snapshot: [] };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));
while (transitions < TOTAL) await new Promise((r) => setTimeout(r, 20));
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
await runtime.snapshotWritten();
console.log(JSON.stringify({
  transitions, per_s: Math.round(transitions / (wall / 1000)), cpu_us_per_transition: Math.round((cpu.user + cpu.system) / transitions),
  answer_p50_ms: pct(answers, 0.5), answer_p99_ms: pct(answers, 0.99),
  snapshots: c.snapshots, capture_ms_per_snapshot: Math.round(c.captureMs / Math.max(1, c.snapshots)), pre_images: c.preCount, pre_ms_total: Math.round(c.preMs),
  key_file_wall_ms_per_write: Math.round(c.keyFileMs / Math.max(1, c.keyFileWrites)), key_files: c.keyFileWrites,
  mb_written: { journal: Math.round(c.bytes.journal / 1e5) / 10, snapshot: Math.round(c.bytes.snapshot / 1e5) / 10 },
  journal_sync_ms: { idle_n: c.syncs.journal.length, idle_p50: pct(c.syncs.journal, 0.5), idle_p99: pct(c.syncs.journal, 0.99), idle_max: pct(c.syncs.journal, 1), during_n: c.syncs.journalDuring.length, during_p50: pct(c.syncs.journalDuring, 0.5), during_p99: pct(c.syncs.journalDuring, 0.99), during_max: pct(c.syncs.journalDuring, 1) },
  snapshot_fsync_ms: { n: c.syncs.snapshot.length, p50: pct(c.syncs.snapshot, 0.5), max: pct(c.syncs.snapshot, 1), total: Math.round(sum(c.syncs.snapshot)) },
  idempotency_in_memory: runtime.engine.state.idempotency.size,
}));
void workers;
await runtime.close({ snapshot: false });
rmSync(dir, { recursive: true, force: true });
process.exit(0);
