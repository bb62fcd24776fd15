/**
 * What one request costs the coordinator, in CPU and in allocated bytes: a figure that holds on a
 * busy machine where throughput does not. The coordinator runs in this process (startCoordinator on
 * lowdb in a temp dir, shipped defaults); its clients run in a child process over real socket.io
 * connections, so their work is not counted. Phases (each measured alone):
 *   read       one worker sends offer.list, 8 in flight: the request path with almost no engine work
 *   cycle      8 workers accept each offer pushed and release the lease at once (the bench's cycle phase)
 *   lifecycle  2 workers of capacity 4 (4 open offers each) accept and report the PR with a gate; a
 *              maintainer subscribed to the journal merges each (task.complete): the lifecycle workload
 * Prints per phase: requests, CPU µs per request (and per task or transition), bytes allocated per
 * request (from V8's GC profile: heap used before each collection minus after the last), GCs.
 *
 *   node --import tsx bench/request-cost.ts [--phase read,cycle,lifecycle] [--n 20000] [--rounds 1] [--heap-profile DIR] [--cpu-profile DIR]
 *
 * --heap-profile writes each phase's sampling heap profile (every object, collected or not) to DIR,
 * for bench/heap-profile-sum.ts; --cpu-profile each phase's CPU profile.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';

interface Job {
  url: string;
  admin: string;
  phase: string;
  n: number;
  round: number;
}
type AckLike = { ok: boolean; data?: any; error?: { code: string; message: string } };

if (process.env.OWP_REQUEST_COST_CLIENT) await client();
else await runner();

async function runner(): Promise<void> {
  const { values } = parseArgs({ options: { phase: { type: 'string', default: 'read,cycle,lifecycle' }, n: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '1' }, 'heap-profile': { type: 'string' }, 'cpu-profile': { type: 'string' } } });
  const session = values['heap-profile'] || values['cpu-profile'] ? new Session() : undefined;
  session?.connect();
  const post = (method: string, params: object = {}): Promise<any> => new Promise((resolve, reject) => session?.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  const { startCoordinator } = await import('../coordinator/server.ts');
  const { DEFAULT_RATE_LIMITS } = await import('../coordinator/rate-limit.ts');
  const dir = mkdtempSync(join(tmpdir(), 'owp-request-cost-'));
  const started = await startCoordinator({
    config: { port: 0, host: '127.0.0.1', store: 'lowdb', data_dir: dir, rate_limits: { ...DEFAULT_RATE_LIMITS, register: { per_second: 0, burst: 0 }, register_total: { per_second: 0, burst: 0 } } },
  });
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, OWP_REQUEST_COST_CLIENT: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (): Promise<Record<string, any>> => new Promise((resolve) => child.once('message', (m) => resolve(m as Record<string, any>)));
  try {
    for (let round = 0; round < Number(values.rounds); round += 1) {
      for (const phase of values.phase.split(',')) {
        const job: Job = { url: started.url, admin: started.adminToken, phase, n: Number(values.n), round };
        child.send({ type: 'setup', job });
        await next(); // set up: workers registered, tasks created, nobody connected yet
        await new Promise((r) => setTimeout(r, 300)); // let the setup's commits and timers settle
        if (values['cpu-profile']) {
          await post('Profiler.enable');
          await post('Profiler.start');
        }
        if (values['heap-profile']) await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        const profiler = new GCProfiler();
        profiler.start();
        const cpu0 = process.cpuUsage();
        const used0 = getHeapStatistics().used_heap_size;
        child.send({ type: 'go' });
        const done = await next();
        const cpu = process.cpuUsage(cpu0);
        const used1 = getHeapStatistics().used_heap_size;
        const gcs = profiler.stop()?.statistics ?? [];
        if (values['cpu-profile']) {
          const { profile } = await post('Profiler.stop');
          writeFileSync(join(values['cpu-profile'], `${phase}-${round}.cpuprofile`), JSON.stringify(profile));
        }
        if (values['heap-profile']) {
          const { profile } = await post('HeapProfiler.stopSampling');
          writeFileSync(join(values['heap-profile'] as string, `${phase}-${round}.heapprofile`), JSON.stringify(profile));
        }
        let allocated = 0;
        let after = used0;
        let scavenges = 0;
        let fulls = 0;
        for (const gc of gcs) {
          allocated += gc.beforeGC.heapStatistics.usedHeapSize - after;
          after = gc.afterGC.heapStatistics.usedHeapSize;
          if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkCompact' || gc.gcType === 'MinorMarkSweep') scavenges += 1;
          else if (gc.gcType === 'MarkSweepCompact') fulls += 1;
        }
        allocated += used1 - after;
        const requests = done.requests as number;
        const units = done.units as number;
        const us = (cpu.user + cpu.system) / requests;
        console.log(JSON.stringify({
          round, phase, requests, [done.unit]: units,
          cpu_us_per_request: Math.round(us * 10) / 10,
          [`cpu_us_per_${done.unit}`]: Math.round((cpu.user + cpu.system) / units),
          kb_allocated_per_request: Math.round((allocated / requests / 1024) * 100) / 100,
          scavenges, full_gcs: fulls, wall_ms: done.ms,
        }));
      }
    }
  } finally {
    child.kill();
    await started.coordinator.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
}

// ---- the client process -----------------------------------------------------------------------------

async function client(): Promise<void> {
  let job: Job | undefined;
  let tokens: string[] = [];
  let keys = 0;
  const key = (): string => `rc-${process.pid}-${(keys += 1)}`;
  const connect = async (url: string, token: string | undefined): Promise<Socket> => {
    const s = io(url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
    return s;
  };
  const call = async (s: Socket, name: string, params: Record<string, unknown>): Promise<any> => {
    const ack = (await s.emitWithAck(name, params)) as AckLike;
    if (!ack.ok) throw new Error(`${name}: ${ack.error?.code} ${ack.error?.message}`);
    return ack.data;
  };
  /** Calls cut short when a phase ends and its sockets close are expected; anything else is reported. */
  const quiet = (e: unknown): void => {
    if (!String(e).includes('disconnected')) console.error(String(e));
  };
  const profile = (capacity: number): Record<string, unknown> => ({ skills: ['docs'], capacity, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });

  async function setup(j: Job): Promise<void> {
    const admin = await connect(j.url, j.admin);
    await call(admin, 'session.hello', { protocol_version: '0.1' });
    // A release counts an attempt (at most 20 a task): the cycle spreads its transitions over n/10 tasks.
    const tasks = j.phase === 'read' ? 0 : j.phase === 'cycle' ? Math.ceil(j.n / 10) : j.n;
    // A repo takes at most 1,000 new PRs an hour: the lifecycle's tasks are spread over enough of them.
    const repos = Array.from({ length: Math.max(1, Math.ceil(tasks / 900)) }, (_, r) => `bench/rc-${j.phase}-${j.round}-${r}`);
    for (const repo of repos) {
      await call(admin, 'repo.configure', { idempotency_key: key(), repo, max_open_prs: 1000, max_new_prs_per_hour: 1000, max_attempts: 20, heartbeat_timeout_ms: 60_000, required_gates: j.phase === 'lifecycle' ? ['tests'] : [] });
    }
    for (let at = 0; at < tasks; at += 1000) {
      await call(admin, 'task.create_many', { idempotency_key: key(), tasks: Array.from({ length: Math.min(1000, tasks - at) }, (_, k) => ({ repo: repos[(at + k) % repos.length], title: `rc ${at + k}`, skills: ['docs'] })) });
    }
    admin.close();
    const anon = await connect(j.url, undefined);
    const workers = j.phase === 'read' ? 1 : j.phase === 'cycle' ? 8 : 2;
    tokens = [];
    for (let i = 0; i < workers; i += 1) {
      const r = await call(anon, 'worker.register', { idempotency_key: key(), github_login: `rc${j.phase}${j.round}w${i}`, ...profile(j.phase === 'lifecycle' ? 4 : 1) });
      tokens.push(r.token as string);
    }
    anon.close();
  }

  async function go(j: Job): Promise<{ requests: number; units: number; unit: string }> {
    const sockets: Socket[] = [];
    let requests = 0;
    let units = 0;
    try {
      if (j.phase === 'read') {
        const s = await connect(j.url, tokens[0]);
        sockets.push(s);
        await call(s, 'session.hello', { protocol_version: '0.1' });
        requests += 1;
        let sent = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (sent < j.n) {
            sent += 1;
            await call(s, 'offer.list', {});
            requests += 1;
            units += 1;
          }
        }));
        return { requests, units, unit: 'read' };
      }
      if (j.phase === 'cycle') {
        let finish: () => void = () => undefined;
        const finished = new Promise<void>((resolve) => (finish = resolve));
        for (const token of tokens) {
          const s = await connect(j.url, token);
          sockets.push(s);
          s.on('offer.created', (p: { offer: { offer_id: string } }) => {
            if (units >= j.n) return;
            void (async () => {
              const { lease } = await call(s, 'offer.accept', { idempotency_key: key(), offer_id: p.offer.offer_id });
              await call(s, 'lease.release', { idempotency_key: key(), lease_id: lease.lease_id, epoch: lease.epoch });
              requests += 2;
              units += 1;
              if (units >= j.n) finish();
            })().catch(quiet);
          });
          await call(s, 'session.hello', { protocol_version: '0.1' });
          requests += 1;
        }
        await finished;
        return { requests, units, unit: 'transition_pair' };
      }
      // lifecycle
      let finish: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const admin = await connect(j.url, j.admin);
      sockets.push(admin);
      admin.on('journal.appended', (p: { events: Array<{ type: string; task_id?: string }> }) => {
        for (const e of p.events) {
          if (e.type !== 'pr.opened' || !e.task_id) continue;
          void call(admin, 'task.complete', { idempotency_key: key(), task_id: e.task_id, outcome: 'merged' }).then(() => {
            requests += 1;
            units += 1;
            if (units >= j.n) finish();
          }, quiet);
        }
      });
      await call(admin, 'session.hello', { protocol_version: '0.1', subscribe: ['journal'] });
      requests += 1;
      for (const token of tokens) {
        const s = await connect(j.url, token);
        sockets.push(s);
        s.on('offer.created', (p: { offer: { offer_id: string } }) => {
          void (async () => {
            const { lease } = await call(s, 'offer.accept', { idempotency_key: key(), offer_id: p.offer.offer_id });
            await call(s, 'lease.report', {
              idempotency_key: key(), lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened',
              pr: { url: `https://example.invalid/bench/pull/${lease.task_id.slice(2)}`, number: Number(lease.task_id.slice(2)), gates: [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0, duration_ms: 1 }] },
            });
            requests += 2;
          })().catch(quiet);
        });
        await call(s, 'session.hello', { protocol_version: '0.1', profile: { max_open_offers: 4 } });
        requests += 1;
      }
      await finished;
      return { requests, units, unit: 'task' };
    } finally {
      for (const s of sockets) s.close();
    }
  }

  process.on('message', (m: { type: string; job?: Job }) => {
    if (m.type === 'setup') {
      job = m.job as Job;
      void setup(job).then(() => process.send?.({ type: 'ready' }), (e: unknown) => {
        console.error(e);
        process.exit(1);
      });
    } else if (m.type === 'go') {
      const t0 = performance.now();
      void go(job as Job).then((r) => process.send?.({ ...r, ms: Math.round(performance.now() - t0) }), (e: unknown) => {
        console.error(e);
        process.exit(1);
      });
    }
  });
}
