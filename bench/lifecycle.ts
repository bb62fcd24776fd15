/**
 * The lifecycle workload (issue 20): a task's whole life as a user sees it, on OWP and on its peers
 * in the same run. A maintainer creates N tasks in bulk; then two worker processes, each one worker
 * of capacity 4 (concurrency 4 for the peers), take them, and each reports its PR with its gate
 * evidence; the maintainer merges each PR as it is reported. Afterwards, with the queue empty,
 * probe tasks are created one at a time to time an idle claim. OWP runs with the shipped defaults
 * (rate limits included), once without areas and once with 100 areas (area locks in play).
 *
 * Figures per system:
 *  enqueue_tasks_per_s        N ÷ the time to create them all (1,000 per request)
 *  steady_tasks_per_s         merges per second between the 10th and the 90th percentile merge
 *  claim_idle_p50_ms / p99_ms from sending a probe's create to a worker holding it
 *  durable_writes_per_task    what each task costs on disk (OWP: measured journal events and group
 *                             commits per task; the peers: counted from what they write)
 *  restart_after_run_ms       OWP: SIGKILL after the run, then spawn to first answered request
 *
 * OWP also runs at a backlog (issue 20, item 3): BACKLOG ready tasks are created, the workers take N
 * of them (the first created) while the rest stay ready behind them, so every offer is made with
 * 200,000 − N … 200,000 ready tasks queued; its steady figure is compared with the run at N.
 * With `profileDir`, each OWP coordinator runs under --cpu-prof and is stopped cleanly (no SIGKILL
 * restart) so the profile is written; its hot spots are kept under `profile`.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchAdmin } from './lib/admin.ts';
import { dataDirSizes } from './lib/data-dir.ts';
import { bundlePeer } from './lib/bundle.ts';
import { Child } from './lib/children.ts';
import { hotSpots, type HotSpot } from './lib/profile.ts';
import { quantile, sleep, wallNow } from './lib/stats.ts';
import { startPostgres, startRedis } from './peers/servers.ts';

export interface LifecycleOptions {
  quick: boolean;
  root: string;
  workDir: string;
  coordinatorBundle: string;
  lifecycleBundle: string;
  /** Run the peers too (they need bench/node_modules, redis-server and PostgreSQL, as bench/peers.ts installs). */
  peers: boolean;
  /** Profile each OWP coordinator (--cpu-prof) into a folder of its own under this one. */
  profileDir?: string;
  log: (line: string) => void;
}

/** What driving the workload measures, on any system. */
export interface DriveFigures {
  tasks: number;
  enqueue_tasks_per_s: number | null;
  steady_tasks_per_s: number | null;
  claim_idle_p50_ms: number | null;
  claim_idle_p99_ms: number | null;
  claim_samples: number;
  merged: number;
  duration_s: number;
  errors: Record<string, number>;
}

export interface LifecycleFigures extends DriveFigures {
  durable_writes_per_task: number;
  durable_writes_note: string;
  areas?: number;
  coordinator_rss_peak_mb?: number;
  coordinator_cpu_ms_per_task?: number;
  /** OWP: from spawning the coordinator on the run's data (after a SIGKILL) to its first answer, and the journal it had. */
  restart_after_run_ms?: number;
  restart_journal_mb?: number;
  /** OWP at a backlog: the ready tasks queued when the workers started. */
  ready_backlog?: number;
  profile?: { file: string; total_ms: number; spots: HotSpot[] };
  restart_snapshot_mb?: number;
  restart_closed_segments?: number;
}

/** One system's processes: a maintainer and two workers, each answering the same commands. */
interface Roles {
  maintainerArgs: Record<string, unknown>;
  workerArgs: (i: number) => Record<string, unknown>;
  createArgs: Record<string, unknown>;
  probeArgs: Record<string, unknown>;
}

const PER_REPO = 500;
/** Ready tasks queued for the backlog run (issue 20: "the lifecycle figure at 200,000 ready tasks"). */
const READY_BACKLOG = 200_000;

async function spawnChild(name: string, script: string, env?: Record<string, string>): Promise<Child> {
  const c = new Child(name, script, env ? { env } : {});
  await c.next('started', 60_000);
  return c;
}

async function closeAll(children: Child[]): Promise<void> {
  await Promise.all(children.filter((c) => c.alive()).map((c) => c.request('close', {}, 20_000).catch(() => undefined)));
  for (const c of children) c.kill();
  await Promise.all(children.map((c) => c.exited));
}

/**
 * Runs the workload on one system whose processes run `script`: `create` tasks (default `n`), of which
 * the workers take and merge `n`; then `probes` idle claims (only once nothing is left queued).
 */
async function drive(name: string, script: string, roles: Roles, n: number, probes: number, log: (line: string) => void, create = n, beforeWork?: () => Promise<unknown>): Promise<DriveFigures> {
  const started = wallNow();
  const maintainer = await spawnChild(`${name}-maintainer`, script);
  const workers: Child[] = [];
  try {
    await maintainer.request('maintainer', roles.maintainerArgs, 120_000);
    log(`lifecycle ${name}: creating ${create} tasks`);
    const created = await maintainer.request<{ ms: number }>('create', { ...roles.createArgs, count: create }, 900_000);
    await beforeWork?.();
    for (let i = 0; i < 2; i += 1) workers.push(await spawnChild(`${name}-worker-${i}`, script));
    await Promise.all(workers.map((w, i) => w.request('worker', roles.workerArgs(i), 120_000)));
    log(`lifecycle ${name}: 2 workers of capacity 4 at work`);
    const deadline = Date.now() + (n / 20 + 120) * 1000;
    let merged: { merged_at: number[]; errors: Record<string, number> } = { merged_at: [], errors: {} };
    while (Date.now() < deadline) {
      merged = await maintainer.request('merged');
      if (merged.merged_at.length >= n) break;
      await sleep(500);
    }
    const at = [...merged.merged_at].sort((a, b) => a - b);
    const lo = Math.floor(n * 0.1);
    const hi = Math.floor(n * 0.9) - 1;
    const steady = at.length > hi && (at[hi] as number) > (at[lo] as number) ? ((hi - lo) / ((at[hi] as number) - (at[lo] as number))) * 1000 : null;
    log(`lifecycle ${name}: ${at.length} of ${n} merged; idle claims`);
    const latencies: number[] = [];
    for (let i = 0; i < probes && at.length >= n && create === n; i += 1) {
      const { sent } = await maintainer.request<{ sent: number }>('probe', { ...roles.probeArgs, i });
      const title = `probe-${i}`;
      const claimDeadline = Date.now() + 10_000;
      for (;;) {
        const claims = await Promise.all(workers.map((w) => w.request<{ claimed_at: Record<string, number> }>('claims')));
        const held = claims.map((c) => c.claimed_at[title]).find((v) => v !== undefined);
        if (held !== undefined) {
          latencies.push(held - sent);
          break;
        }
        if (Date.now() > claimDeadline) break;
        await sleep(2);
      }
      await sleep(20);
    }
    const errors: Record<string, number> = { ...merged.errors };
    for (const w of workers) {
      const c = await w.request<{ errors: Record<string, number> }>('claims');
      for (const [k, v] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + v;
    }
    return {
      tasks: n,
      enqueue_tasks_per_s: create / (created.ms / 1000),
      steady_tasks_per_s: steady,
      claim_idle_p50_ms: quantile(latencies, 0.5),
      claim_idle_p99_ms: quantile(latencies, 0.99),
      claim_samples: latencies.length,
      merged: at.length,
      duration_s: (wallNow() - started) / 1000,
      errors,
    };
  } finally {
    await closeAll([maintainer, ...workers]);
  }
}

/** One OWP run: `n` tasks worked and merged, out of `backlog` created (the rest stay ready behind them). */
export interface OwpRun {
  key: string;
  n: number;
  probes: number;
  areas: number;
  backlog: number;
}

export async function runOwpLifecycle(options: LifecycleOptions, run: OwpRun): Promise<LifecycleFigures> {
  const { key, n, probes, areas, backlog } = run;
  const dataDir = join(options.workDir, `lifecycle-${key}`);
  const profileDir = options.profileDir ? join(options.profileDir, `lifecycle-${key}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const spawn = (profiled: boolean): Child => new Child(`${key}-coordinator`, options.coordinatorBundle, {
    env: { OWP_BENCH_COORDINATOR: JSON.stringify({ data_dir: dataDir, loop_delay: false }) },
    execArgv: profiled && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  let coordinator = spawn(true);
  try {
    const ready = await coordinator.next('ready', 120_000);
    const url = ready.url as string;
    const token = ready.adminToken as string;
    const admin = new BenchAdmin(url, token);
    // The tasks worked go round-robin over the repos, created first, so they lead each repo's queue.
    const repos = Array.from({ length: Math.max(1, Math.ceil(n / PER_REPO)) }, (_, i) => `life/r${i}`);
    // The review budget holds up to 1,000 new PRs per repo per hour: PER_REPO tasks a repo keep under it.
    for (const repo of repos) await admin.configureRepo(repo, { max_open_prs: 1000, max_new_prs_per_hour: 1000 });
    const before = await coordinator.request<{ journal_seq: number; commits: number }>('stats');
    const figures = await drive(key, options.lifecycleBundle, {
      maintainerArgs: { url, token },
      workerArgs: (i) => ({ url, login: `life-worker-${i}` }),
      createArgs: { repos, areas },
      probeArgs: { repo: repos[0] },
    }, n, probes, options.log, backlog, () => coordinator.request('reset'));
    const after = await coordinator.request<{ journal_seq: number; commits: number; rss_peak_mb: number; cpu_pct: number; window_ms: number }>('stats');
    const tasks = n + figures.claim_samples;
    // The backlog's task.created events are not the worked tasks' cost.
    const events = (after.journal_seq - before.journal_seq - (backlog - n)) / tasks;
    const commits = (after.commits - before.commits) / tasks;
    const out: LifecycleFigures = {
      ...figures,
      areas,
      ...(backlog > n ? { ready_backlog: backlog } : {}),
      durable_writes_per_task: Math.round(events * 100) / 100,
      durable_writes_note: `journal events per task, measured (task.created, offer.created and lease.granted — one lease.granted with direct leases —, pr.opened, task.merged …), written in ${Math.round(commits * 100) / 100} fsynced group commits per task`,
      coordinator_rss_peak_mb: after.rss_peak_mb,
      // What the coordinator's own CPU costs per task from the workers' start on: steadier than tasks/s on a busy machine.
      coordinator_cpu_ms_per_task: Math.round(((after.cpu_pct / 100) * after.window_ms / tasks) * 1000) / 1000,
    };
    if (profileDir) {
      // A clean stop writes the profile; the SIGKILL restart below is skipped for a profiled run.
      await coordinator.stop(60_000);
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) out.profile = { file: join(profileDir, file), ...hotSpots(join(profileDir, file), 25) };
      return out;
    }
    // Restart after the whole run's history: SIGKILL, then spawn on the same data until a request is answered.
    coordinator.kill('SIGKILL');
    await coordinator.exited;
    const onDisk = dataDirSizes(dataDir);
    const spawnedAt = wallNow();
    coordinator = spawn(false);
    const again = await coordinator.next('ready', 120_000);
    await new BenchAdmin(again.url as string, again.adminToken as string).tasksByState();
    out.restart_after_run_ms = wallNow() - spawnedAt;
    // What the restart started from: the whole journal (closed segments included, never read), the snapshot.
    out.restart_journal_mb = onDisk.journal_mb;
    out.restart_snapshot_mb = onDisk.snapshot_mb;
    out.restart_closed_segments = onDisk.closed_segments;
    return out;
  } finally {
    coordinator.kill('SIGTERM');
    await coordinator.exited;
  }
}

async function runBullmqLifecycle(options: LifecycleOptions, n: number, probes: number): Promise<LifecycleFigures> {
  const script = await bundlePeer(options.root, 'peers/bullmq-lifecycle.ts', 'bullmq-lifecycle');
  const redis = await startRedis(join(options.workDir, 'redis-lifecycle'), { fsyncAlways: true });
  try {
    const port = redis.port;
    const figures = await drive('bullmq', script, { maintainerArgs: { port }, workerArgs: () => ({ port }), createArgs: {}, probeArgs: {} }, n, probes, options.log);
    return { ...figures, durable_writes_per_task: 5, durable_writes_note: 'Redis writes per task (add, move to active, move to completed with the report, the completion event, the merge HSET), each in the AOF and fsynced before the answer (appendfsync always)' };
  } finally {
    await redis.stop();
  }
}

async function runGraphileLifecycle(options: LifecycleOptions, n: number, probes: number): Promise<LifecycleFigures> {
  const script = await bundlePeer(options.root, 'peers/graphile-lifecycle.ts', 'graphile-lifecycle');
  const pgRoot = join(options.workDir, 'pg-lifecycle');
  const server = await startPostgres(pgRoot);
  try {
    const base = { connectionString: server.connectionString };
    const figures = await drive('graphile', script, { maintainerArgs: base, workerArgs: () => base, createArgs: {}, probeArgs: {} }, n, probes, options.log);
    return { ...figures, durable_writes_per_task: 4.001, durable_writes_note: 'PostgreSQL commits per task (get_job, the report INSERT, complete_job, the merge UPDATE; add_jobs commits once per 1,000 tasks)' };
  } finally {
    await server.stop();
  }
}

export async function runLifecycle(options: LifecycleOptions): Promise<Record<string, LifecycleFigures | { skipped: string }>> {
  const n = options.quick ? 2000 : 20_000;
  const probes = options.quick ? 50 : 200;
  const out: Record<string, LifecycleFigures | { skipped: string }> = {};
  const attempt = async (key: string, run: () => Promise<LifecycleFigures>): Promise<void> => {
    try {
      out[key] = await run();
    } catch (error) {
      options.log(`lifecycle ${key} failed: ${(error as Error).message.split('\n')[0]}`);
      out[key] = { skipped: `failed: ${(error as Error).message.split('\n')[0]}` };
    }
  };
  await attempt('owp', () => runOwpLifecycle(options, { key: 'owp', n, probes, areas: 0, backlog: n }));
  await attempt('owp_100_areas', () => runOwpLifecycle(options, { key: 'owp_100_areas', n, probes, areas: 100, backlog: n }));
  // Issue 20: the figure with 200,000 ready tasks queued, within 20 % of the one at 2,000 (quick: the `owp` run).
  await attempt('owp_200k_backlog', () => runOwpLifecycle(options, { key: 'owp_200k_backlog', n, probes: 0, areas: 0, backlog: READY_BACKLOG }));
  if (options.peers) {
    await attempt('bullmq', () => runBullmqLifecycle(options, n, probes));
    await attempt('graphile_worker', () => runGraphileLifecycle(options, n, probes));
  }
  return out;
}
