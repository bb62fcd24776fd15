/**
 * The cluster half of the benchmark: three `owp coordinator --store postgres` processes on one
 * fresh PostgreSQL (fsync and synchronous_commit on), loaded by the same worker fleets as the
 * single-node run, everything through a follower. Phases:
 *  spread    cycle workers connected to every node: sockets per node, as each node reports them
 *  cycle     cycle workers on a follower: durable transitions per second relayed to the leader
 *  offers    idle workers on a follower, probe tasks created through another follower: offer latency
 *  takeover  the leader is SIGKILLed, several times: time until another node leads (p50, max);
 *            the killed node is started again and rejoins as a follower
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchAdmin } from './lib/admin.ts';
import { Child } from './lib/children.ts';
import { max, median, quantile, sleep, waitFor, wallNow } from './lib/stats.ts';
import { ensureDebianPackages, startPostgres } from './peers/servers.ts';

export interface ClusterBenchOptions {
  quick: boolean;
  /** bin/owp.mjs (the bundled CLI). */
  cli: string;
  fleetBundle: string;
  workDir: string;
  /** Profiling run: every node writes a V8 CPU profile here; the run stops after the cycle phase. */
  profileDir?: string;
  log: (line: string) => void;
}

interface Node {
  id: string;
  child: ChildProcess;
  url: string;
}

const LEASE_MS = 2000;
const RENEW_MS = 400;

export async function runCluster(options: ClusterBenchOptions): Promise<{ figures: Record<string, unknown>; detail: Record<string, unknown> }> {
  const { log, quick } = options;
  const missing = ensureDebianPackages(log).filter((p) => p.startsWith('postgresql'));
  if (missing.length > 0) throw new Error(`the cluster run needs PostgreSQL: ${missing.join(', ')}`);
  // A folder of its own under /tmp: PostgreSQL runs as the postgres user when we are root and must reach it.
  const pgDir = mkdtempSync(join(tmpdir(), 'owp-bench-cluster-pg-'));
  const pg = await startPostgres(pgDir);
  const token = `owpm_${randomBytes(32).toString('base64url')}`;
  const nodes: Node[] = [];
  const fleets: Child[] = [];
  // The fleets register hundreds of workers from one address, as in the single-node run
  // (coordinator-process.ts): worker.register's own limits (200 at once per address, then one
  // every 10 s) are off. With them on, the full run's cycle fleet (200 workers on a follower that
  // had already registered 67 in the spread phase) waited about 670 s for registrations and its
  // setup timed out at 300 s; --quick (20 + 60) stayed under the burst and never showed it.
  const configFile = join(options.workDir, 'cluster-bench.yml');
  writeFileSync(configFile, 'rate_limits:\n  register: { per_second: 0, burst: 0 }\n  register_total: { per_second: 0, burst: 0 }\n');
  const startNode = async (id: string): Promise<Node> => {
    const dataDir = join(options.workDir, `cluster-${id}`);
    mkdirSync(dataDir, { recursive: true });
    const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, `cluster-${id}`)}`] : [];
    const child = spawn(process.execPath, [...profile, options.cli, 'coordinator', '--store', 'postgres', '--port', '0', '--node-id', id, '--data-dir', dataDir, '--config', configFile, '--leader-lease-ms', String(LEASE_MS), '--leader-renew-interval-ms', String(RENEW_MS)], {
      env: { ...process.env, OWP_DATABASE_URL: pg.connectionString, OWP_ADMIN_TOKEN: token, OWP_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    const url = await waitFor(`${id} to listen`, () => {
      if (child.exitCode !== null) throw new Error(`${id} exited: ${out}`);
      return /listening on (http:\/\/\S+)/.exec(out)?.[1];
    }, 60_000, 50);
    const node = { id, child, url };
    const at = nodes.findIndex((n) => n.id === id);
    if (at >= 0) nodes[at] = node;
    else nodes.push(node);
    return node;
  };
  const status = async (node: Node): Promise<{ leader: boolean; sockets: number } | null> => {
    if (node.child.exitCode !== null || node.child.signalCode !== null) return null;
    try {
      const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) })).text();
      const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { leader: metric('owp_cluster_leader') === 1, sockets: metric('owp_socket_connections') };
    } catch {
      return null;
    }
  };
  const leader = (exclude?: string): Promise<Node> => waitFor('a leader', async () => {
    for (const n of nodes) if (n.id !== exclude && (await status(n))?.leader) return n;
    return undefined;
  }, 60_000, 20);

  const figures: Record<string, unknown> = {};
  const detail: Record<string, unknown> = { lease_ms: LEASE_MS, renew_interval_ms: RENEW_MS };
  try {
    for (const id of ['n1', 'n2', 'n3']) await startNode(id);
    const lead = await leader();
    const followers = nodes.filter((n) => n.id !== lead.id);
    const [f1, f2] = followers as [Node, Node];
    const admin = new BenchAdmin(f1.url, token);

    // ---- spread and cycle: workers on every node, then on a follower alone ----------------------
    const cycleWorkers = quick ? 60 : 200;
    const windowMs = quick ? 2000 : 10_000;
    await admin.configureRepo('bench/cluster', { max_open_prs: 1000, max_new_prs_per_hour: 1000, max_attempts: 20, required_gates: [] });
    await admin.createTasks(quick ? 300 : 2000, 32, (i) => ({ repo: 'bench/cluster', title: `cluster task ${i}`, skills: ['cl'] }));
    log(`cluster: ${cycleWorkers} cycle workers across the three nodes`);
    const spread: Child[] = [];
    for (const n of nodes) spread.push(...(await startFleet(options.fleetBundle, `spread-${n.id}`, Math.ceil(cycleWorkers / 3), { url: n.url, skills: ['cl'], role: 'cycle' })));
    fleets.push(...spread);
    await sleep(1000);
    const perNode = Object.fromEntries(await Promise.all(nodes.map(async (n) => [n.id, (await status(n))?.sockets ?? null] as const)));
    figures.cluster_connections_per_node = perNode;
    await closeFleets(spread);
    fleets.length = 0;

    log(`cluster: ${cycleWorkers} cycle workers on follower ${f1.id} (leader ${lead.id})`);
    const cycle = await startFleet(options.fleetBundle, 'cluster-cycle', cycleWorkers, { url: f1.url, skills: ['cl'], role: 'cycle' });
    fleets.push(...cycle);
    await sleep(1000);
    await Promise.all(cycle.map((f) => f.request('measure', { on: true })));
    await sleep(windowMs);
    const reports = await Promise.all(cycle.map((f) => f.request<{ samples: Record<string, number[]>; transitions: number; errors: Record<string, number> }>('measure', { on: false })));
    const transitions = reports.reduce((a, r) => a + r.transitions, 0);
    const transitionMs = reports.flatMap((r) => [...(r.samples.accept ?? []), ...(r.samples.release ?? [])]);
    figures.cluster_durable_transitions_per_s = transitions / (windowMs / 1000);
    figures.cluster_durable_transition_p99_ms = quantile(transitionMs, 0.99);
    detail.cycle = { workers: cycleWorkers, transitions, median_ms: median(transitionMs), errors: reports.map((r) => r.errors) };
    await closeFleets(cycle);
    fleets.length = 0;
    if (options.profileDir) {
      // A clean stop writes each node's profile; the leader's and the loaded follower's are the ones that matter.
      for (const n of [lead, f1, f2]) {
        n.child.kill('SIGTERM');
        await new Promise((r) => n.child.once('exit', r));
      }
      const { readdirSync } = await import('node:fs');
      const { hotSpots } = await import('./lib/profile.ts');
      const profiles: Record<string, unknown> = {};
      for (const [role, n] of [['leader', lead], ['follower', f1], ['idle_follower', f2]] as const) {
        const folder = join(options.profileDir, `cluster-${n.id}`);
        const file = readdirSync(folder).find((f) => f.endsWith('.cpuprofile'));
        if (file) profiles[role] = hotSpots(join(folder, file), 25);
      }
      detail.profiles = profiles;
      return { figures, detail };
    }

    // ---- offers: idle workers on one follower, tasks created through the other ------------------
    const probes = quick ? 50 : 300;
    log(`cluster: offer latency, workers on ${f1.id}, ${probes} probes created through ${f2.id}`);
    const probeAdmin = new BenchAdmin(f2.url, token);
    await probeAdmin.configureRepo('bench/cluster-probe', { max_open_prs: 1000, max_new_prs_per_hour: 1000, required_gates: [] });
    const watch = await startFleet(options.fleetBundle, 'cluster-watch', quick ? 100 : 500, { url: f1.url, skills: ['clprobe'], role: 'watch' });
    fleets.push(...watch);
    const arrivals = new Map<string, number>();
    for (const f of watch) f.onMessage((m) => {
      if (m.type === 'offer' && !arrivals.has(m.task_id as string)) arrivals.set(m.task_id as string, m.at as number);
    });
    await sleep(500);
    const sent = new Map<string, number>();
    const creating: Array<Promise<void>> = [];
    for (let i = 0; i < probes; i += 1) {
      const at = wallNow();
      creating.push(probeAdmin.call<{ task: { id: string } }>('task.create', { repo: 'bench/cluster-probe', title: `probe ${i}`, skills: ['clprobe'] }).then(({ task }) => void sent.set(task.id, at)));
      await sleep(20);
    }
    await Promise.all(creating);
    await waitFor('every probe offer', () => ([...sent.keys()].every((id) => arrivals.has(id)) ? true : undefined), 30_000, 50).catch(() => undefined);
    const latency = [...sent].flatMap(([id, at]) => (arrivals.has(id) ? [(arrivals.get(id) as number) - at] : []));
    figures.cluster_offer_latency_p99_ms = quantile(latency, 0.99);
    detail.offers = { probes, offered: latency.length, median_ms: median(latency) };
    await closeFleets(watch);
    fleets.length = 0;

    // ---- takeover: SIGKILL the leader, time until another node leads ----------------------------
    const kills = quick ? 3 : 10;
    const takeovers: number[] = [];
    for (let k = 0; k < kills; k += 1) {
      const old = await leader();
      const killedAt = wallNow();
      old.child.kill('SIGKILL');
      await leader(old.id);
      takeovers.push(wallNow() - killedAt);
      await startNode(old.id);
      await sleep(500);
    }
    log(`cluster: takeovers ${takeovers.join(', ')} ms`);
    figures.cluster_takeover_p50_ms = median(takeovers);
    figures.cluster_takeover_max_ms = max(takeovers);
    detail.takeover = { kills, takeover_ms: takeovers, bound_ms: LEASE_MS + RENEW_MS };
    return { figures, detail };
  } finally {
    for (const f of fleets) f.kill();
    for (const n of nodes) n.child.kill('SIGKILL');
    await pg.stop();
    rmSync(pgDir, { recursive: true, force: true });
  }
}

async function startFleet(script: string, name: string, count: number, setup: Record<string, unknown>): Promise<Child[]> {
  const child = new Child(name, script);
  await child.next('started', 60_000);
  await child.request('setup', { ...setup, count, prefix: name }, 300_000);
  return [child];
}

async function closeFleets(fleets: Child[]): Promise<void> {
  await Promise.all(fleets.map((f) => f.request('close', {}, 30_000).catch(() => undefined)));
  for (const f of fleets) f.kill();
  await Promise.all(fleets.map((f) => f.exited));
}
