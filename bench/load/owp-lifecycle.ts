/**
 * The lifecycle workload's OWP side, one process per role (bench/lifecycle.ts runs them):
 *  maintainer  creates tasks (task.create_many, up to 1,000 a request; or one task.create per probe)
 *              and merges each PR as the journal reports it (hello subscribe ["journal"], then
 *              task.complete merged for every pr.opened), all over one socket.io connection
 *  worker      one worker of capacity 4 with an offer window of 4 (offer-pipelining, as `owp worker
 *              --auto-accept` asks) that takes every task: to a coordinator declaring `direct-leases`
 *              it says accept_offers "auto" (as `owp worker --auto-accept` does) and is granted leases
 *              without offers; to one that does not, it accepts every offer. Either way it at once
 *              reports the PR with its gate evidence (lease.report pr_opened), over its own connection
 * Every refusal is counted by code (RATE_LIMITED among them: the shipped defaults should refuse none).
 */
import { io, type Socket } from 'socket.io-client';
import { WorkerClient } from '../../client/worker-client.ts';
import type { Ack } from '../../protocol/operations.ts';
import { MAX_BULK_TASKS } from '../../protocol/operations.ts';
import { serveParent } from '../lib/children.ts';
import { wallNow } from '../lib/stats.ts';

const errors: Record<string, number> = {};
const count = (code: string): void => {
  errors[code] = (errors[code] ?? 0) + 1;
};

// ---- maintainer ------------------------------------------------------------------------------------
let socket: Socket | undefined;
const mergedAt: number[] = [];
let keySeq = 0;

async function call<T>(name: string, params: Record<string, unknown>): Promise<T> {
  for (;;) {
    const ack = (await (socket as Socket).emitWithAck(name, { ...params, idempotency_key: `m-${process.pid}-${(keySeq += 1)}` })) as Ack<T>;
    if (ack.ok) return ack.data;
    count(ack.error.code);
    if (ack.error.code !== 'RATE_LIMITED') throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
    await new Promise((r) => setTimeout(r, Number(ack.error.details?.retry_after_ms ?? 10)));
  }
}

function merge(taskId: string): void {
  call('task.complete', { task_id: taskId, outcome: 'merged' })
    .then(() => mergedAt.push(wallNow()))
    .catch(() => undefined);
}

// ---- worker ----------------------------------------------------------------------------------------
let worker: WorkerClient | undefined;
/** Wall time each probe task (title `probe-<n>`) was held: its lease granted and acknowledged. */
const claimedAt: Record<string, number> = {};
let reported = 0;

async function work(offer: { offer_id: string; task: { title: string } }): Promise<void> {
  try {
    const { lease } = await (worker as WorkerClient).accept(offer.offer_id);
    await reportPr(lease, offer.task.title);
  } catch (error) {
    count((error as { code?: string }).code ?? 'ERROR');
  }
}

/** A lease in hand (accepted, or granted directly): the PR is reported at once. */
async function reportPr(lease: { lease_id: string; task_id: string }, title: string): Promise<void> {
  const w = worker as WorkerClient;
  try {
    if (title.startsWith('probe-')) claimedAt[title] = wallNow();
    await w.report(lease.lease_id, {
      state: 'pr_opened',
      pr: { url: `https://example.invalid/bench/pull/${lease.task_id.slice(2)}`, number: Number(lease.task_id.slice(2)), gates: [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0, duration_ms: 1 }] },
    });
    reported += 1;
  } catch (error) {
    count((error as { code?: string }).code ?? 'ERROR');
  }
}

serveParent({
  async maintainer(args) {
    socket = io(args.url as string, { auth: { token: args.token as string }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      (socket as Socket).once('connect', resolve);
      (socket as Socket).once('connect_error', reject);
    });
    socket.on('journal.appended', (p: { events: Array<{ type: string; task_id?: string }> }) => {
      for (const e of p.events) if (e.type === 'pr.opened' && e.task_id) merge(e.task_id);
    });
    const hello = (await socket.emitWithAck('session.hello', { protocol_version: '0.1', subscribe: ['journal'] })) as Ack<unknown>;
    if (!hello.ok) throw new Error(`hello: ${hello.error.message}`);
    return {};
  },
  /** Creates `count` tasks over `repos` (and `areas` areas, if any) in task.create_many requests; answers the time it took. */
  async create(args) {
    const n = args.count as number;
    const repos = args.repos as string[];
    const areas = args.areas as number;
    const started = wallNow();
    for (let at = 0; at < n; at += MAX_BULK_TASKS) {
      const tasks = Array.from({ length: Math.min(MAX_BULK_TASKS, n - at) }, (_, k) => {
        const i = at + k;
        return { repo: repos[i % repos.length], title: `lifecycle task ${i}`, skills: ['docs'], ...(areas > 0 ? { area: `area-${i % areas}` } : {}) };
      });
      await call('task.create_many', { tasks });
    }
    return { ms: wallNow() - started };
  },
  /** One probe task (idle claim latency): answers when it was sent. */
  async probe(args) {
    const sent = wallNow();
    await call('task.create', { repo: args.repo as string, title: `probe-${args.i as number}`, skills: ['docs'] });
    return { sent };
  },
  merged: () => ({ merged_at: mergedAt, errors }),
  async worker(args) {
    const url = args.url as string;
    const { token } = await WorkerClient.register(url, { github_login: args.login as string, skills: ['docs'], capacity: 4, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
    // An offer window as wide as the capacity and every task taken, as `owp worker --auto-accept` asks
    // for: direct leases where the coordinator declares them (any client may negotiate the capability).
    worker = new WorkerClient({ url, token, maxOpenOffers: 4, acceptOffers: 'auto' });
    worker.on('offer', (offer) => void work(offer as never));
    worker.on('lease.granted', ({ lease, task }) => void reportPr(lease, task.title));
    await worker.connect();
    return {};
  },
  claims: () => ({ claimed_at: claimedAt, reported, errors }),
  close() {
    socket?.close();
    worker?.close();
    return {};
  },
});
process.send?.({ type: 'started' });
