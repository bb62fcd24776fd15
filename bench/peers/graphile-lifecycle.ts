/**
 * The lifecycle workload on graphile-worker (bench/lifecycle.ts), one process per role, on
 * PostgreSQL with its defaults (fsync, synchronous_commit on):
 *  maintainer  adds tasks as jobs (add_jobs, 1,000 a call; add_job per probe) and merges each
 *              reported PR: it polls the report table and marks each report merged, one UPDATE each
 *  worker      graphile-worker with concurrency 4 whose task stores the PR report with its gate
 *              evidence (an INSERT: graphile-worker deletes a job once it completes, so the report
 *              needs its own row)
 * Durable writes per task: add_jobs (one commit per 1,000), get_job, the report INSERT,
 * complete_job, the merge UPDATE: four commits per task plus a thousandth.
 */
import { serveParent } from '../lib/children.ts';
import { sleep, wallNow } from '../lib/stats.ts';

interface Runner {
  stop(): Promise<void>;
}
interface GraphileModule {
  Logger: new (factory: () => (level: string, message: string) => void) => unknown;
  run(options: Record<string, unknown>): Promise<Runner>;
  runMigrations(options: Record<string, unknown>): Promise<void>;
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
const quiet = new graphile.Logger(() => (level: string, message: string) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});
const mergedAt: number[] = [];
const claimedAt: Record<string, number> = {};
const closers: Array<() => Promise<unknown>> = [];
let pool: PgPool | undefined;
let merging = true;

const REPORTS = 'create table if not exists bench_reports (id bigserial primary key, task int not null, report jsonb not null, merged_at timestamptz)';

async function mergeLoop(p: PgPool): Promise<void> {
  while (merging) {
    const { rows } = await p.query('select id from bench_reports where merged_at is null order by id limit 1000');
    if (rows.length === 0) {
      await sleep(2);
      continue;
    }
    // One UPDATE per task, eight at a time: a maintainer merging each PR, as OWP's does.
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < rows.length) {
        const id = (rows[next++] as { id: unknown }).id;
        await p.query('update bench_reports set merged_at = now() where id = $1', [id]);
        mergedAt.push(wallNow());
      }
    }));
  }
}

serveParent({
  async maintainer(args) {
    const connectionString = args.connectionString as string;
    await graphile.runMigrations({ connectionString, logger: quiet });
    pool = new pg.default.Pool({ connectionString, max: 10 });
    await pool.query(REPORTS);
    const loop = mergeLoop(pool).catch((error: unknown) => console.error(`merge loop: ${(error as Error).message}`));
    closers.push(async () => {
      merging = false;
      await loop;
      await pool?.end();
    });
    return {};
  },
  async create(args) {
    const n = args.count as number;
    const started = wallNow();
    for (let at = 0; at < n; at += 1000) {
      await (pool as PgPool).query(
        "select count(*) from graphile_worker.add_jobs((select array_agg(row('task', json_build_object('i', g), null, null, null, null, null, null)::graphile_worker.job_spec) from generate_series($1::int, $2::int) g))",
        [at, Math.min(n, at + 1000) - 1],
      );
    }
    return { ms: wallNow() - started };
  },
  async probe(args) {
    const sent = wallNow();
    await (pool as PgPool).query("select graphile_worker.add_job('probe', json_build_object('i', $1::int))", [args.i]);
    return { sent };
  },
  merged: () => ({ merged_at: mergedAt, errors: {} }),
  async worker(args) {
    const connectionString = args.connectionString as string;
    const reports = new pg.default.Pool({ connectionString, max: 4 });
    const report = (i: number): Promise<unknown> => reports.query('insert into bench_reports (task, report) values ($1, $2)', [i, JSON.stringify({ pr: { url: `https://example.invalid/bench/pull/${i}`, number: i + 1, gates: [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0, duration_ms: 1 }] } })]);
    const runner = await graphile.run({
      connectionString,
      concurrency: 4,
      maxPoolSize: 6,
      noHandleSignals: true,
      logger: quiet,
      taskList: {
        task: async (payload: { i: number }) => {
          await report(payload.i);
        },
        probe: async (payload: { i: number }) => {
          claimedAt[`probe-${payload.i}`] = wallNow();
          await report(-1 - payload.i);
        },
      },
    });
    closers.push(() => runner.stop(), () => reports.end());
    return {};
  },
  claims: () => ({ claimed_at: claimedAt, errors: {} }),
  async close() {
    for (const c of closers) await c().catch(() => undefined);
    return {};
  },
});
process.send?.({ type: 'started' });
