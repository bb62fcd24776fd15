/**
 * The lifecycle workload on BullMQ (bench/lifecycle.ts), one process per role, on a Redis with
 * `appendfsync always`:
 *  maintainer  adds tasks as jobs (addBulk, 1,000 a call; one add per probe) and merges each task
 *              as its completion event arrives (QueueEvents "completed": an HSET of the merge)
 *  worker      a Worker with concurrency 4 whose job returns the PR report with its gate evidence
 *              (stored with the completed job)
 * Durable writes per task: the add, the move to active, the move to completed with the report, the
 * completion event in the events stream, the merge: five Redis writes, each in the AOF and fsynced
 * before Redis answers.
 */
import { serveParent } from '../lib/children.ts';
import { wallNow } from '../lib/stats.ts';

interface BullJob {
  name: string;
  data: { i: number };
}
interface RedisClient {
  hset(key: string, field: string, value: string): Promise<unknown>;
  quit(): Promise<unknown>;
}
interface IoredisModule {
  default: new (options: Record<string, unknown>) => RedisClient;
}
interface BullModule {
  Queue: new (name: string, opts: Record<string, unknown>) => {
    addBulk(jobs: Array<{ name: string; data: unknown }>): Promise<unknown>;
    add(name: string, data: unknown): Promise<unknown>;
    close(): Promise<void>;
  };
  QueueEvents: new (name: string, opts: Record<string, unknown>) => {
    on(event: 'completed', fn: (args: { jobId: string }) => void): void;
    waitUntilReady(): Promise<unknown>;
    close(): Promise<void>;
  };
  Worker: new (name: string, processor: (job: BullJob) => Promise<unknown>, opts: Record<string, unknown>) => {
    on(event: string, fn: (...args: unknown[]) => void): void;
    close(force?: boolean): Promise<void>;
    waitUntilReady(): Promise<unknown>;
  };
}

const specifier = 'bullmq';
const bull = (await import(specifier)) as BullModule;
const ioredisName = 'ioredis';
const Redis = ((await import(ioredisName)) as IoredisModule).default;
const QUEUE = 'lifecycle';
const closers: Array<() => Promise<unknown>> = [];
const mergedAt: number[] = [];
const claimedAt: Record<string, number> = {};
let queue: InstanceType<BullModule['Queue']> | undefined;

const connection = (port: number): Record<string, unknown> => ({ host: '127.0.0.1', port, maxRetriesPerRequest: null });

serveParent({
  async maintainer(args) {
    queue = new bull.Queue(QUEUE, { connection: connection(args.port as number) });
    // The maintainer's own connection for the merges, as the peers' docs connect.
    const redis = new Redis(connection(args.port as number));
    const events = new bull.QueueEvents(QUEUE, { connection: connection(args.port as number) });
    events.on('completed', ({ jobId }) => {
      void redis.hset('merged', jobId, String(Date.now())).then(() => mergedAt.push(wallNow()));
    });
    await events.waitUntilReady();
    closers.push(() => events.close(), () => (queue as NonNullable<typeof queue>).close(), () => redis.quit());
    return {};
  },
  async create(args) {
    const n = args.count as number;
    const started = wallNow();
    for (let at = 0; at < n; at += 1000) {
      await (queue as NonNullable<typeof queue>).addBulk(Array.from({ length: Math.min(1000, n - at) }, (_, k) => ({ name: 'task', data: { i: at + k } })));
    }
    return { ms: wallNow() - started };
  },
  async probe(args) {
    const sent = wallNow();
    await (queue as NonNullable<typeof queue>).add('probe', { i: args.i });
    return { sent };
  },
  merged: () => ({ merged_at: mergedAt, errors: {} }),
  async worker(args) {
    const worker = new bull.Worker(QUEUE, async (job) => {
      if (job.name === 'probe') claimedAt[`probe-${job.data.i}`] = wallNow();
      return { pr: { url: `https://example.invalid/bench/pull/${job.data.i}`, number: job.data.i + 1, gates: [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0, duration_ms: 1 }] } };
    }, { connection: connection(args.port as number), concurrency: 4 });
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    closers.push(() => worker.close(true));
    return {};
  },
  claims: () => ({ claimed_at: claimedAt, errors: {} }),
  async close() {
    for (const c of closers) await c().catch(() => undefined);
    return {};
  },
});
process.send?.({ type: 'started' });
