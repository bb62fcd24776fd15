/**
 * The OWP half of the benchmark: one coordinator process on a fresh lowdb data directory, loaded by
 * fleets of socket.io workers in other processes. Phases, in order:
 *  hold     N workers connected, each holding a lease and heartbeating it every 10 s
 *  expiry   every fleet is killed at once: all N leases expire and are requeued by the sweep
 *  cycle    200 workers run offer→accept→release cycles over the N live tasks (durable transitions)
 *  offers   1,000 idle workers; probe tasks are created and timed until their offer arrives
 *  kill     one worker holding a lease is SIGKILLed; time until another worker holds the task
 *  restart  the coordinator is SIGKILLed and started again on the same data (cold recovery)
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BenchAdmin } from './lib/admin.ts';
import { dataDirSizes } from './lib/data-dir.ts';
import { Child } from './lib/children.ts';
import { summarizePauses, type Pauses } from './lib/pauses.ts';
import { max, median, quantile, sleep, waitFor, wallNow } from './lib/stats.ts';

export interface OwpOptions {
  quick: boolean;
  /** Overrides how many workers the hold phase connects (e.g. to find where a slow machine gives out). */
  holdWorkers?: number;
  coordinatorBundle: string;
  fleetBundle: string;
  dataDir: string;
  /** Write a --cpu-prof profile of the coordinator here (the first run is then stopped cleanly). */
  profileDir?: string;
  log: (line: string) => void;
}

export interface Scale {
  holdWorkers: number;
  holdFleets: number;
  heartbeatEveryMs: number;
  holdTimeoutMs: number;
  holdWindowMs: number;
  cycleWorkers: number;
  cycleFleets: number;
  cycleWindowMs: number;
  watchWorkers: number;
  probes: number;
  probeEveryMs: number;
  killTimeoutMs: number;
}

export function scaleFor(quick: boolean, holdWorkers?: number): Scale {
  const scale = scaleForMode(quick);
  return holdWorkers ? { ...scale, holdWorkers, holdFleets: Math.max(1, Math.min(scale.holdFleets, Math.ceil(holdWorkers / 1000))) } : scale;
}

function scaleForMode(quick: boolean): Scale {
  return quick
    ? { holdWorkers: 1000, holdFleets: 2, heartbeatEveryMs: 1000, holdTimeoutMs: 5000, holdWindowMs: 3000, cycleWorkers: 100, cycleFleets: 2, cycleWindowMs: 2000, watchWorkers: 200, probes: 100, probeEveryMs: 20, killTimeoutMs: 2000 }
    : { holdWorkers: 10_000, holdFleets: 8, heartbeatEveryMs: 10_000, holdTimeoutMs: 30_000, holdWindowMs: 30_000, cycleWorkers: 200, cycleFleets: 4, cycleWindowMs: 10_000, watchWorkers: 1000, probes: 500, probeEveryMs: 20, killTimeoutMs: 30_000 };
}

export interface CoordinatorStats {
  event_loop_lag_p50_ms: number;
  event_loop_lag_p99_ms: number;
  event_loop_lag_max_ms: number;
  cpu_pct: number;
  rss_mb: number;
  rss_peak_mb: number;
  heap_used_mb: number;
  window_ms: number;
  sockets: number;
  journal_seq: number;
}

interface RunningCoordinator {
  child: Child;
  url: string;
  adminToken: string;
  servingAfterMs: number;
  warnings: string[];
}

export interface FleetReport {
  samples: Record<string, number[]>;
  /** When each sample ended (wall ms), when `measure` was asked for `times`. */
  sample_at?: Record<string, number[]>;
  errors: Record<string, number>;
  transitions: number;
}

export const PER_REPO = 500;

export async function startCoordinator(options: OwpOptions, profile: boolean): Promise<RunningCoordinator> {
  const child = new Child('coordinator', options.coordinatorBundle, {
    execArgv: profile && options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [],
    // OWP_BENCH_SETTINGS (JSON) adds coordinator settings for a diagnosis, e.g. {"snapshot_every_events":1e8} (bench/README.md, "Latest table").
    env: { OWP_BENCH_COORDINATOR: JSON.stringify({ ...(JSON.parse(process.env.OWP_BENCH_SETTINGS ?? '{}') as object), data_dir: options.dataDir }) },
  });
  const ready = await child.next('ready', 120_000);
  return { child, url: ready.url as string, adminToken: ready.adminToken as string, servingAfterMs: ready.serving_after_ms as number, warnings: ready.warnings as string[] };
}

export async function startFleets(script: string, name: string, count: number, fleets: number, setup: Record<string, unknown>): Promise<Child[]> {
  const children = Array.from({ length: fleets }, (_, i) => new Child(`${name}-${i}`, script));
  await Promise.all(children.map((c) => c.next('started', 60_000)));
  const per = Math.ceil(count / fleets);
  const results = await Promise.all(children.map((c, i) => c.request<{ connected: number; connect_failures: Record<string, number> }>('setup', { ...setup, count: Math.min(per, count - i * per), prefix: `${name}-${i}` }, 900_000)));
  const failures: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.connect_failures)) failures[k] = (failures[k] ?? 0) + v;
  if (Object.keys(failures).length > 0) console.error(`[bench] ${name}: ${sum(results.map((r) => r.connected))} of ${count} workers connected; failures ${JSON.stringify(failures)}`);
  return children;
}

interface FleetStats {
  connect_failures: Record<string, number>;
  workers: number;
  connected: number;
  leases: number;
  leases_lost: number;
  errors: Record<string, number>;
}

async function fleetStats(fleets: Child[]): Promise<FleetStats> {
  const all = await Promise.all(fleets.map((f) => f.request<FleetStats>('stats')));
  const errors: Record<string, number> = {};
  const failures: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  for (const s of all) for (const [k, v] of Object.entries(s.connect_failures)) failures[k] = (failures[k] ?? 0) + v;
  return { connect_failures: failures, workers: sum(all.map((s) => s.workers)), connected: sum(all.map((s) => s.connected)), leases: sum(all.map((s) => s.leases)), leases_lost: sum(all.map((s) => s.leases_lost)), errors };
}

/**
 * One measurement window. `times`: the fleets also say when each sample ended; `wait`: what fills
 * the window instead of a plain sleep (bench/cycle-socket.ts profiles the heap during it).
 */
export async function measure(fleets: Child[], coordinator: Child, windowMs: number, options: { times?: boolean; wait?: (ms: number) => Promise<void> } = {}): Promise<{ reports: FleetReport[]; coordinator: CoordinatorStats }> {
  await coordinator.request('reset');
  await Promise.all(fleets.map((f) => f.request('measure', { on: true })));
  await (options.wait ?? sleep)(windowMs);
  const reports = await Promise.all(fleets.map((f) => f.request<FleetReport>('measure', { on: false, times: options.times === true })));
  const stats = await coordinator.request<CoordinatorStats>('stats');
  return { reports, coordinator: stats };
}

export async function closeFleets(fleets: Child[]): Promise<void> {
  await Promise.all(fleets.map((f) => f.request('close', {}, 30_000).catch(() => undefined)));
  for (const f of fleets) f.kill();
  await Promise.all(fleets.map((f) => f.exited));
}

export function gather(reports: FleetReport[], kinds: string[]): number[] {
  const out: number[] = [];
  for (const r of reports) for (const k of kinds) for (const v of r.samples[k] ?? []) out.push(v);
  return out;
}

function mergeErrors(reports: FleetReport[]): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return errors;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export async function runOwp(options: OwpOptions): Promise<Record<string, unknown>> {
  const scale = scaleFor(options.quick, options.holdWorkers);
  const log = options.log;
  const figures: Record<string, unknown> = {};
  const detail: Record<string, unknown> = { scale };
  let coordinator = await startCoordinator(options, options.profileDir !== undefined);
  const admin = new BenchAdmin(coordinator.url, coordinator.adminToken);
  const fleets: Child[] = [];
  try {
    // ---- hold: N workers, each heartbeating one lease -------------------------------------------
    const repos = Math.ceil(scale.holdWorkers / PER_REPO);
    for (let r = 0; r < repos; r += 1) {
      await admin.configureRepo(`bench/hold-${r}`, { max_open_prs: 1000, max_new_prs_per_hour: 1000, max_attempts: 20, heartbeat_timeout_ms: scale.holdTimeoutMs, required_gates: [] });
    }
    log(`owp: creating ${scale.holdWorkers} tasks in ${repos} repos`);
    let t0 = Date.now();
    await admin.createTasks(scale.holdWorkers, 64, (i) => ({ repo: `bench/hold-${i % repos}`, title: `bench task ${i}`, skills: ['hold'] }));
    detail.task_create_ms = Date.now() - t0;
    log(`owp: connecting ${scale.holdWorkers} workers from ${scale.holdFleets} processes`);
    t0 = Date.now();
    const hold = await startFleets(options.fleetBundle, 'hold', scale.holdWorkers, scale.holdFleets, { url: coordinator.url, skills: ['hold'], role: 'hold', heartbeatEveryMs: scale.heartbeatEveryMs, connectDeadlineMs: options.quick ? 60_000 : 300_000 });
    fleets.push(...hold);
    detail.hold_connect_ms = Date.now() - t0;
    const leased = await waitFor('every connected hold worker to hold a lease', async () => {
      const s = await fleetStats(hold);
      return s.leases >= s.connected ? s : undefined;
    }, 120_000, 500).catch(async () => fleetStats(hold));
    detail.hold_setup_ms = Date.now() - t0;
    log(`owp: ${leased.connected} connected, ${leased.leases} leases; measuring ${scale.holdWindowMs} ms`);
    const held = await measure(hold, coordinator.child, scale.holdWindowMs);
    const after = await fleetStats(hold);
    const heartbeats = gather(held.reports, ['heartbeat']);
    figures.workers_connected = Math.min(held.coordinator.sockets, after.connected);
    figures.heartbeat_ack_p99_ms = quantile(heartbeats, 0.99);
    figures.event_loop_lag_p99_ms = held.coordinator.event_loop_lag_p99_ms;
    figures.coordinator_rss_mb = held.coordinator.rss_peak_mb;
    figures.coordinator_cpu_pct = held.coordinator.cpu_pct;
    detail.hold = { workers_asked: scale.holdWorkers, connect_failures: after.connect_failures, coordinator: held.coordinator, heartbeats: heartbeats.length, heartbeat_ack_median_ms: median(heartbeats), leases: after.leases, leases_lost_during_setup_and_window: after.leases_lost, errors: mergeErrors(held.reports) };

    // ---- expiry: every holder dies at once --------------------------------------------------------
    log('owp: killing every hold worker; waiting for their leases to expire');
    await coordinator.child.request('reset');
    for (const f of hold) f.kill();
    await Promise.all(hold.map((f) => f.exited));
    fleets.length = 0;
    t0 = Date.now();
    await waitFor('every lease to expire', async () => {
      const s = await admin.tasksByState();
      return (s.leased ?? 0) + (s.in_progress ?? 0) === 0 ? s : undefined;
    }, scale.holdTimeoutMs * 2 + 30_000, 250);
    detail.expiry = { all_requeued_after_kill_ms: Date.now() - t0, coordinator: await coordinator.child.request('stats') };

    // ---- cycle: durable lease transitions with N live tasks ---------------------------------------
    log(`owp: ${scale.cycleWorkers} workers cycling offer→accept→release over ${scale.holdWorkers} live tasks`);
    const cycle = await startFleets(options.fleetBundle, 'cycle', scale.cycleWorkers, scale.cycleFleets, { url: coordinator.url, skills: ['hold'], role: 'cycle' });
    fleets.push(...cycle);
    await sleep(1000);
    const cycled = await measure(cycle, coordinator.child, scale.cycleWindowMs);
    const transitionsMs = gather(cycled.reports, ['accept', 'release']);
    const transitions = sum(cycled.reports.map((r) => r.transitions));
    figures.durable_transitions_per_s = transitions / (scale.cycleWindowMs / 1000);
    figures.durable_transition_p99_ms = quantile(transitionsMs, 0.99);
    figures.cycles_per_s = sum(cycled.reports.map((r) => (r.samples.release ?? []).length)) / (scale.cycleWindowMs / 1000);
    detail.cycle = { workers: scale.cycleWorkers, transitions, median_ms: median(transitionsMs), errors: mergeErrors(cycled.reports), coordinator: cycled.coordinator, pauses: summarizePauses(await coordinator.child.request<Pauses>('pauses')), live_tasks: await admin.tasksByState() };
    await closeFleets(cycle);
    fleets.length = 0;

    // ---- offers: ready → offer at an idle eligible worker --------------------------------------
    log(`owp: ${scale.watchWorkers} idle workers, ${scale.probes} probe tasks`);
    await admin.configureRepo('bench/probe', { max_open_prs: 1000, max_new_prs_per_hour: 1000, required_gates: [] });
    const watch = await startFleets(options.fleetBundle, 'watch', scale.watchWorkers, 2, { url: coordinator.url, skills: ['probe'], role: 'watch' });
    fleets.push(...watch);
    const arrivals = new Map<string, number>();
    for (const f of watch) f.onMessage((m) => {
      if (m.type === 'offer' && !arrivals.has(m.task_id as string)) arrivals.set(m.task_id as string, m.at as number);
    });
    await sleep(500);
    await coordinator.child.request('reset');
    const sent = new Map<string, { sentAt: number; ackAt: number }>();
    const creating: Array<Promise<void>> = [];
    for (let i = 0; i < scale.probes; i += 1) {
      const sentAt = wallNow();
      creating.push(admin.call<{ task: { id: string } }>('task.create', { repo: 'bench/probe', title: `probe ${i}`, skills: ['probe'] }).then(({ task }) => {
        sent.set(task.id, { sentAt, ackAt: wallNow() });
      }));
      await sleep(scale.probeEveryMs);
    }
    await Promise.all(creating);
    await waitFor('every probe offer', () => ([...sent.keys()].every((id) => arrivals.has(id)) ? true : undefined), 30_000, 50).catch(() => undefined);
    const fromSend: number[] = [];
    const fromAck: number[] = [];
    for (const [id, s] of sent) {
      const at = arrivals.get(id);
      if (at === undefined) continue;
      fromSend.push(at - s.sentAt);
      fromAck.push(Math.max(0, at - s.ackAt));
    }
    figures.offer_latency_p99_ms = quantile(fromSend, 0.99);
    detail.offers = { probes: scale.probes, offered: fromSend.length, from_create_sent_median_ms: median(fromSend), from_create_acked_p99_ms: quantile(fromAck, 0.99), coordinator: await coordinator.child.request('stats') };
    await closeFleets(watch);
    fleets.length = 0;

    // ---- kill: a worker holding a lease dies; how soon does the task run again? ----------------
    figures.requeue_after_kill_ms = await killTest(options.fleetBundle, admin, coordinator.url, scale, log, detail);

    // ---- restart: cold recovery from the journal ------------------------------------------------
    const journalPath = join(options.dataDir, 'journal.jsonl');
    if (options.profileDir) await coordinator.child.stop();
    else {
      coordinator.child.kill('SIGKILL');
      await coordinator.child.exited;
    }
    const journalBytes = statSync(journalPath).size;
    log(`owp: restarting on ${(journalBytes / 1e6).toFixed(1)} MB of journal`);
    const spawnedAt = wallNow();
    coordinator = await startCoordinator(options, false);
    const restarted = new BenchAdmin(coordinator.url, coordinator.adminToken);
    const live = await restarted.tasksByState();
    const servingAt = wallNow();
    figures.restart_recovery_ms = servingAt - spawnedAt;
    detail.restart = {
      journal_bytes: journalBytes,
      ...dataDirSizes(options.dataDir),
      in_process_serving_after_ms: coordinator.servingAfterMs,
      tasks: sum(Object.values(live)),
      tasks_by_state: live,
      crash: options.profileDir ? 'clean stop (profiling run)' : 'SIGKILL',
      warnings: coordinator.warnings,
    };
    await coordinator.child.stop();

    // ---- from the journal: how late was each expired lease requeued? ------------------------
    const lateness = expiryLateness(journalPath);
    figures.expiry_requeue_late_ms_max = max(lateness);
    detail.expiry_lateness = { expired_leases: lateness.length, median_ms: median(lateness), p99_ms: quantile(lateness, 0.99) };
    return { figures, detail };
  } finally {
    for (const f of fleets) f.kill();
    // A clean stop writes the CPU profile even when a phase failed.
    await coordinator.child.stop(options.profileDir ? 30_000 : 5000);
  }
}

async function killTest(fleet: string, admin: BenchAdmin, url: string, scale: Scale, log: (line: string) => void, detail: Record<string, unknown>): Promise<number | null> {
  log(`owp: kill test (heartbeat timeout ${scale.killTimeoutMs} ms)`);
  await admin.configureRepo('bench/kill', { heartbeat_timeout_ms: scale.killTimeoutMs, max_open_prs: 5, max_new_prs_per_hour: 1000, required_gates: [] });
  const victim = await startFleets(fleet, 'victim', 1, 1, { url, skills: ['victim'], role: 'victim', heartbeatEveryMs: Math.floor(scale.killTimeoutMs / 3) });
  const rescue: Child[] = [];
  try {
    const beat = victim[0]?.next('heartbeat-ack', scale.killTimeoutMs * 2) as Promise<Record<string, unknown>>;
    await admin.call('task.create', { repo: 'bench/kill', title: 'held by a worker that dies', skills: ['victim'] });
    await beat;
    rescue.push(...(await startFleets(fleet, 'rescue', 1, 1, { url, skills: ['victim'], role: 'rescue' })));
    const leased = rescue[0]?.next('leased', scale.killTimeoutMs * 3 + 30_000) as Promise<Record<string, unknown>>;
    await victim[0]?.next('heartbeat-ack', scale.killTimeoutMs * 2);
    const killedAt = wallNow();
    victim[0]?.kill('SIGKILL');
    const at = (await leased).at as number;
    detail.kill = { heartbeat_timeout_ms: scale.killTimeoutMs, sweep_interval_ms: 250 };
    return at - killedAt;
  } finally {
    for (const c of [...victim, ...rescue]) c.kill();
  }
}

/** `late_ms` of every lease.expired event in the journal: how long after its deadline the sweep requeued it. */
function expiryLateness(journalPath: string): number[] {
  const out: number[] = [];
  for (const line of readFileSync(journalPath, 'utf8').split('\n')) {
    if (!line.includes('"lease.expired"')) continue;
    const e = JSON.parse(line) as { type: string; at: number; data: { late_ms?: number; deadline_at?: number } };
    if (e.type !== 'lease.expired') continue;
    out.push(typeof e.data.late_ms === 'number' ? e.data.late_ms : e.at - (e.data.deadline_at ?? e.at));
  }
  return out;
}
