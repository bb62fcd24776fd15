/**
 * A BullMQ worker process for the side-by-side benchmark (BullMQ comes from bench/node_modules,
 * imported at run time so the project's own type-check does not need it). Roles:
 *  fill   add jobs to the queue
 *  work   process no-op jobs with `concurrency`, counting completions while measuring
 *  victim take the job named "victim" and never finish it (the runner then SIGKILLs this process)
 *  rescue process jobs; report when the "victim" job runs here
 */
import { serveParent } from '../lib/children.ts';
import { wallNow } from '../lib/stats.ts';
import { WindowCounter } from '../lib/window-counter.ts';

interface BullJob {
  name: string;
}
interface BullModule {
  Queue: new (name: string, opts: Record<string, unknown>) => {
    addBulk(jobs: Array<{ name: string; data: unknown }>): Promise<unknown>;
    add(name: string, data: unknown): Promise<unknown>;
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
const completions = new WindowCounter();
const workers: Array<InstanceType<BullModule['Worker']>> = [];

function connection(port: number): Record<string, unknown> {
  return { host: '127.0.0.1', port, maxRetriesPerRequest: null };
}

serveParent({
  async fill(args) {
    const queue = new bull.Queue(args.queue as string, { connection: connection(args.port as number) });
    const count = args.count as number;
    for (let i = 0; i < count; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
    }
    if (args.victim) await queue.add('victim', {});
    await queue.close();
    return { added: count };
  },
  async work(args) {
    const role = args.role as 'work' | 'victim' | 'rescue';
    const processor = async (job: BullJob): Promise<unknown> => {
      if (job.name === 'victim') {
        if (role === 'victim') {
          process.send?.({ type: 'victim-started', at: wallNow() });
          return new Promise(() => undefined);
        }
        process.send?.({ type: 'rescued', at: wallNow() });
      }
      return null;
    };
    const worker = new bull.Worker(args.queue as string, processor, {
      connection: connection(args.port as number),
      concurrency: args.concurrency as number,
      ...(args.settings as Record<string, unknown>),
    });
    worker.on('completed', () => completions.tick());
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    workers.push(worker);
    return { started: true };
  },
  measure: (args) => completions.measure(args),
  async close() {
    await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    return {};
  },
});
process.send?.({ type: 'started' });
