/**
 * One coordinator process of a cluster on PostgreSQL. Every node serves workers, maintainers and
 * dashboards; exactly one leads (runs the engine, the sweep and the scheduler) under the
 * leadership lease in owp_leader. The others follow the journal (follower.ts) and relay every
 * command to the leader (relay.ts), answering their clients once the leader has made the change
 * durable and their own copy has applied it (so a client reads its own writes on any node).
 *
 * Roles: follower → (lease free: take it, term + 1) promoting → leader → (lease lost, append
 * fenced, or not renewed within leaseMs) follower. A takeover catches the hot copy up to the
 * journal's end at the takeover and starts the runtime on it; live leases get a fresh heartbeat
 * window, as after a restart. Safety never rests on timers: the term fence in every append
 * (store/postgres.ts) refuses a deposed leader's writes; the timers only decide when to try.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Namespace } from 'socket.io';
import { OwpError, type WireError } from '../../protocol/errors.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { OPERATIONS, type Ack, type OperationName } from '../../protocol/operations.ts';
import type { Principal } from '../auth.ts';
import { Engine } from '../engine/engine.ts';
import type { Notification } from '../engine/command.ts';
import type { HelloProfile } from '../engine/sessions.ts';
import { readJournalPage } from '../journal-reads.ts';
import { Runtime, wireError, type RuntimeEvents, type RuntimeOptions } from '../runtime.ts';
import type { CoordinatorService, Readiness, WorkerSession } from '../service.ts';
import type { State } from '../state/state.ts';
import type { StoredEvent } from '../state/stored-event.ts';
import { createPool, FencedError, PostgresStore, type LeaderRow } from '../store/postgres.ts';
import { JournalFollower, type FollowerOptions } from './follower.ts';
import { LeaseKeeper, type Role } from './lease-keeper.ts';
import { FOLLOWER_READS, FollowerReads, type FollowerReadCounts } from './follower-reads.ts';
import { RelayClient, RelayServer, type RelayReply } from './relay.ts';

export interface ClusterSettings {
  databaseUrl: string;
  /** This node's name in the lease row and the logs; default host-pid-random. */
  nodeId?: string;
  /** The URL other nodes reach this one at (they relay to the leader's); default: the URL it listens on. */
  advertiseUrl?: string;
  /** How long a lease lasts without renewal: the bound on a takeover after a leader dies (plus one renew interval). */
  leaseMs: number;
  /** How often the leader renews and standbys try to take a lapsed lease. */
  renewIntervalMs: number;
  /** A follower whose copy is behind the leader for longer than this is not ready (/readyz 503). */
  maxLagMs: number;
}

export const DEFAULT_CLUSTER: Omit<ClusterSettings, 'databaseUrl'> = { leaseMs: 5000, renewIntervalMs: 1000, maxLagMs: 2000 };

export interface ClusterNodeOptions extends Omit<RuntimeOptions, 'store'> {
  cluster: ClusterSettings;
}

export interface ClusterStatus {
  node: string;
  role: Role;
  /** The term this node leads in, or the last term it saw. */
  term: number;
  leader: { node: string | null; url: string | null };
  /** This node's copy behind the leader's last commit (0 on the leader). */
  lag: { events: number; seconds: number };
  /** On the leader: each connected follower's copy, by node. */
  followers: Array<{ node: string; lagEvents: number; lagSeconds: number }>;
  /** Terms this node has taken since it started. */
  takeovers: number;
  /** Reads this node answered from its copy while following, and reads it handed to the leader. */
  reads: FollowerReadCounts;
}

/** How long a follower linked to the leader waits for a notified commit's push before reading the journal. */
const PUSH_GRACE_MS = 100;

export function defaultNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export class ClusterNode extends EventEmitter<RuntimeEvents> implements CoordinatorService {
  readonly nodeId: string;
  readonly warnings: string[] = [];
  readonly store: PostgresStore;
  /** A pool of its own for socket.io's PostgreSQL adapter (it keeps one connection for LISTEN). */
  readonly adapterPool: pg.Pool;
  private readonly settings: ClusterSettings;
  private readonly options: ClusterNodeOptions;
  /** The relay link's secret (owp_cluster). */
  private readonly secret: string;
  private role: Role = 'follower';
  private runtime: Runtime | undefined;
  private follower: JournalFollower | undefined;
  /** What reads fall back to while no copy is loaded (a deposed leader reloading). */
  private fallbackEngine: Engine;
  private promotion: Promise<void> = Promise.resolve();
  private readonly relay: RelayClient;
  private readonly reads: FollowerReads;
  private relayServer: RelayServer | undefined;
  /** Worker sockets on this node, by worker: told to whichever node leads. */
  private readonly localSockets = new Map<string, number>();
  private url: string | null = null;
  private term = 0;
  private takeovers = 0;
  private leaderRow: LeaderRow | null = null;
  /** On the leader: what each follower last reported of its copy. */
  private readonly followerSeqs = new Map<string, { seq: number; lagSeconds: number }>();
  /** Told the runtime when this node starts leading, and undefined when it stops. */
  private readonly leadershipListeners: Array<(runtime: Runtime | undefined) => void> = [];
  private readonly lease: LeaseKeeper;
  private closing = false;
  private closed = false;
  private readonly forward = {
    notify: (n: Notification): void => void this.emit('notify', n),
    journal: (events: JournalEvent[]): void => void this.emit('journal', events),
    commit: (c: RuntimeEvents['commit'][0]): void => void this.emit('commit', c),
    durable: (events: readonly StoredEvent[]): void => this.relayServer?.pushDurable(events),
    degraded: (error: Error | null): void => {
      this.emit('degraded', error);
      // A refused append means another node leads: stop now rather than at the next renewal.
      if (error instanceof FencedError) void this.stepDown(error.message);
    },
  };

  private constructor(options: ClusterNodeOptions, store: PostgresStore, adapterPool: pg.Pool, secret: string, follower: JournalFollower) {
    super();
    this.options = options;
    this.settings = options.cluster;
    this.nodeId = store.node;
    this.store = store;
    this.adapterPool = adapterPool;
    this.follower = follower;
    this.fallbackEngine = follower.engine;
    this.attachFollower(follower);
    this.relay = new RelayClient({
      secret,
      node: this.nodeId,
      localSockets: () => this.localSockets,
      adminTokens: options.adminTokens ?? [],
      timeoutMs: Math.max(10_000, this.settings.leaseMs * 2),
      onDurable: (events) => this.follower?.receive(events),
      ...(options.log ? { log: options.log } : {}),
    });
    this.secret = secret;
    this.lease = new LeaseKeeper(store, this.settings, {
      role: () => this.role,
      halted: () => this.closing,
      acquired: (taken, sentAt) => void this.lead(taken, sentAt),
      lost: (reason) => this.stepDown(reason),
      observed: (row) => this.observeLeader(row),
      followed: () => {
        if (this.follower) this.relay.tell('applied', { seq: this.follower.applied(), lagSeconds: this.follower.lag().seconds });
      },
      ...(options.log ? { log: options.log } : {}),
    });
    this.reads = new FollowerReads({
      maxWaitMs: this.settings.maxLagMs,
      leaderSeq: async () => {
        const reply = await this.relay.requestRetrying<null>('seq');
        if (!reply.ack.ok) throw OwpError.fromWire(reply.ack.error as WireError);
        return reply.seq;
      },
    });
  }

  /** Connects, migrates the schema, loads this node's copy of the state; leads or follows once run() is called. */
  static async create(options: ClusterNodeOptions): Promise<ClusterNode> {
    const nodeId = options.cluster.nodeId ?? defaultNodeId();
    const pool = createPool(options.cluster.databaseUrl, { applicationName: `owp ${nodeId}`, queryTimeoutMs: Math.max(5000, options.cluster.leaseMs * 2) });
    const adapterPool = createPool(options.cluster.databaseUrl, { max: 4, applicationName: `owp ${nodeId} socket.io` });
    // The lease's own connection, kept open: see PostgresStoreOptions.leasePool.
    const leasePool = createPool(options.cluster.databaseUrl, { max: 1, idleTimeoutMs: 0, applicationName: `owp ${nodeId} lease`, queryTimeoutMs: Math.max(5000, options.cluster.leaseMs * 2) });
    const store = new PostgresStore({ pool, node: nodeId, leasePool });
    try {
      const ran = await store.migrate();
      for (const m of ran) options.log?.info({ migration: m }, 'database schema migrated');
      const secret = await store.clusterSecret();
      let made: ClusterNode | undefined;
      const follower = await JournalFollower.start(ClusterNode.followerOptions(options, store, () => made?.relay.isConnected() ?? false));
      made = new ClusterNode(options, store, adapterPool, secret, follower);
      return made;
    } catch (error) {
      await pool.end().catch(() => undefined);
      await adapterPool.end().catch(() => undefined);
      await leasePool.end().catch(() => undefined);
      throw error;
    }
  }

  private static followerOptions(options: ClusterNodeOptions, store: PostgresStore, relayConnected: () => boolean): FollowerOptions {
    const { clock, cluster, adminTokens: _a, beforeCommand: _b, log, ...engineOptions } = options;
    return {
      store,
      databaseUrl: cluster.databaseUrl,
      makeEngine: (state: State) => new Engine({ ...engineOptions, clock, state }),
      pollIntervalMs: Math.min(1000, cluster.renewIntervalMs),
      pushGraceMs: () => (relayConnected() ? PUSH_GRACE_MS : 0),
      ...(log ? { log } : {}),
    };
  }

  /** Serves the relay link on this namespace (of the node's own socket.io server). */
  attachRelay(nsp: Namespace): void {
    this.relayServer = new RelayServer(nsp, {
      secret: this.secret,
      leader: () => (this.role === 'leader' ? this.runtime : undefined),
      onFollowerSeq: (node, seq, lagSeconds) => this.followerSeqs.set(node, { seq, lagSeconds }),
      onFollowerGone: (node) => this.followerSeqs.delete(node),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
  }

  /** Starts taking part in the election, advertising `url` to the other nodes (unless configured). */
  async run(url: string): Promise<void> {
    this.url = this.settings.advertiseUrl ?? url;
    await this.lease.start(this.url);
  }

  /**
   * Calls `listener` with the runtime each time this node starts leading (at once if it leads now),
   * and with undefined when it stops: what only the leader runs (the GitHub sync) follows it.
   */
  onLeadership(listener: (runtime: Runtime | undefined) => void): void {
    this.leadershipListeners.push(listener);
    if (this.role === 'leader' && this.runtime) listener(this.runtime);
  }

  /** Whether this node leads now. */
  leads(): boolean {
    return this.role === 'leader';
  }

  /** The leader's URL as this node knows it (its own when it leads), or null. */
  leaderUrl(): string | null {
    return this.role === 'leader' ? this.url : this.relay.leaderUrl();
  }

  private tellLeadership(runtime: Runtime | undefined): void {
    for (const listener of this.leadershipListeners) {
      try {
        listener(runtime);
      } catch (error) {
        this.options.log?.error({ err: error }, 'cluster: a leadership listener failed');
      }
    }
  }

  /** Resolves once this node can serve: it leads, or its link to the leader is up. */
  async whenServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.role === 'leader' || (this.follower && this.relay.isConnected()))) {
      if (Date.now() > deadline) throw new Error(`node ${this.nodeId} found no leader within ${timeoutMs} ms (another node holds the lease but cannot be reached at ${this.leaderRow?.url ?? '?'})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // ---- CoordinatorService -----------------------------------------------------------------------

  get engine(): Engine {
    return this.runtime?.engine ?? this.follower?.engine ?? this.fallbackEngine;
  }

  async call(principal: Principal, name: OperationName, params: Record<string, unknown>): Promise<Ack<unknown>> {
    try {
      if (this.closed) throw new OwpError('UNAVAILABLE', 'This node is shutting down. Retry against another node.');
      const runtime = await this.leading();
      if (runtime) return await runtime.call(principal, name, params);
      // The journal is the same on every node: a follower reads it itself.
      if (name === 'journal.read') return { ok: true, data: await this.readJournalFor(principal, params) };
      const follower = this.follower;
      if (follower && FOLLOWER_READS.has(name)) {
        const answer = await this.reads.serve(follower, principal, name, params);
        if (answer) return answer;
      }
      // A read, or a change under an idempotency key (the leader replays it), may be sent again if the link drops.
      const again = !OPERATIONS[name].mutating || typeof params.idempotency_key === 'string';
      return await this.relayed<unknown>(again ? 'call!' : 'call', principal, name, params);
    } catch (error) {
      return { ok: false, error: wireError(error) };
    }
  }

  authenticate(token: string | undefined): Principal | null {
    return this.engine.authenticate(token);
  }

  authenticateHash(tokenHash: string): Principal | null {
    return this.engine.authenticateHash(tokenHash);
  }

  /**
   * Brings this node's copy up to what the leader has made durable (a token it does not know may
   * be a moment old): through the leader's read index and its pushes when it can, else by reading
   * the journal from the database.
   */
  async catchUp(): Promise<void> {
    const follower = this.follower;
    if (!follower) return;
    try {
      if (await follower.waitFor(await this.reads.readIndex(), this.settings.maxLagMs)) return;
    } catch {
      // No leader to ask: the database says how far the journal goes.
    }
    try {
      await follower.catchUp();
    } catch (error) {
      throw new OwpError('UNAVAILABLE', `This node cannot read the journal right now (${(error as Error).message}); retry in a moment or against another node.`);
    }
  }

  async workerConnected(workerId: string): Promise<void> {
    const runtime = await this.leading();
    this.localSockets.set(workerId, (this.localSockets.get(workerId) ?? 0) + 1);
    if (runtime) return runtime.workerConnected(workerId);
    // Not linked to a leader: the full count goes with the next link.
    if (!this.relay.isConnected()) return;
    await this.relayed<null>('connected', workerId).catch(() => undefined);
  }

  async workerDisconnected(workerId: string): Promise<void> {
    const runtime = await this.leading();
    const n = (this.localSockets.get(workerId) ?? 1) - 1;
    if (n <= 0) this.localSockets.delete(workerId);
    else this.localSockets.set(workerId, n);
    if (runtime) return runtime.workerDisconnected(workerId);
    this.relay.tell('disconnected', workerId);
  }

  async applyProfile(workerId: string, profile: HelloProfile): Promise<void> {
    const runtime = await this.leading();
    if (runtime) return runtime.applyProfile(workerId, profile);
    // A hello's profile sets fields to what it says: sending it again on the next link is harmless,
    // and a link that drops as the leader finishes taking over must not fail the worker's hello.
    const ack = await this.relayed<null>('profile!', workerId, profile);
    if (!ack.ok) throw OwpError.fromWire(ack.error as WireError);
  }

  async workerSession(workerId: string): Promise<WorkerSession> {
    const runtime = await this.leading();
    if (runtime) return runtime.workerSession(workerId);
    const ack = await this.relayed<WorkerSession>('session!', workerId);
    if (!ack.ok) throw OwpError.fromWire(ack.error as WireError);
    return ack.data;
  }

  readJournalFor(principal: Principal, params: Record<string, unknown>): Promise<{ events: JournalEvent[]; last_seq: number }> {
    if (this.runtime && this.role === 'leader') return this.runtime.readJournalFor(principal, params);
    const follower = this.follower;
    if (!follower) throw new OwpError('UNAVAILABLE', 'This node is loading its copy of the journal; retry in a moment.');
    return readJournalPage(principal, params, follower.applied(), (after, limit) => this.store.readJournal(after, limit));
  }

  isDegraded(): boolean {
    return this.role === 'leader' && this.runtime !== undefined && this.runtime.isDegraded();
  }

  readiness(): Readiness {
    if (this.closing || this.closed) return { ready: false, reason: 'shutting down' };
    if (this.role === 'leader' && this.runtime) return this.runtime.readiness();
    if (this.role === 'promoting') return { ready: false, reason: 'taking over as the leader' };
    if (!this.follower) return { ready: false, reason: 'loading its copy of the state from the database' };
    if (!this.relay.isConnected()) {
      const leader = this.leaderRow?.live ? `${this.leaderRow.holder} at ${this.leaderRow.url}, not reachable from here` : 'none holds the lease right now';
      return { ready: false, reason: `no leader to relay to (${leader})` };
    }
    const lag = this.follower.lag();
    if (lag.seconds * 1000 > this.settings.maxLagMs) return { ready: false, reason: `this node's copy is ${lag.events} events and ${lag.seconds.toFixed(1)} s behind the leader` };
    return { ready: true };
  }

  status(): ClusterStatus {
    const leaderSeq = this.runtime?.lastDurableSeq() ?? 0;
    return {
      node: this.nodeId,
      role: this.role,
      term: this.role === 'leader' ? this.term : (this.leaderRow?.term ?? this.term),
      leader: this.role === 'leader' ? { node: this.nodeId, url: this.url } : { node: this.leaderRow?.live ? this.leaderRow.holder : null, url: this.leaderRow?.live ? this.leaderRow.url : null },
      lag: this.role === 'leader' ? { events: 0, seconds: 0 } : (this.follower?.lag() ?? { events: 0, seconds: 0 }),
      followers: this.role === 'leader' ? [...this.followerSeqs].map(([node, f]) => ({ node, lagEvents: Math.max(0, leaderSeq - f.seq), lagSeconds: leaderSeq > f.seq ? f.lagSeconds : 0 })) : [],
      takeovers: this.takeovers,
      reads: { ...this.reads.counts },
    };
  }

  beginShutdown(): void {
    this.closing = true;
    this.runtime?.beginShutdown();
  }

  /** Stops: a leader finishes its writes, takes a snapshot and gives the lease back, so a standby takes over at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    this.lease.stop();
    await this.promotion.catch(() => undefined);
    this.closed = true;
    const runtime = this.runtime;
    this.runtime = undefined;
    if (runtime) {
      this.detachRuntime(runtime);
      this.tellLeadership(undefined);
      await runtime.close().catch((error: unknown) => this.options.log?.error({ err: error }, 'error while stopping the leader'));
    }
    await this.store.releaseLease().catch(() => undefined);
    this.follower?.stop();
    this.relay.close();
    await this.store.pool.end().catch(() => undefined);
    await this.adapterPool.end().catch(() => undefined);
    if (this.store.leasePool !== this.store.pool) await this.store.leasePool.end().catch(() => undefined);
  }

  // ---- relaying -----------------------------------------------------------------------------------

  /** The runtime if this node leads (waiting out a takeover in progress), else undefined. */
  private async leading(): Promise<Runtime | undefined> {
    if (this.role === 'promoting') await this.promotion.catch(() => undefined);
    return this.role === 'leader' ? this.runtime : undefined;
  }

  /** Sends a request to the leader, then waits until this node's copy has the change (read your writes). */
  private async relayed<T>(event: string, ...args: unknown[]): Promise<Ack<T>> {
    // `event!`: the request may be sent again on the next link (RelayClient.requestRetrying).
    const reply: RelayReply<T> = event.endsWith('!') ? await this.relay.requestRetrying<T>(event.slice(0, -1), ...args) : await this.relay.request<T>(event, ...args);
    if (reply.seq > 0) await this.follower?.waitFor(reply.seq, this.settings.leaseMs);
    return reply.ack;
  }

  // ---- the election (its timing: lease-keeper.ts) ---------------------------------------------------

  private observeLeader(row: LeaderRow | null): void {
    this.leaderRow = row;
    if (!row) return;
    this.relay.setTarget(row.live && row.holder !== this.nodeId ? row.url : null);
    this.follower?.observe(row.lastSeq);
  }

  private lead(taken: { term: number; lastSeq: number }, sentAt: number): Promise<void> {
    this.role = 'promoting';
    this.relay.setTarget(null);
    const started = performance.now();
    this.promotion = (async () => {
      try {
        let hot: State | undefined;
        const follower = this.follower;
        if (follower) {
          // Everything committed before the takeover is in the journal up to taken.lastSeq; nothing after it can be.
          while (follower.applied() < taken.lastSeq) {
            await follower.catchUp();
            if (performance.now() - started > this.settings.leaseMs) throw new Error(`could not read the journal up to seq ${taken.lastSeq} in time`);
          }
          this.detachFollower(follower);
          follower.stop();
          this.follower = undefined;
          hot = follower.state;
        }
        const runtime = await Runtime.open({ ...this.options, store: this.store, readsAfterDurable: true }, hot);
        this.term = taken.term;
        this.takeovers += 1;
        this.lease.renewedSince(sentAt);
        this.runtime = runtime;
        this.fallbackEngine = runtime.engine;
        this.attachRuntime(runtime);
        this.role = 'leader';
        // Followers linked to this node while it followed are linked again, and count their sockets afresh.
        this.relayServer?.disconnectAll();
        for (const [workerId, n] of this.localSockets) for (let i = 0; i < n; i += 1) void runtime.workerConnected(workerId);
        this.tellLeadership(runtime);
        this.options.log?.info({ node: this.nodeId, term: taken.term, seq: runtime.engine.state.seq, ms: Math.round(performance.now() - started) }, 'cluster: leading');
      } catch (error) {
        this.options.log?.error({ err: error, term: taken.term }, 'cluster: could not take over; giving the lease back');
        this.role = 'follower';
        await this.store.releaseLease().catch(() => undefined);
        if (!this.follower) await this.ensureFollower(undefined);
      }
    })();
    return this.promotion;
  }

  private async stepDown(reason: string): Promise<void> {
    const runtime = this.runtime;
    if (this.role !== 'leader' || !runtime) return;
    this.role = 'follower';
    this.runtime = undefined;
    this.store.forgetLease();
    this.fallbackEngine = runtime.engine;
    this.detachRuntime(runtime);
    this.tellLeadership(undefined);
    this.relayServer?.disconnectAll();
    this.options.log?.warn({ node: this.nodeId, term: this.term, reason }, 'cluster: no longer leading');
    const published = runtime.lastDurableSeq();
    await runtime.close({ snapshot: false }).catch(() => undefined);
    await this.ensureFollower(published);
  }

  /** Loads a fresh copy from the database (retrying while it cannot be reached) and follows from there. */
  private async ensureFollower(publishedUpTo: number | undefined): Promise<void> {
    while (!this.closing && !this.follower && this.role === 'follower') {
      try {
        const follower = await JournalFollower.start(ClusterNode.followerOptions(this.options, this.store, () => this.relay.isConnected()), publishedUpTo);
        if (this.closing || this.role !== 'follower') {
          follower.stop();
          return;
        }
        this.follower = follower;
        this.attachFollower(follower);
      } catch (error) {
        this.options.log?.warn({ err: error }, 'cluster: cannot load the state from the database yet; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private attachRuntime(runtime: Runtime): void {
    runtime.on('notify', this.forward.notify);
    runtime.on('journal', this.forward.journal);
    runtime.on('commit', this.forward.commit);
    runtime.on('degraded', this.forward.degraded);
    runtime.on('durable', this.forward.durable);
  }

  private detachRuntime(runtime: Runtime): void {
    runtime.off('notify', this.forward.notify);
    runtime.off('journal', this.forward.journal);
    runtime.off('commit', this.forward.commit);
    runtime.off('degraded', this.forward.degraded);
    runtime.off('durable', this.forward.durable);
  }

  private attachFollower(follower: JournalFollower): void {
    follower.on('journal', this.forward.journal);
  }

  private detachFollower(follower: JournalFollower): void {
    follower.off('journal', this.forward.journal);
  }
}
