/**
 * The floor under the lifecycle's coordinator CPU: a bare socket.io server with the coordinator's
 * versions and options (no compression, the JSON-only encoder, a connection's packets of one tick
 * in one `writev`) answering the lifecycle's traffic with canned packets of the same sizes, and no
 * OWP behind them (no validation, state, journal or fsync). Per task, as in bench/lifecycle.ts:
 * an offer pushed to a worker (445 B), the worker's offer.accept (answer 575 B) and lease.report
 * (203 B, answer 467 B), a journal.appended batch to the maintainer once per turn that had reports
 * (about 250 B per event, 5 events a task), and the maintainer's task.complete (answer 464 B).
 * Two worker connections with 4 offers open each and one maintainer, in one client process.
 *
 *   node --import tsx bench/socketio-floor.ts [--tasks 20000] [--coalesce true] [--durable true]
 *
 * Prints the server process's CPU per task and per packet; what the coordinator spends above that
 * per task is OWP's own work (bench/README.md, "Where a task's time goes").
 */
import { fork } from 'node:child_process';
import { fdatasync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { JSON_ONLY_PARSER } from '../coordinator/socket-parser.ts';
import { coalesceSocketWrites } from '../coordinator/socket-writes.ts';
import { LIMITS } from '../protocol/validate.ts';

const pad = (bytes: number, fields: Record<string, unknown>): Record<string, unknown> => {
  const base = JSON.stringify(fields).length;
  return { ...fields, text: 'x'.repeat(Math.max(0, bytes - base - 10)) };
};

/**
 * With `durable`, answers wait for a group commit as the coordinator's do (coordinator/runtime.ts):
 * started at the end of the turn, one write of every answer's bytes and one fdatasync, what
 * arrived meanwhile in the next one; offers and journal batches go out after their commit.
 */
function groupCommits(durable: boolean): (bytes: number, then: () => void) => void {
  if (!durable) return (_bytes, then) => then();
  const fd = openSync(join(mkdtempSync(join(tmpdir(), 'owp-floor-')), 'journal'), 'a');
  let queue: Array<() => void> = [];
  let bytes = 0;
  let writing = false;
  let queued = false;
  const flush = (): void => {
    queued = false;
    if (writing || queue.length === 0) return;
    writing = true;
    const batch = queue;
    queue = [];
    writeSync(fd, Buffer.alloc(bytes, 120));
    bytes = 0;
    fdatasync(fd, () => {
      writing = false;
      for (const then of batch) then();
      if (queue.length > 0) flush();
    });
  };
  return (n, then) => {
    queue.push(then);
    bytes += n;
    if (!writing && !queued) {
      queued = true;
      setImmediate(flush);
    }
  };
}

async function server(coalesce: boolean, durable: boolean): Promise<void> {
  const commit = groupCommits(durable);
  const http = createServer();
  const ioServer = new Server(http, { serveClient: false, maxHttpBufferSize: LIMITS.maxFrameBytes, parser: JSON_ONLY_PARSER, perMessageDeflate: false, httpCompression: false });
  if (coalesce) coalesceSocketWrites(ioServer);
  let next = 0;
  let merged = 0;
  let packets = 0;
  let reportedThisTurn: string[] = [];
  const maintainer: { socket?: ServerSocket } = {};
  const offer = (socket: ServerSocket): void => {
    packets += 1;
    socket.emit('offer.created', { offer: pad(445, { offer_id: `o-${(next += 1)}`, task_id: `t-${next}` }) });
  };
  const flushJournal = (): void => {
    const ids = reportedThisTurn;
    reportedThisTurn = [];
    packets += 1;
    maintainer.socket?.emit('journal.appended', { events: ids.flatMap((id) => [1, 2, 3, 4, 5].map((k) => pad(250, { seq: k, type: k === 4 ? 'pr.opened' : 'other', task_id: id }))) });
  };
  ioServer.on('connection', (socket) => {
    socket.on('role', (role: string, ack: (a: unknown) => void) => {
      if (role === 'maintainer') maintainer.socket = socket;
      else for (let i = 0; i < 4; i += 1) offer(socket);
      ack({ ok: true });
    });
    socket.on('offer.accept', (p: { task_id: string }, ack: (a: unknown) => void) => {
      packets += 2;
      commit(1400, () => ack({ ok: true, data: pad(575, { lease: { task_id: p.task_id } }) }));
    });
    socket.on('lease.report', (p: { task_id: string }, ack: (a: unknown) => void) => {
      packets += 2;
      commit(1400, () => {
        ack({ ok: true, data: pad(467, { task_id: p.task_id }) });
        if (reportedThisTurn.length === 0) setImmediate(flushJournal);
        reportedThisTurn.push(p.task_id);
        offer(socket);
      });
    });
    socket.on('task.complete', (_p: unknown, ack: (a: unknown) => void) => {
      packets += 2;
      commit(700, () => {
        merged += 1;
        ack({ ok: true, data: pad(464, {}) });
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  let cpu = process.cpuUsage();
  let mark = { merged: 0, packets: 0 };
  process.on('message', (m: string) => {
    if (m === 'mark') {
      cpu = process.cpuUsage();
      mark = { merged, packets };
      process.send?.({ type: 'marked' });
    } else if (m === 'read') {
      const c = process.cpuUsage(cpu);
      process.send?.({ type: 'read', cpu_us: c.user + c.system, user_us: c.user, system_us: c.system, tasks: merged - mark.merged, packets: packets - mark.packets });
    } else if (m === 'stop') process.exit(0);
  });
  process.send?.({ type: 'ready', port: (http.address() as AddressInfo).port });
}

async function client(): Promise<void> {
  const { values } = parseArgs({ options: { tasks: { type: 'string', default: '20000' }, coalesce: { type: 'string', default: 'true' }, durable: { type: 'string', default: 'true' } } });
  const tasks = Number(values.tasks);
  const child = fork(process.argv[1] as string, ['--server', values.coalesce, values.durable], { execArgv: process.execArgv });
  const message = (type: string): Promise<Record<string, number>> => new Promise((resolve) => {
    const on = (m: { type: string }): void => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m as unknown as Record<string, number>);
    };
    child.on('message', on);
  });
  const { port } = await message('ready');
  const url = `http://127.0.0.1:${port}`;
  const connect = async (): Promise<Socket> => {
    const s = io(url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve) => s.once('connect', resolve));
    return s;
  };
  const m = await connect();
  let completed = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  m.on('journal.appended', (p: { events: Array<{ type: string; task_id: string }> }) => {
    for (const e of p.events) {
      if (e.type !== 'pr.opened') continue;
      void m.emitWithAck('task.complete', { task_id: e.task_id, outcome: 'merged', idempotency_key: `m-${e.task_id}` }).then(() => {
        completed += 1;
        if (completed === tasks) done();
      });
    }
  });
  await m.emitWithAck('role', 'maintainer');
  const window = { started: false };
  const warm = Math.min(2000, Math.floor(tasks / 5));
  for (let i = 0; i < 2; i += 1) {
    const w = await connect();
    w.on('offer.created', async (p: { offer: { task_id: string } }) => {
      if (completed >= tasks) return;
      const key = `w-${p.offer.task_id}`;
      await w.emitWithAck('offer.accept', { offer_id: p.offer.task_id, task_id: p.offer.task_id, idempotency_key: key });
      await w.emitWithAck('lease.report', { task_id: p.offer.task_id, lease_id: key, epoch: 1, state: 'pr_opened', idempotency_key: `${key}-r`, pr: { url: `https://example.invalid/bench/pull/${p.offer.task_id}`, number: 1, gates: [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0, duration_ms: 1 }] } });
    });
    await w.emitWithAck('role', 'worker');
  }
  while (completed < warm) await new Promise((r) => setTimeout(r, 10));
  child.send('mark');
  await message('marked');
  const t0 = performance.now();
  window.started = true;
  await finished;
  const wall = performance.now() - t0;
  child.send('read');
  const r = await message('read');
  const n = r.tasks as number;
  console.log(JSON.stringify({ coalesce: values.coalesce, durable: values.durable, tasks: n, tasks_per_s: Math.round(n / (wall / 1000)), server_cpu_ms_per_task: Math.round((r.cpu_us as number) / n) / 1000, user_ms_per_task: Math.round((r.user_us as number) / n) / 1000, system_ms_per_task: Math.round((r.system_us as number) / n) / 1000, packets_per_task: Math.round(((r.packets as number) / n) * 100) / 100, server_cpu_us_per_packet: Math.round((r.cpu_us as number) / (r.packets as number)) }));
  child.send('stop');
  process.exit(0);
}

const serverAt = process.argv.indexOf('--server');
if (serverAt >= 0) await server(process.argv[serverAt + 1] !== 'false', process.argv[serverAt + 2] !== 'false');
else await client();
