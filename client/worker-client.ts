/**
 * The worker side of OWP over socket.io, shared by the VS Code extension, the CLI worker, the demo
 * and the conformance kit. It says hello on every (re)connect, resumes the leases the coordinator
 * still holds for it, heartbeats them, retries requests across reconnects with the same
 * idempotency key, and reports offers, cancellations and lost leases as events.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { OwpError, type WireError } from '../protocol/errors.ts';
import type { Lease, Offer, Task, Worker } from '../protocol/model.ts';
import { OPERATIONS, type Ack, type NotificationPayload, type OperationName, type Params, type Result } from '../protocol/operations.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { HttpClient } from './http-client.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface WorkerProfile {
  github_login: string;
  skills: string[];
  capacity: number;
  tools: string[];
  capabilities: { can_run_tests: boolean; can_open_prs: boolean };
  /** The repos this worker can work on (a CLI worker: its clone's); absent: any. */
  repos?: string[];
}

export interface WorkerClientOptions {
  url: string;
  token: string;
  /** Sent in every hello so edits (skills, capacity) reach the coordinator on reconnect. */
  profile?: Partial<Omit<WorkerProfile, 'github_login'>>;
  /** Receive `tasks.changed` hints. */
  subscribeTasks?: boolean;
  /**
   * Offer pipelining (SPEC OFFER-009): hold up to this many open offers at once, so a worker with
   * room for several tasks does not wait a round trip per task. Sent in hello only to a coordinator
   * that declares `offer-pipelining` (read from coordinator.info first); others offer one at a time.
   */
  maxOpenOffers?: number;
  /**
   * Direct leases (SPEC OFFER-011): `auto` for a worker that takes every offer it gets. Sent in
   * hello only to a coordinator that declares `direct-leases`; it then grants leases where it would
   * offer, and each arrives as a `lease.granted` event (no offer, no accept round trip). Against any
   * other coordinator the worker gets offers as before, and must accept them itself.
   */
  acceptOffers?: 'ask' | 'auto';
  /** How long one request waits for its ack before it is retried. */
  requestTimeoutMs?: number;
  /** How long a request keeps retrying across reconnects before it fails. */
  retryForMs?: number;
  /** Heartbeat leases automatically (default true). */
  autoHeartbeat?: boolean;
  reconnectionDelayMs?: number;
  reconnectionDelayMaxMs?: number;
}

export interface WorkerClientEvents {
  state: [ConnectionState];
  hello: [Result<'session.hello'>];
  offer: [Offer];
  /**
   * A lease granted directly (acceptOffers `auto`): pushed once durable, or found in the hello after a
   * reconnect (a push lost with the connection). The leases of the first hello are the caller's to
   * resume (`hello.leases`), as with offers accepted before a restart.
   */
  'lease.granted': [{ lease: Lease; task: Task }];
  'offer.withdrawn': [NotificationPayload<'offer.withdrawn'>];
  'lease.cancelled': [NotificationPayload<'lease.cancelled'>];
  /** A lease this client held is gone (refused heartbeat, cancellation, expiry). */
  'lease.lost': [{ lease: Lease; reason: string; code?: string }];
  'lease.renewed': [Lease];
  'tasks.changed': [NotificationPayload<'tasks.changed'>];
  /** The PR attached to a lease waits for required CI checks: attached, a check changed, a new push, the deadline. */
  'pr.checks': [NotificationPayload<'pr.checks_updated'>];
  /** Every required check passed: the PR counts, the lease ended (the draft may be marked ready now). */
  'pr.counted': [NotificationPayload<'pr.counted'>];
  'connect.error': [OwpError];
}

export class WorkerClient extends EventEmitter<WorkerClientEvents> {
  readonly socket: Socket;
  worker: Worker | undefined;
  readonly leases = new Map<string, Lease>();
  readonly offers = new Map<string, Offer>();
  /** The capabilities the coordinator declares (coordinator.info); unknown until asked. */
  private capabilities: readonly string[] | undefined;
  /** Whether a hello on this client was answered before: leases new to a later hello were granted while the link was down. */
  private saidHello = false;
  /** For each hello in flight, the leases that ended since it was sent. */
  private readonly endedDuringHello = new Set<Set<string>>();
  private state: ConnectionState = 'connecting';
  private helloDone: Promise<void>;
  private resolveHello: () => void = () => undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Leases this client is giving back (release, final report): a refused heartbeat on them is no loss. */
  private readonly finishing = new Set<string>();
  private readonly options: WorkerClientOptions;
  private closed = false;

  constructor(options: WorkerClientOptions) {
    super();
    this.options = options;
    this.helloDone = new Promise((resolve) => (this.resolveHello = resolve));
    this.socket = io(options.url, {
      auth: { token: options.token },
      transports: ['websocket'],
      reconnectionDelay: options.reconnectionDelayMs ?? 500,
      reconnectionDelayMax: options.reconnectionDelayMaxMs ?? 10_000,
      randomizationFactor: 0.5,
      autoConnect: false,
    });
    this.socket.on('connect', () => void this.sayHello());
    this.socket.on('disconnect', (reason) => {
      this.helloDone = new Promise((resolve) => (this.resolveHello = resolve));
      // An explicit server kick ("io server disconnect") is not retried by socket.io; we do, unless closed.
      if (reason === 'io server disconnect' && !this.closed) this.socket.connect();
      this.setState(this.closed ? 'disconnected' : 'reconnecting');
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      const code = err.data?.code;
      if (code === 'UNAUTHENTICATED') {
        this.emit('connect.error', new OwpError('UNAUTHENTICATED', 'The coordinator rejected this worker token. Join the pool again to get a new one.'));
        this.socket.disconnect();
        this.setState('disconnected');
        return;
      }
      this.emit('connect.error', new OwpError('UNAVAILABLE', `Cannot reach the coordinator at ${options.url} (${err.message}); retrying.`));
      this.setState('reconnecting');
    });
    this.socket.on('offer.created', (p: NotificationPayload<'offer.created'>) => {
      // The same offer can arrive in hello's list and as a notification; announce it once.
      if (this.offers.has(p.offer.offer_id)) return;
      this.offers.set(p.offer.offer_id, p.offer);
      this.emit('offer', p.offer);
    });
    this.socket.on('lease.granted', (p: NotificationPayload<'lease.granted'>) => {
      // The same lease can arrive in a hello's list and as a push; announce it once.
      if (this.leases.has(p.lease.lease_id)) return;
      this.trackLease(p.lease);
      this.emit('lease.granted', p);
    });
    this.socket.on('offer.withdrawn', (p: NotificationPayload<'offer.withdrawn'>) => {
      this.offers.delete(p.offer_id);
      this.emit('offer.withdrawn', p);
    });
    this.socket.on('lease.cancelled', (p: NotificationPayload<'lease.cancelled'>) => {
      const lease = this.leases.get(p.lease_id);
      this.dropLease(p.lease_id);
      this.emit('lease.cancelled', p);
      if (lease) this.emit('lease.lost', { lease, reason: p.reason, code: p.cause });
    });
    this.socket.on('tasks.changed', (p: NotificationPayload<'tasks.changed'>) => this.emit('tasks.changed', p));
    this.socket.on('pr.checks_updated', (p: NotificationPayload<'pr.checks_updated'>) => {
      // The lease changes mode with the wait (no heartbeat needed until checks_deadline_at, or back to heartbeats).
      this.trackLease(p.lease);
      this.emit('pr.checks', p);
    });
    this.socket.on('pr.counted', (p: NotificationPayload<'pr.counted'>) => {
      this.dropLease(p.lease_id);
      this.emit('pr.counted', p);
    });
  }

  /** Registers a new worker over HTTP; returns its token (store it as a secret). */
  static async register(url: string, profile: WorkerProfile & { invite?: string }): Promise<Result<'worker.register'>> {
    return new HttpClient({ baseUrl: url }).call('worker.register', profile);
  }

  /** Changes the profile sent in every hello (skills, capacity edited while connected). */
  setProfile(profile: Partial<Omit<WorkerProfile, 'github_login'>>): void {
    this.options.profile = profile;
  }

  connectionState(): ConnectionState {
    return this.state;
  }

  /** Connects and resolves after the first hello (with the worker, its offers and leases). */
  connect(): Promise<Result<'session.hello'>> {
    return new Promise((resolve, reject) => {
      const onHello = (h: Result<'session.hello'>): void => {
        this.off('connect.error', onError);
        resolve(h);
      };
      const onError = (e: OwpError): void => {
        if (e.code === 'UNAUTHENTICATED' || e.code === 'VERSION_UNSUPPORTED') {
          this.off('hello', onHello);
          reject(e);
        }
      };
      this.once('hello', onHello);
      this.on('connect.error', onError);
      this.socket.connect();
    });
  }

  private async sayHello(): Promise<void> {
    // Offers from an earlier connection are stale; offers that arrive while hello is in flight are not.
    this.offers.clear();
    const params: Params<'session.hello'> = { protocol_version: PROTOCOL_VERSION };
    if (this.options.profile) params.profile = this.options.profile as Params<'session.hello'>['profile'];
    const window = this.options.maxOpenOffers;
    if (window !== undefined && (await this.declares('offer-pipelining'))) params.profile = { ...params.profile, max_open_offers: window };
    if (this.options.acceptOffers !== undefined && (await this.declares('direct-leases'))) params.profile = { ...params.profile, accept_offers: this.options.acceptOffers };
    if (this.options.subscribeTasks) params.subscribe = ['tasks'];
    // The answer lists the leases as the coordinator saw them when it answered. A lease pushed while
    // the hello is in flight (a direct grant) may be newer than that list: a relay, or a cluster
    // node whose pushes and answers take different paths, can deliver the push first. Only a lease
    // known before the hello was sent is lost when the answer leaves it out.
    // The other way round, a lease that ends while the hello is in flight (cancelled, counted,
    // released, refused) may still be in the answer's list: it is not taken up again.
    const knownBefore = new Set(this.leases.keys());
    const endedMeanwhile = new Set<string>();
    this.endedDuringHello.add(endedMeanwhile);
    let ack: Ack<Result<'session.hello'>>;
    try {
      ack = await this.socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck('session.hello', params);
    } catch {
      this.socket.disconnect().connect();
      return;
    } finally {
      this.endedDuringHello.delete(endedMeanwhile);
    }
    if (!ack.ok) {
      const error = OwpError.fromWire(ack.error as WireError);
      this.emit('connect.error', error);
      if (error.code === 'VERSION_UNSUPPORTED' || error.code === 'UNAUTHENTICATED') this.socket.disconnect();
      else this.retryHello();
      return;
    }
    const hello = ack.data;
    this.worker = hello.worker;
    // Resume: the coordinator's view of our leases wins; anything it no longer has is lost.
    const live = new Set(hello.leases.map((l) => l.lease_id));
    for (const [id, lease] of [...this.leases]) {
      if (!live.has(id) && knownBefore.has(id)) {
        this.dropLease(id);
        this.emit('lease.lost', { lease, reason: 'the coordinator no longer holds this lease', code: 'LEASE_EXPIRED' });
      }
    }
    const granted: Lease[] = [];
    for (const lease of hello.leases) {
      if (endedMeanwhile.has(lease.lease_id)) continue;
      if (this.saidHello && !this.leases.has(lease.lease_id) && hello.worker?.accept_offers === 'auto') granted.push(lease);
      this.trackLease(lease);
      // A resumed lease (after a reconnect, or a restarted editor) may be close to expiring after
      // the time offline: renew it now, not one heartbeat interval from now.
      if (this.options.autoHeartbeat !== false) void this.heartbeat(lease.lease_id);
    }
    const fresh = hello.offers.filter((o) => !this.offers.has(o.offer_id));
    for (const offer of fresh) this.offers.set(offer.offer_id, offer);
    this.saidHello = true;
    this.setState('connected');
    this.resolveHello();
    this.emit('hello', hello);
    for (const offer of fresh) this.emit('offer', offer);
    for (const lease of granted) void this.announceGrant(lease);
  }

  /** A direct lease the hello listed but whose push was lost with the connection: announced with its task, as the push would have. */
  private async announceGrant(lease: Lease): Promise<void> {
    try {
      const { task } = await this.request('task.get', { task_id: lease.task_id });
      if (this.leases.has(lease.lease_id)) this.emit('lease.granted', { lease: this.leases.get(lease.lease_id) ?? lease, task });
    } catch {
      // The lease is tracked and heartbeated all the same; the next hello lists it again.
    }
  }

  /** Whether the coordinator declares a capability: asked once, before the first hello that would use it. */
  private async declares(capability: string): Promise<boolean> {
    if (this.capabilities !== undefined) return this.capabilities.includes(capability);
    try {
      const ack = (await this.socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck('coordinator.info', {})) as Ack<Result<'coordinator.info'>>;
      if (!ack.ok) return false;
      this.capabilities = ack.data.capabilities ?? [];
      return this.capabilities.includes(capability);
    } catch {
      // No answer: say hello without the negotiated fields now and ask again on the next connection.
      return false;
    }
  }

  private reconnectSilentLink(): void {
    if (!this.closed && this.socket.connected) this.socket.disconnect().connect();
  }

  /** A passing refusal (storage down, rate limited): say hello again on this connection after a pause. */
  private retryHello(): void {
    const socket = this.socket;
    const timer = setTimeout(() => {
      if (!this.closed && socket.connected && this.state !== 'connected') void this.sayHello();
    }, 1000);
    timer.unref?.();
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  /**
   * Sends one operation and waits for its ack, retrying across reconnects with the same
   * idempotency key until `retryForMs` passes. Throws OwpError on refusal.
   */
  async request<N extends OperationName>(name: N, params: Omit<Params<N>, 'idempotency_key'> & { idempotency_key?: string }): Promise<Result<N>> {
    const endsLease = name === 'lease.release' || (name === 'lease.report' && (params as { state?: string }).state !== 'in_progress');
    if (!endsLease) return this.send(name, params);
    // While a report or release ends the lease, a heartbeat refusal is that end, not a loss: the
    // coordinator can answer the heartbeat before the ending request's ack, which waits for the disk.
    const leaseId = (params as { lease_id: string }).lease_id;
    this.finishing.add(leaseId);
    try {
      return await this.send(name, params);
    } finally {
      this.finishing.delete(leaseId);
    }
  }

  private async send<N extends OperationName>(name: N, params: Omit<Params<N>, 'idempotency_key'> & { idempotency_key?: string }): Promise<Result<N>> {
    const descriptor = OPERATIONS[name];
    const body: Record<string, unknown> = { ...params };
    if (descriptor.mutating && !descriptor.idempotentByNature && body.idempotency_key === undefined) body.idempotency_key = randomUUID();
    const deadline = Date.now() + (this.options.retryForMs ?? 30_000);
    let waited = false;
    for (;;) {
      if (this.closed) throw new OwpError('UNAVAILABLE', 'This worker client is closed.');
      // A heartbeat waiting out a reconnect is pointless once the lease is gone (the hello said so,
      // or it was cancelled): sending it would act on a lost lease (CLIENT-005). A heartbeat sent
      // while connected goes out as asked: the coordinator is the one that fences it.
      if (waited && name === 'lease.heartbeat' && !this.leases.has(body.lease_id as string)) throw new OwpError('LEASE_EXPIRED', 'This client no longer holds the lease.');
      if (this.state !== 'connected') {
        waited = true;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new OwpError('UNAVAILABLE', `Not connected to the coordinator at ${this.options.url}; ${name} was not sent.`);
        await Promise.race([this.helloDone, sleep(Math.min(remaining, 1000))]);
        continue;
      }
      try {
        const ack = (await this.socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck(name, body)) as Ack<Result<N>>;
        if (ack.ok) {
          this.track(name, body, ack.data);
          return ack.data;
        }
        const error = OwpError.fromWire(ack.error as WireError);
        if (error.code === 'HELLO_REQUIRED' || error.code === 'UNAVAILABLE' || error.code === 'RATE_LIMITED') {
          if (Date.now() > deadline) throw error;
          waited = true;
          await sleep(error.code === 'RATE_LIMITED' ? Number(error.details?.retry_after_ms ?? 200) : 300);
          continue;
        }
        throw error;
      } catch (error) {
        if (error instanceof OwpError) throw error;
        // No ack in time. A link that died silently (a laptop that slept, a NAT that forgot the
        // connection) still looks connected, and socket.io would notice only at its ping timeout
        // (45 s by default), after the lease: start a fresh connection; the retry keeps its key.
        this.reconnectSilentLink();
        waited = true;
        if (Date.now() > deadline) throw new OwpError('UNAVAILABLE', `${name} got no answer from the coordinator in time.`);
      }
    }
  }

  /** Keeps the local view of offers and leases in step with every successful request, however it was sent. */
  private track(name: OperationName, params: Record<string, unknown>, data: unknown): void {
    if (name === 'offer.accept' || name === 'offer.decline') this.offers.delete(params.offer_id as string);
    if (name === 'offer.accept' || name === 'task.claim') {
      const { lease } = data as Result<'offer.accept'>;
      for (const [id, offer] of this.offers) if (offer.task_id === lease.task_id) this.offers.delete(id);
      this.trackLease(lease);
    }
    if (name === 'lease.release' || (name === 'lease.report' && params.state !== 'in_progress' && !waitsForChecks(data))) this.dropLease(params.lease_id as string);
  }

  accept(offerId: string): Promise<Result<'offer.accept'>> {
    return this.request('offer.accept', { offer_id: offerId });
  }

  decline(offerId: string, reason?: string): Promise<Result<'offer.decline'>> {
    return this.request('offer.decline', reason ? { offer_id: offerId, reason } : { offer_id: offerId });
  }

  claim(taskId: string): Promise<Result<'task.claim'>> {
    return this.request('task.claim', { task_id: taskId });
  }

  release(leaseId: string, reason?: string): Promise<Result<'lease.release'>> {
    const lease = this.mustLease(leaseId);
    return this.request('lease.release', { lease_id: leaseId, epoch: lease.epoch, ...(reason ? { reason } : {}) });
  }

  report(leaseId: string, report: Omit<Params<'lease.report'>, 'lease_id' | 'epoch' | 'idempotency_key'>): Promise<Result<'lease.report'>> {
    const lease = this.mustLease(leaseId);
    return this.request('lease.report', { ...report, lease_id: leaseId, epoch: lease.epoch });
  }

  /** Sends one heartbeat now. A refusal (stale epoch, expired) drops the lease and emits lease.lost. */
  async heartbeat(leaseId: string): Promise<Lease | undefined> {
    const lease = this.leases.get(leaseId);
    if (!lease) return undefined;
    try {
      const { lease: renewed } = await this.request('lease.heartbeat', { lease_id: leaseId, epoch: lease.epoch });
      if (!this.leases.has(leaseId)) return undefined; // dropped while the heartbeat was in flight
      this.leases.set(leaseId, renewed);
      this.emit('lease.renewed', renewed);
      return renewed;
    } catch (error) {
      const e = error as OwpError;
      if (e.code === 'STALE_EPOCH' || e.code === 'LEASE_EXPIRED' || e.code === 'NOT_HOLDER' || e.code === 'NOT_FOUND') {
        // Already dropped (another refusal, a cancellation, a resume) or being given back: not a new loss.
        if (!this.leases.has(leaseId) || this.finishing.has(leaseId)) return undefined;
        this.dropLease(leaseId);
        this.emit('lease.lost', { lease, reason: e.message, code: e.code });
      }
      return undefined;
    }
  }

  private trackLease(lease: Lease): void {
    this.leases.set(lease.lease_id, lease);
    if (this.options.autoHeartbeat === false || this.timers.has(lease.lease_id)) return;
    // No ticks while disconnected: they would queue and all fire at once on reconnect; hello renews resumed leases.
    const timer = setInterval(() => {
      if (this.state === 'connected') void this.heartbeat(lease.lease_id);
    }, Math.max(200, lease.heartbeat_interval_ms));
    timer.unref?.();
    this.timers.set(lease.lease_id, timer);
  }

  private dropLease(leaseId: string): void {
    for (const ended of this.endedDuringHello) ended.add(leaseId);
    this.leases.delete(leaseId);
    clearInterval(this.timers.get(leaseId));
    this.timers.delete(leaseId);
  }

  private mustLease(leaseId: string): Lease {
    const lease = this.leases.get(leaseId);
    if (!lease) throw new OwpError('LEASE_EXPIRED', `This client holds no lease ${leaseId}.`);
    return lease;
  }

  /** Stops heartbeating without telling the coordinator (what a crashed worker looks like). */
  stopHeartbeats(): void {
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
  }

  close(): void {
    this.closed = true;
    this.stopHeartbeats();
    this.socket.disconnect();
    this.setState('disconnected');
  }
}

/** A pr_opened report answered with the task still held: its PR waits on the lease for CI checks. */
function waitsForChecks(data: unknown): boolean {
  const task = (data as Partial<Result<'lease.report'>>).task;
  return task !== undefined && (task.state === 'leased' || task.state === 'in_progress') && task.checks !== undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
