/**
 * A fleet of OWP workers in one process (the runner starts several): each registers over HTTP,
 * holds a socket.io connection, says hello and then plays a role:
 *  - hold:   accept one offer, then heartbeat the lease every `heartbeatEveryMs` (random phase)
 *  - cycle:  accept every offer and release the lease at once (claim→complete cycles)
 *  - watch:  note when each offer arrives and leave it open (offer latency probes)
 *  - victim: accept one offer and heartbeat it; tell the runner after every heartbeat ack
 *  - rescue: accept offers and tell the runner when a lease is granted
 * While measuring, every ack latency is kept and returned to the runner.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { serveParent } from '../lib/children.ts';
import { sleep, wallNow } from '../lib/stats.ts';

type Role = 'hold' | 'cycle' | 'watch' | 'victim' | 'rescue';

interface SetupArgs {
  url: string;
  count: number;
  prefix: string;
  skills: string[];
  role: Role;
  heartbeatEveryMs?: number;
  connectConcurrency?: number;
  connectDeadlineMs?: number;
}

interface Ack {
  ok: boolean;
  data?: Record<string, unknown>;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

interface LeaseRef {
  lease_id: string;
  epoch: number;
  task_id: string;
}

interface FleetWorker {
  id: string;
  token: string;
  socket: Socket;
  lease?: LeaseRef;
  heartbeatTimer?: NodeJS.Timeout;
  busy: boolean;
  /** An offer that arrived while this worker was busy: in one group commit the next offer can overtake the last ack. */
  waiting?: OfferRef;
  lastOfferId?: string;
}

interface OfferRef {
  offer_id: string;
  task_id: string;
}

const workers: FleetWorker[] = [];
let role: Role = 'hold';
let heartbeatEveryMs = 10_000;
let measuring = false;
const samples: Record<string, number[]> = {};
/** When each sample ended (wall ms), beside `samples`: bench/cycle-socket.ts sets a latency against the time it happened. */
const sampleAt: Record<string, number[]> = {};
const errors: Record<string, number> = {};
let transitions = 0;
let offersSeen = 0;
let leasesHeld = 0;
let leasesLost = 0;
let disconnects = 0;
const connectFailures: Record<string, number> = {};

function record(kind: string, ms: number): void {
  if (!measuring) return;
  (samples[kind] ??= []).push(ms);
  (sampleAt[kind] ??= []).push(wallNow());
}

function countError(code: string): void {
  errors[code] = (errors[code] ?? 0) + 1;
}

async function register(url: string, login: string, skills: string[]): Promise<{ id: string; token: string }> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const res = await fetch(`${url}/v1/workers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        idempotency_key: randomUUID(),
        github_login: login,
        skills,
        capacity: 1,
        tools: ['bench'],
        capabilities: { can_run_tests: true, can_open_prs: true },
      }),
    });
    const ack = (await res.json()) as Ack;
    if (ack.ok) {
      const data = ack.data as { worker: { id: string }; token: string };
      return { id: data.worker.id, token: data.token };
    }
    if (ack.error?.code !== 'RATE_LIMITED') throw new Error(`register ${login}: ${ack.error?.code} ${ack.error?.message}`);
    await sleep(Number(ack.error.details?.retry_after_ms ?? 100));
  }
  throw new Error(`register ${login}: still rate limited after 50 tries`);
}

async function call(w: FleetWorker, name: string, params: Record<string, unknown>, kind: string): Promise<Ack> {
  const t0 = performance.now();
  let ack: Ack;
  try {
    ack = (await w.socket.timeout(30_000).emitWithAck(name, params)) as Ack;
  } catch {
    countError('NO_ACK');
    return { ok: false, error: { code: 'NO_ACK', message: 'no ack in 30 s' } };
  }
  if (ack.ok) record(kind, performance.now() - t0);
  else countError(ack.error?.code ?? 'UNKNOWN');
  return ack;
}

/** The coordinator took the lease back (expired, cancelled): stop heartbeating it; the worker is free for the next offer. */
function dropLease(w: FleetWorker, leaseId: string): void {
  if (w.lease?.lease_id !== leaseId) return;
  w.lease = undefined;
  leasesHeld -= 1;
  leasesLost += 1;
  clearInterval(w.heartbeatTimer);
}

function startHeartbeats(w: FleetWorker): void {
  clearInterval(w.heartbeatTimer);
  const beat = async (): Promise<void> => {
    const lease = w.lease;
    if (!lease) return;
    const ack = await call(w, 'lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }, 'heartbeat');
    if (ack.ok && role === 'victim') process.send?.({ type: 'heartbeat-ack', at: wallNow(), task_id: lease.task_id });
    if (!ack.ok && ack.error && ['LEASE_EXPIRED', 'STALE_EPOCH', 'NOT_HOLDER', 'NOT_FOUND'].includes(ack.error.code)) dropLease(w, lease.lease_id);
  };
  // Random phase so 10,000 workers spread their heartbeats over the interval, as real ones would.
  const first = setTimeout(() => {
    void beat();
    w.heartbeatTimer = setInterval(() => void beat(), heartbeatEveryMs);
  }, role === 'victim' ? heartbeatEveryMs : Math.random() * heartbeatEveryMs);
  w.heartbeatTimer = first;
}

async function onOffer(w: FleetWorker, offer: OfferRef): Promise<void> {
  // The same offer can come twice: in the hello answer and as a notification.
  if (offer.offer_id === w.lastOfferId) return;
  if (w.busy) {
    w.waiting = offer;
    return;
  }
  w.lastOfferId = offer.offer_id;
  offersSeen += 1;
  if (role === 'watch') {
    process.send?.({ type: 'offer', task_id: offer.task_id, at: wallNow() });
    return;
  }
  if (w.lease) return;
  w.busy = true;
  try {
    await takeOffer(w, offer);
  } finally {
    w.busy = false;
  }
  const waiting = w.waiting;
  w.waiting = undefined;
  if (waiting) await onOffer(w, waiting);
}

async function takeOffer(w: FleetWorker, offer: OfferRef): Promise<void> {
  const accepted = await call(w, 'offer.accept', { offer_id: offer.offer_id, idempotency_key: randomUUID() }, 'accept');
  if (!accepted.ok) return;
  transitions += measuring ? 1 : 0;
  const lease = (accepted.data as { lease: LeaseRef }).lease;
  if (role === 'cycle') {
    const released = await call(w, 'lease.release', { lease_id: lease.lease_id, epoch: lease.epoch, idempotency_key: randomUUID() }, 'release');
    if (released.ok) transitions += measuring ? 1 : 0;
    return;
  }
  w.lease = { lease_id: lease.lease_id, epoch: lease.epoch, task_id: lease.task_id };
  leasesHeld += 1;
  if (role === 'rescue') process.send?.({ type: 'leased', task_id: lease.task_id, at: wallNow() });
  if (role === 'hold' || role === 'victim') startHeartbeats(w);
}

/**
 * Connects one worker and says hello. A hello that gets no answer (an overloaded coordinator) is
 * sent again on the same socket, up to `HELLO_TRIES` times; then the worker counts as not connected.
 */
const HELLO_TRIES = 5;
const CONNECT_BOUND_MS = 120_000;

function connect(url: string, id: string, token: string): Promise<FleetWorker | null> {
  return new Promise((resolve) => {
    const socket = io(url, { auth: { token }, transports: ['websocket'], reconnectionDelay: 1000, reconnectionDelayMax: 10_000, timeout: 60_000 });
    const w: FleetWorker = { id, token, socket, busy: false };
    let settled = false;
    const settle = (value: FleetWorker | null, problem?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      if (!value) {
        connectFailures[problem ?? 'unknown'] = (connectFailures[problem ?? 'unknown'] ?? 0) + 1;
        socket.disconnect();
      }
      resolve(value);
    };
    // socket.io-client retries a timed-out handshake forever; a worker that cannot get in within this bound counts as not connected.
    const giveUp = setTimeout(() => settle(null, 'CONNECT_TIMEOUT'), CONNECT_BOUND_MS);
    socket.on('offer.created', (p: { offer: OfferRef }) => void onOffer(w, p.offer));
    socket.on('lease.cancelled', (p: { lease_id: string }) => dropLease(w, p.lease_id));
    socket.on('disconnect', () => {
      disconnects += 1;
    });
    socket.on('connect', () => {
      void (async () => {
        for (let attempt = 1; attempt <= HELLO_TRIES && socket.connected; attempt += 1) {
          const ack = (await socket.timeout(30_000).emitWithAck('session.hello', { protocol_version: '0.1' }).catch(() => null)) as Ack | null;
          if (ack && !ack.ok) return settle(null, ack.error?.code ?? 'HELLO_REFUSED');
          if (!ack) continue;
          settle(w);
          const offers = (ack.data?.offers ?? []) as OfferRef[];
          for (const offer of offers) void onOffer(w, offer);
          return;
        }
        settle(null, 'HELLO_NO_ACK');
      })();
    });
    socket.on('connect_error', (err) => {
      if (!socket.active) settle(null, `CONNECT_${err.message.slice(0, 40)}`);
    });
  });
}

async function inBatches<T>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

serveParent({
  async setup(raw) {
    const args = raw as unknown as SetupArgs;
    role = args.role;
    heartbeatEveryMs = args.heartbeatEveryMs ?? heartbeatEveryMs;
    const t0 = performance.now();
    const ids = Array.from({ length: args.count }, (_, i) => `${args.prefix}-${i}`);
    const creds: Array<{ id: string; token: string }> = new Array(args.count);
    await inBatches(ids, 32, async (login, i) => {
      creds[i] = await register(args.url, login, args.skills);
    });
    const registeredMs = performance.now() - t0;
    // Connecting stops at the deadline: the hold phase then measures the workers that got in, and says how many did not.
    const deadline = Date.now() + (args.connectDeadlineMs ?? 600_000);
    await inBatches(creds, args.connectConcurrency ?? 16, async (c) => {
      if (Date.now() > deadline) {
        connectFailures.NOT_ATTEMPTED_BEFORE_DEADLINE = (connectFailures.NOT_ATTEMPTED_BEFORE_DEADLINE ?? 0) + 1;
        return;
      }
      const w = await connect(args.url, c.id, c.token);
      if (w) workers.push(w);
    });
    return { registered: creds.length, connected: workers.length, connect_failures: { ...connectFailures }, register_ms: registeredMs, total_ms: performance.now() - t0 };
  },
  measure(args) {
    if (args.on) {
      for (const k of Object.keys(samples)) delete samples[k];
      for (const k of Object.keys(sampleAt)) delete sampleAt[k];
      for (const k of Object.keys(errors)) delete errors[k];
      transitions = 0;
      measuring = true;
      return { started: true };
    }
    measuring = false;
    return { samples, ...(args.times ? { sample_at: sampleAt } : {}), errors: { ...errors }, transitions };
  },
  stats() {
    return {
      workers: workers.length,
      connected: workers.filter((w) => w.socket.connected).length,
      leases: leasesHeld,
      leases_lost: leasesLost,
      offers_seen: offersSeen,
      disconnects,
      connect_failures: { ...connectFailures },
      errors: { ...errors },
    };
  },
  setRole(args) {
    role = args.role as Role;
    return { role };
  },
  close() {
    for (const w of workers) {
      clearInterval(w.heartbeatTimer);
      clearTimeout(w.heartbeatTimer);
      w.socket.disconnect();
    }
    return { closed: workers.length };
  },
});
process.send?.({ type: 'started' });
