/**
 * The relay link between nodes: a follower sends every command its clients make to the leader over
 * one socket.io connection (namespace /owp-cluster, on the leader's public port), and the leader
 * answers once the command's effects are durable, with the seq of the state it answered from. One connection per
 * follower keeps each follower's commands in the order its clients sent them.
 *
 * Only nodes may use it: the handshake carries the cluster secret kept in the database
 * (owp_cluster), compared in constant time. A follower also tells the leader which workers hold
 * sockets on it (a full count on every connect, then each change), so workers on any node count as
 * online; when the link drops, the leader counts that follower's sockets as gone.
 *
 * This link is between nodes of one deployment, not part of OWP: clients never see it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Namespace, Socket as ServerSocket } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { OwpError, type WireError } from '../../protocol/errors.ts';
import type { Ack, OperationName } from '../../protocol/operations.ts';
import type { Principal } from '../auth.ts';
import type { HelloProfile } from '../engine/sessions.ts';
import type { Logger } from '../log.ts';
import type { StoredEvent } from '../state/stored-event.ts';
import { wireError, type Runtime } from '../runtime.ts';
import { currentPrincipal } from './follower-reads.ts';

export const RELAY_NAMESPACE = '/owp-cluster';

/** What the leader answers a relayed request with: the answer, and the durable seq it reached. */
export interface RelayReply<T = unknown> {
  ack: Ack<T>;
  seq: number;
}

const NOT_LEADER: WireError = { code: 'UNAVAILABLE', message: 'This node does not lead the cluster right now; the command was not run. Retry: the cluster is electing or moving its leader.' };

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

interface RelayAuth {
  secret?: unknown;
  node?: unknown;
}

// ---- the leader's side ----------------------------------------------------------------------------

export interface RelayServerOptions {
  secret: string;
  /** The runtime while this node leads, else undefined (requests are then refused, not run). */
  leader: () => Runtime | undefined;
  /** A follower reported the seq its copy has applied. */
  onFollowerSeq?: (node: string, seq: number, lagSeconds: number) => void;
  onFollowerGone?: (node: string) => void;
  log?: Logger;
}

export class RelayServer {
  constructor(private readonly nsp: Namespace, private readonly options: RelayServerOptions) {
    nsp.use((socket, next) => {
      const auth = socket.handshake.auth as RelayAuth;
      if (typeof auth.secret !== 'string' || typeof auth.node !== 'string' || !sameSecret(auth.secret, options.secret)) {
        return next(Object.assign(new Error('not a node of this cluster'), { data: { code: 'UNAUTHENTICATED' } }));
      }
      next();
    });
    nsp.on('connection', (socket) => this.attach(socket));
  }

  /**
   * Sends events just made durable to every follower linked to this node, before the answers to
   * the commands that made them (the same link, in order): a follower applies them at once and
   * answers its client without reading the journal back from the database first. Local only: the
   * namespace's adapter would carry them to the other nodes' servers too.
   */
  pushDurable(events: readonly StoredEvent[]): void {
    if (events.length > 0 && this.nsp.sockets.size > 0) this.nsp.local.emit('durable', events);
  }

  /** Drops every follower's link (this node stopped or started leading): each reconnects to the leader and says again which workers it holds. */
  disconnectAll(): void {
    this.nsp.local.disconnectSockets(true);
  }

  private attach(socket: ServerSocket): void {
    const node = (socket.handshake.auth as RelayAuth).node as string;
    // This connection's worker sockets, and the runtime they have been counted in (a new leader's
    // runtime starts from nobody online, so they are counted in it again).
    const counts = new Map<string, number>();
    let countedIn: Runtime | undefined;
    const current = (): Runtime | undefined => {
      const runtime = this.options.leader();
      if (runtime && runtime !== countedIn) {
        for (const [id, n] of counts) for (let i = 0; i < n; i += 1) void runtime.workerConnected(id);
      }
      countedIn = runtime;
      return runtime;
    };
    const reply = async <T>(run: (runtime: Runtime) => Promise<Ack<T>>): Promise<RelayReply<T>> => {
      const runtime = current();
      if (!runtime) return { ack: { ok: false, error: NOT_LEADER }, seq: 0 };
      let ack: Ack<T>;
      try {
        ack = await run(runtime);
      } catch (error) {
        ack = { ok: false, error: wireError(error) };
      }
      // The seq of the state the answer was read from: the follower answers once its copy has it,
      // so whatever a client saw through it, the journal it reads there has too. A successful
      // answer waited for its own events to be durable (commits go in seq order, so for everything
      // it could have seen) or, with no events, for the state it read (readsAfterDurable): the
      // durable seq covers it. The state may already run a batch ahead (other commands' events
      // being written): waiting for those too would cost every answer one more commit. A refusal
      // may come from that state without waiting, so it waits for all of it.
      return { ack, seq: ack.ok ? runtime.lastDurableSeq() : Math.max(runtime.lastDurableSeq(), runtime.engine.state.seq) };
    };
    const done = <T>(ack: unknown, run: (runtime: Runtime) => Promise<Ack<T>>): void => {
      if (typeof ack !== 'function') return;
      void reply(run).then((r) => (ack as (r: RelayReply<T>) => void)(r));
    };
    /** One socket more or fewer; counted in the current runtime at once, so the order of a worker's comings and goings holds. */
    const move = (workerId: unknown, delta: 1 | -1): Promise<void> => {
      if (typeof workerId !== 'string') return Promise.resolve();
      const runtime = current();
      const n = (counts.get(workerId) ?? 0) + delta;
      if (n < 0) return Promise.resolve();
      if (n === 0) counts.delete(workerId);
      else counts.set(workerId, n);
      if (!runtime) return Promise.resolve();
      return delta > 0 ? runtime.workerConnected(workerId) : runtime.workerDisconnected(workerId);
    };

    socket.on('call', (principal: Principal, name: OperationName, params: Record<string, unknown>, ack: unknown) => {
      done(ack, async (runtime) => {
        // The follower resolved the token on its copy, which may not have applied a revocation yet:
        // the leader's state decides, as for a client of its own (AUTH-009).
        const now = currentPrincipal(runtime.engine.state, principal);
        if (!now) return { ok: false, error: { code: 'UNAUTHENTICATED', message: 'This token is not valid (revoked or replaced).' } };
        return runtime.call(now, name, params);
      });
    });
    // A follower's read index: how far the journal is durable now (follower-reads.ts).
    socket.on('seq', (ack: unknown) => {
      if (typeof ack !== 'function') return;
      const runtime = current();
      (ack as (r: RelayReply<null>) => void)(runtime ? { ack: { ok: true, data: null }, seq: runtime.lastDurableSeq() } : { ack: { ok: false, error: NOT_LEADER }, seq: 0 });
    });
    socket.on('session', (workerId: string, ack: unknown) => {
      done(ack, async (runtime) => ({ ok: true, data: await runtime.workerSession(workerId) }));
    });
    socket.on('profile', (workerId: string, profile: HelloProfile, ack: unknown) => {
      done(ack, async (runtime) => {
        await runtime.applyProfile(workerId, profile);
        return { ok: true, data: null };
      });
    });
    socket.on('connected', (workerId: unknown, ack: unknown) => {
      const moved = move(workerId, 1);
      done(ack, async () => {
        await moved;
        return { ok: true, data: null };
      });
    });
    socket.on('disconnected', (workerId: unknown) => void move(workerId, -1));
    // The follower's full count, sent on every connect: the difference is applied.
    socket.on('sockets', (given: unknown) => {
      const next = new Map<string, number>();
      if (given && typeof given === 'object') {
        for (const [id, n] of Object.entries(given)) if (typeof n === 'number' && n > 0) next.set(id, Math.floor(n));
      }
      for (const id of new Set([...counts.keys(), ...next.keys()])) {
        const delta = (next.get(id) ?? 0) - (counts.get(id) ?? 0);
        for (let i = 0; i < Math.abs(delta); i += 1) void move(id, delta > 0 ? 1 : -1);
      }
    });
    socket.on('admin', (tokens: unknown, ack: unknown) => {
      done(ack, async (runtime) => {
        // Every node of a cluster is given the same admin token(s): the set is applied as the leader's
        // own start applies it (a token already known changes nothing; a changed one rotates).
        const given = (Array.isArray(tokens) ? tokens : []).filter((t): t is string => typeof t === 'string');
        if (given.some((t) => !runtime.authenticate(t))) {
          const outcome = runtime.engine.bootstrapAdmins(given);
          if (outcome.error) throw outcome.error;
          await runtime.commit(outcome);
        }
        return { ok: true, data: null };
      });
    });
    socket.on('applied', (report: unknown) => {
      // A number from a node of an earlier version; { seq, lagSeconds } now.
      if (typeof report === 'number') return this.options.onFollowerSeq?.(node, report, 0);
      const { seq, lagSeconds } = (report ?? {}) as { seq?: unknown; lagSeconds?: unknown };
      if (typeof seq === 'number') this.options.onFollowerSeq?.(node, seq, typeof lagSeconds === 'number' && lagSeconds >= 0 ? lagSeconds : 0);
    });
    socket.on('disconnect', () => {
      // Only the runtime these sockets were counted in loses them.
      const runtime = this.options.leader();
      if (runtime && runtime === countedIn) for (const [id, n] of counts) for (let i = 0; i < n; i += 1) void runtime.workerDisconnected(id);
      counts.clear();
      this.options.onFollowerGone?.(node);
    });
  }
}

// ---- a follower's side ----------------------------------------------------------------------------

export interface RelayClientOptions {
  secret: string;
  node: string;
  /** This node's worker sockets now (sent in full on every connect). */
  localSockets: () => ReadonlyMap<string, number>;
  /** Admin tokens this node was started with: the leader creates their admins if it does not know them. */
  adminTokens: readonly string[];
  /** How long a command waits for the link (a leader being elected) and then for its answer. */
  timeoutMs: number;
  /** Events the leader pushed right after their commit. */
  onDurable?: (events: StoredEvent[]) => void;
  log?: Logger;
}

export class RelayClient {
  private socket: Socket | null = null;
  private target: string | null = null;
  private waiting: Array<() => void> = [];
  /** Requests waiting for an answer on the current link: told when it drops. */
  private readonly drops = new Set<() => void>();

  constructor(private readonly options: RelayClientOptions) {}

  /** The leader's URL, or null while there is none: (re)connects the link when it changes. */
  setTarget(url: string | null): void {
    if (url === this.target) return;
    this.target = url;
    this.dropped();
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    if (!url) return;
    const socket = io(`${url}${RELAY_NAMESPACE}`, {
      auth: { secret: this.options.secret, node: this.options.node },
      transports: ['websocket'],
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
    });
    socket.on('connect', () => {
      // Whatever this node's workers did while the link was down is in this full count.
      socket.emit('sockets', Object.fromEntries(this.options.localSockets()));
      if (this.options.adminTokens.length > 0) socket.emit('admin', this.options.adminTokens, () => undefined);
      const waiting = this.waiting;
      this.waiting = [];
      for (const w of waiting) w();
    });
    socket.on('durable', (events: unknown) => {
      if (Array.isArray(events)) this.options.onDurable?.(events as StoredEvent[]);
    });
    socket.on('disconnect', () => this.dropped());
    socket.on('connect_error', (err) => this.options.log?.debug({ err, leader: url }, 'relay: cannot reach the leader yet'));
    this.socket = socket;
  }

  /** The link dropped: answers on it will not come. */
  private dropped(): void {
    const drops = [...this.drops];
    this.drops.clear();
    for (const d of drops) d();
  }

  leaderUrl(): string | null {
    return this.target;
  }

  isConnected(): boolean {
    return this.socket?.connected === true;
  }

  /**
   * Sends one request to the leader; throws UNAVAILABLE when there is no leader in time or no
   * answer. `retry`: the request may run twice (a read, or a change under an idempotency key, which
   * the leader replays): when the link drops before the answer (the leader moved, or its lease
   * looked lapsed for a moment), it is sent again on the next link instead of waiting out the timeout.
   */
  async request<T>(event: string, ...args: unknown[]): Promise<RelayReply<T>> {
    return this.send<T>(false, event, args);
  }

  /** request(), sent again on the next link if the link drops before the answer (see there). */
  async requestRetrying<T>(event: string, ...args: unknown[]): Promise<RelayReply<T>> {
    return this.send<T>(true, event, args);
  }

  private async send<T>(retry: boolean, event: string, args: unknown[]): Promise<RelayReply<T>> {
    const deadline = Date.now() + this.options.timeoutMs;
    for (;;) {
      while (!this.socket?.connected) {
        const left = deadline - Date.now();
        if (left <= 0) throw new OwpError('UNAVAILABLE', 'No leader of the cluster is reachable from this node right now; the command was not run. Retry: a standby takes over within the leader lease.');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 250));
          this.waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const socket = this.socket;
      const outcome = await new Promise<{ reply: RelayReply<T> } | { lost: 'dropped' | 'timeout' }>((resolve) => {
        const dropped = (): void => resolve({ lost: 'dropped' });
        this.drops.add(dropped);
        socket.timeout(Math.max(1, deadline - Date.now())).emit(event, ...args, (err: Error | null, reply: RelayReply<T>) => {
          this.drops.delete(dropped);
          resolve(err ? { lost: 'timeout' } : { reply });
        });
      });
      if ('reply' in outcome) return outcome.reply;
      if (outcome.lost === 'dropped' && retry && Date.now() < deadline) continue;
      if (outcome.lost === 'dropped') {
        // Not a slow leader: the link went (the leader moved, or its lease looked lapsed for a moment).
        throw new OwpError('UNAVAILABLE', 'The link to the cluster\'s leader dropped before it answered; the command may or may not have been run. Retry with the same idempotency key.');
      }
      throw new OwpError('UNAVAILABLE', `The cluster's leader did not answer within ${this.options.timeoutMs} ms; the command may or may not have been run. Retry with the same idempotency key.`);
    }
  }

  /** Fire and forget, only while connected (the full count on the next connect covers a lost one). */
  tell(event: 'disconnected' | 'applied', arg: unknown): void {
    if (this.socket?.connected) this.socket.emit(event, arg);
  }

  close(): void {
    this.setTarget(null);
    for (const w of this.waiting) w();
    this.waiting = [];
  }
}
