/**
 * A graphile-worker process for the side-by-side benchmark (graphile-worker and pg come from
 * bench/node_modules, imported at run time). Roles:
 *  fill      run migrations and add jobs
 *  work      run no-op jobs with `concurrency`, counting completions while measuring
 *  victim    take the "victim" job and never finish it; write a liveness row for its worker every
 *            `livenessEveryMs` (graphile-worker 0.17 has no worker heartbeat of its own)
 *  rescue    run jobs; report when the "victim" job runs here
 *  supervise every 250 ms, force-unlock workers whose liveness row is older than `livenessTimeoutMs`
 *            (graphile-worker's own lock timeout is 4 hours, fixed in its SQL)
 */
import { serveParent } from '../lib/children.ts';
import { wallNow } from '../lib/stats.ts';
import { WindowCounter } from '../lib/window-counter.ts';

interface Helpers {
  job: { locked_by: string | null };
}
interface Runner {
  events: { on(event: string, fn: (...args: unknown[]) => void): void };
  stop(): Promise<void>;
}
interface GraphileModule {
  Logger: new (factory: () => (level: string, message: string) => void) => unknown;
  run(options: Record<string, unknown>): Promise<Runner>;
  runMigrations(options: Record<string, unknown>): Promise<void>;
  makeWorkerUtils(options: Record<string, unknown>): Promise<{ forceUnlockWorkers(ids: string[]): Promise<void>; release(): Promise<void> }>;
}
interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
interface PgModule {
  default: { Pool: new (options: Record<string, unknown>) => PgPool };
}

const graphileName = 'graphile-worker';
const pgName = 'pg';
const graphile = (await import(graphileName)) as GraphileModule;
const pg = (await import(pgName)) as PgModule;
// graphile-worker logs every worker start at info level; the table is the report.
const quiet = new graphile.Logger(() => (level: string, message: string) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});
const completions = new WindowCounter();
const runners: Runner[] = [];
const pools: PgPool[] = [];
const timers: NodeJS.Timeout[] = [];

const LIVENESS_TABLE = 'create table if not exists bench_liveness (worker_id text primary key, seen_at timestamptz not null)';

serveParent({
  async fill(args) {
    const connectionString = args.connectionString as string;
    await graphile.runMigrations({ connectionString, logger: quiet });
    const pool = new pg.default.Pool({ connectionString, max: 2 });
    await pool.query(LIVENESS_TABLE);
    const count = args.count as number;
    for (let i = 0; i < count; i += 5000) {
      await pool.query(
        "select count(*) from graphile_worker.add_jobs((select array_agg(row('noop', json_build_object('i', g), null, null, null, null, null, null)::graphile_worker.job_spec) from generate_series($1::int, $2::int) g))",
        [i + 1, Math.min(count, i + 5000)],
      );
    }
    if (args.victim) await pool.query("select graphile_worker.add_job('victim', '{}'::json)");
    await pool.end();
    return { added: args.count };
  },
  async work(args) {
    const role = args.role as 'work' | 'victim' | 'rescue';
    const connectionString = args.connectionString as string;
    const concurrency = args.concurrency as number;
    const pool = new pg.default.Pool({ connectionString, max: 2 });
    pools.push(pool);
    const taskList = {
      noop: async () => undefined,
      victim: async (_payload: unknown, helpers: Helpers) => {
        if (role !== 'victim') {
          process.send?.({ type: 'rescued', at: wallNow() });
          return;
        }
        const beat = (): Promise<unknown> => pool.query('insert into bench_liveness values ($1, now()) on conflict (worker_id) do update set seen_at = now()', [helpers.job.locked_by]);
        await beat();
        timers.push(setInterval(() => void beat().catch(() => undefined), args.livenessEveryMs as number));
        process.send?.({ type: 'victim-started', at: wallNow() });
        await new Promise(() => undefined);
      },
    };
    // A kill test's processes run only the victim task, so queued no-op jobs do not stand in front of it.
    const runner = await graphile.run({
      connectionString,
      concurrency,
      maxPoolSize: concurrency + 2,
      noHandleSignals: true,
      taskList: role === 'work' ? taskList : { victim: taskList.victim },
      logger: quiet,
      ...(args.pollIntervalMs ? { pollInterval: args.pollIntervalMs } : {}),
    });
    runner.events.on('job:success', () => completions.tick());
    runners.push(runner);
    return { started: true };
  },
  async supervise(args) {
    const connectionString = args.connectionString as string;
    const pool = new pg.default.Pool({ connectionString, max: 2 });
    pools.push(pool);
    const utils = await graphile.makeWorkerUtils({ connectionString, logger: quiet });
    const timeoutMs = args.livenessTimeoutMs as number;
    let sweeping = false;
    timers.push(setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      void (async () => {
        const { rows } = await pool.query(`select worker_id from bench_liveness where seen_at < now() - ($1::int * interval '1 millisecond')`, [timeoutMs]);
        const ids = rows.map((r) => r.worker_id as string);
        if (ids.length > 0) {
          await utils.forceUnlockWorkers(ids);
          await pool.query('delete from bench_liveness where worker_id = any($1)', [ids]);
        }
      })().catch(() => undefined).finally(() => {
        sweeping = false;
      });
    }, 250));
    return { started: true };
  },
  measure: (args) => completions.measure(args),
  async close() {
    for (const t of timers) clearInterval(t);
    await Promise.all(runners.map((r) => r.stop().catch(() => undefined)));
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    return {};
  },
});
process.send?.({ type: 'started' });
