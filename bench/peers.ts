/**
 * The peers, same workload, same machine, same run: BullMQ on a local Redis and graphile-worker
 * on a local PostgreSQL. For each: claim→complete cycles per second with N workers (no-op jobs,
 * worker processes separate from the runner), and how long a job held by a SIGKILLed worker takes
 * to run again, under the peer's defaults and under settings matched to ours (a 30 s liveness
 * window checked every 250 ms). A peer that cannot be installed or started is reported as skipped
 * with the reason; the run goes on.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bundlePeer } from './lib/bundle.ts';
import { Child } from './lib/children.ts';
import { sleep } from './lib/stats.ts';
import { ensureDebianPackages, startPostgres, startRedis } from './peers/servers.ts';

export interface PeerResults {
  results: Record<string, Record<string, unknown>>;
  notes: string[];
  detail?: Record<string, unknown>;
}

export interface PeerOptions {
  quick: boolean;
  root: string;
  workDir: string;
  log: (line: string) => void;
  /** Same N as our cycle phase, spread over `processes` worker processes. */
  workers: number;
  processes: number;
  windowMs: number;
  /** Our heartbeat timeout in this mode: the matched peers get the same liveness window. */
  livenessTimeoutMs: number;
}

const SWEEP_MS = 250;

function lockedVersion(root: string, name: string): string | undefined {
  try {
    const lock = JSON.parse(readFileSync(join(root, 'bench', 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    return lock.packages[`node_modules/${name}`]?.version;
  } catch {
    return undefined;
  }
}

function installedVersion(root: string, name: string): string | undefined {
  const path = join(root, 'bench', 'node_modules', name, 'package.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version : undefined;
}

/**
 * Installs bench/package.json's peers into bench/node_modules (never the project's own). `npm ci`
 * first; when it refuses the lock file (msgpackr-extract's per-platform optional builds are not all
 * on this registry) `npm install --no-save`, which keeps the locked versions and leaves the lock alone.
 */
function installPeers(root: string, log: (line: string) => void): string | null {
  const names = ['bullmq', 'ioredis', 'graphile-worker', 'pg'];
  if (names.every((n) => installedVersion(root, n) !== undefined && installedVersion(root, n) === lockedVersion(root, n))) return null;
  log('peers: installing bench/package.json (npm ci --prefix bench)');
  const npm = (args: string[]): boolean => spawnSync('npm', args, { cwd: root, stdio: ['ignore', 'ignore', 'ignore'], timeout: 600_000 }).status === 0;
  if (npm(['ci', '--prefix', 'bench', '--no-audit', '--no-fund'])) return null;
  log('peers: npm ci refused the lock file; npm install --no-save --prefix bench');
  if (npm(['install', '--prefix', 'bench', '--no-save', '--no-audit', '--no-fund'])) return null;
  return 'npm could not install bench/package.json (bullmq, ioredis, graphile-worker, pg)';
}

async function child(name: string, script: string): Promise<Child> {
  const c = new Child(name, script);
  await c.next('started', 60_000);
  return c;
}

async function closeAll(children: Child[]): Promise<void> {
  await Promise.all(children.filter((c) => c.alive()).map((c) => c.request('close', {}, 20_000).catch(() => undefined)));
  for (const c of children) c.kill();
  await Promise.all(children.map((c) => c.exited));
}

/** Completions per second of no-op jobs by N workers in `processes` processes, over the window. The first process fills the queue. */
async function throughput(name: string, script: string, base: Record<string, unknown>, options: PeerOptions, jobs: number): Promise<{ cycles_per_s: number; completed: number; jobs: number; drained: boolean; fill_ms: number }> {
  const workers = await Promise.all(Array.from({ length: options.processes }, (_, i) => child(`${name}-work-${i}`, script)));
  try {
    const t0 = Date.now();
    await workers[0]?.request('fill', { ...base, count: jobs }, 300_000);
    const fillMs = Date.now() - t0;
    await Promise.all(workers.map((w) => w.request('work', { ...base, role: 'work', concurrency: Math.ceil(options.workers / options.processes) }, 60_000)));
    await sleep(1000);
    await Promise.all(workers.map((w) => w.request('measure', { on: true })));
    await sleep(options.windowMs);
    const counts = await Promise.all(workers.map((w) => w.request<{ completed: number }>('measure', { on: false })));
    const completed = counts.reduce((a, c) => a + c.completed, 0);
    return { cycles_per_s: completed / (options.windowMs / 1000), completed, jobs, drained: completed >= jobs * 0.9, fill_ms: fillMs };
  } finally {
    await closeAll(workers);
  }
}

/**
 * A job held by a worker process that is SIGKILLed right after it started the job: how long until
 * another worker process runs it. The rescuer adds the job (before it starts working, so the
 * victim takes it); `supervise` starts graphile's liveness supervisor in the rescuer's process.
 */
async function killTest(name: string, script: string, base: Record<string, unknown>, victimArgs: Record<string, unknown>, rescueArgs: Record<string, unknown>, waitMs: number, supervise?: Record<string, unknown>): Promise<number | null> {
  const [victim, rescue] = await Promise.all([child(`${name}-victim`, script), child(`${name}-rescue`, script)]);
  const children = [victim, rescue];
  try {
    await victim.request('work', { ...base, ...victimArgs, role: 'victim', concurrency: 1 }, 60_000);
    const started = victim.next('victim-started', 60_000);
    await rescue.request('fill', { ...base, count: 0, victim: true }, 60_000);
    await started;
    await rescue.request('work', { ...base, ...rescueArgs, role: 'rescue', concurrency: 1 }, 60_000);
    if (supervise) await rescue.request('supervise', { ...base, ...supervise }, 60_000);
    const rescued = rescue.next('rescued', waitMs);
    const killedAt = performance.timeOrigin + performance.now();
    victim.kill('SIGKILL');
    const at = (await rescued).at as number;
    return at - killedAt;
  } finally {
    await closeAll(children);
  }
}

async function runBullmq(options: PeerOptions, jobs: number): Promise<Record<string, unknown>> {
  const BULLMQ = await bundlePeer(options.root, 'peers/bullmq-child.ts', 'bullmq-child');
  const T = options.livenessTimeoutMs;
  const matched = { lockDuration: T, lockRenewTime: Math.floor(T / 3), stalledInterval: SWEEP_MS, maxStalledCount: 1 };
  const out: Record<string, unknown> = {
    version: installedVersion(options.root, 'bullmq'),
    durable_by_default: 'no',
    guarantees: 'Redis acknowledges writes before any fsync by default (RDB snapshots only, no AOF): jobs acknowledged in the last minutes can be lost on a crash. `cycles_per_s_durable` reruns with appendonly yes + appendfsync always.',
    settings_default: { lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 1 },
    settings_matched: matched,
  };
  const dir = join(options.workDir, 'redis');
  let redis = await startRedis(join(dir, 'default'), { fsyncAlways: false });
  try {
    const base = { port: redis.port };
    options.log(`peers: bullmq throughput, ${options.workers} workers (Redis defaults)`);
    const tp = await throughput('bullmq', BULLMQ, { ...base, queue: 'tp' }, options, jobs);
    out.cycles_per_s = tp.cycles_per_s;
    out.throughput_detail = tp;
    options.log('peers: bullmq kill test (matched settings)');
    out.requeue_after_kill_ms_matched = await killTest('bullmq', BULLMQ, { ...base, queue: 'kill-matched' }, { settings: matched }, { settings: matched }, T * 3 + 30_000);
    if (!options.quick) {
      options.log('peers: bullmq kill test (defaults)');
      out.requeue_after_kill_ms_default = await killTest('bullmq', BULLMQ, { ...base, queue: 'kill-default' }, { settings: {} }, { settings: {} }, 150_000);
    } else out.requeue_after_kill_ms_default = null;
  } finally {
    await redis.stop();
  }
  if (options.quick) {
    out.cycles_per_s_durable = null;
    return out;
  }
  redis = await startRedis(join(dir, 'fsync'), { fsyncAlways: true });
  try {
    options.log('peers: bullmq throughput (Redis appendfsync always)');
    const tp = await throughput('bullmq-fsync', BULLMQ, { port: redis.port, queue: 'tp' }, options, jobs);
    out.cycles_per_s_durable = tp.cycles_per_s;
    out.throughput_durable_detail = tp;
  } finally {
    await redis.stop();
  }
  return out;
}

async function runGraphile(options: PeerOptions, jobs: number): Promise<Record<string, unknown>> {
  const GRAPHILE = await bundlePeer(options.root, 'peers/graphile-child.ts', 'graphile-child');
  const T = options.livenessTimeoutMs;
  const out: Record<string, unknown> = {
    version: installedVersion(options.root, 'graphile-worker'),
    durable_by_default: 'yes',
    guarantees: 'PostgreSQL defaults (fsync on, synchronous_commit on): a completed job is on disk when acknowledged. A dead worker\'s job stays locked for 4 hours (fixed in its SQL); only forceUnlockWorkers() frees it sooner, so the matched run adds a liveness table and a supervisor.',
    settings_default: { lock_timeout: '4 h (fixed)', pollInterval: 2000 },
    settings_matched: { liveness_timeout_ms: T, supervisor_every_ms: SWEEP_MS, pollInterval: SWEEP_MS },
    requeue_after_kill_ms_default: null,
    requeue_after_kill_default_note: '4 h lock timeout (14,400,000 ms), fixed in graphile-worker 0.17 SQL; not waited for',
  };
  // PostgreSQL refuses to run as root; its folder (owned by the postgres user) sits in the work dir, which it may traverse.
  chmodSync(options.workDir, 0o711);
  const pgRoot = join(options.workDir, 'pg');
  let pgServer: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    options.log('peers: starting PostgreSQL (initdb in a temp folder)');
    pgServer = await startPostgres(pgRoot);
    const base = { connectionString: pgServer.connectionString };
    options.log(`peers: graphile-worker throughput, ${options.workers} workers`);
    const tp = await throughput('graphile', GRAPHILE, base, options, jobs);
    out.cycles_per_s = tp.cycles_per_s;
    out.cycles_per_s_durable = tp.cycles_per_s;
    out.throughput_detail = tp;
    options.log('peers: graphile-worker kill test (matched: liveness + forceUnlockWorkers)');
    out.requeue_after_kill_ms_matched = await killTest('graphile', GRAPHILE, base, { livenessEveryMs: Math.floor(T / 3) }, { pollIntervalMs: SWEEP_MS }, T * 3 + 30_000, { livenessTimeoutMs: T });
  } finally {
    await pgServer?.stop();
    rmSync(pgRoot, { recursive: true, force: true });
  }
  return out;
}

export async function runPeers(options: PeerOptions): Promise<PeerResults> {
  const notes: string[] = [];
  const results: Record<string, Record<string, unknown>> = {};
  const installProblem = installPeers(options.root, options.log);
  const missing = installProblem ? [] : ensureDebianPackages(options.log);
  // Enough queued jobs that the window never drains them (a drained run is flagged in the detail).
  const jobs = options.quick ? 8000 : 100_000;
  const attempt = async (name: string, needs: string, run: () => Promise<Record<string, unknown>>): Promise<void> => {
    const absent = missing.find((m) => m.startsWith(needs));
    const reason = installProblem ?? (absent ? `${absent}` : undefined);
    if (reason) {
      results[name] = { skipped: reason };
      notes.push(`${name} skipped: ${reason}`);
      return;
    }
    try {
      results[name] = await run();
    } catch (error) {
      const message = (error as Error).message.split('\n')[0] ?? String(error);
      results[name] = { skipped: `failed: ${message}` };
      notes.push(`${name} skipped: failed: ${message}`);
    }
  };
  await attempt('bullmq', 'redis-server', () => runBullmq(options, jobs));
  await attempt('graphile_worker', 'postgresql', () => runGraphile(options, jobs));
  if (results.bullmq && !results.bullmq.skipped) notes.push('bullmq: Redis acknowledges before fsync by default; compare our durable figures with its cycles_per_s_durable (appendfsync always).');
  if (results.graphile_worker && !results.graphile_worker.skipped) notes.push('graphile_worker: a killed worker\'s job is locked for 4 h by default; the matched figure needs a liveness table and a forceUnlockWorkers() supervisor that the bench adds.');
  return { results, notes };
}
