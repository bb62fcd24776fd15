/**
 * The socket.io binding (SPEC §8.1): the token travels in the handshake's `auth`, the first
 * message is `session.hello`, every operation is an event named after it with an ack, and the
 * coordinator pushes notifications to the worker's sockets (worker-sockets.ts; its room on a cluster).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Server, Socket } from 'socket.io';
import { OwpError } from '../protocol/errors.ts';
import { OPERATIONS, type Ack, type OperationName, type Params } from '../protocol/operations.ts';
import { LIMITS, assertParams, checkStructure, isOperationName, validateSchema } from '../protocol/validate.ts';
import { SUPPORTED_PROTOCOL_VERSIONS, PROTOCOL_VERSION } from '../protocol/version.ts';
import { ANONYMOUS, hashToken, scopeCovers, type Principal } from './auth.ts';
import type { Logger } from './log.ts';
import type { CoordinatorMetrics } from './metrics.ts';
import { DEFAULT_RATE_LIMITS, TokenBucket, TrustedProxies, type RateLimit, type RegistrationLimiter } from './rate-limit.ts';
import { wireError } from './runtime.ts';
import { resolveToken, type CoordinatorService } from './service.ts';
import { forgetUpgradeRequest, noteUpgradeResponses } from './socket-memory.ts';
import { coalesceSocketWrites } from './socket-writes.ts';
import { WorkerSockets } from './worker-sockets.ts';
import type { Notification } from './engine/command.ts';
import type { JournalEvent } from '../protocol/journal-events.ts';

interface SocketData {
  principal: Principal;
  /**
   * The hash of the handshake's token (hashToken), checked again on every command: a token revoked
   * or rotated since stops working at once. Hashed once per connection, not once per command.
   */
  tokenHash?: string;
  hello: boolean;
  bucket: TokenBucket;
  /** The connection's child logger, made on first use (connectionLog): most sockets never log. */
  log?: Logger;
  /** The client's address (the forwarded one behind a trusted proxy), for worker.register's limit. */
  client: string;
  journal: boolean;
  /** Live journal events held back while this socket's catch-up pages are being sent. */
  journalBuffer?: JournalEvent[];
}

const CATCHING_UP = 'journal:catching-up';

/** Events after which some token may have stopped working. */
const REVOKING = new Set<string>(['worker.revoked', 'worker.token_rotated', 'maintainer.revoked', 'maintainer.created']);

/** Operations a socket may call before session.hello. */
const BEFORE_HELLO = new Set<string>(['session.hello', 'coordinator.info', 'worker.register']);

export interface SocketBindingOptions {
  /** Per-connection rate limit; default DEFAULT_RATE_LIMITS.socket. */
  rateLimit?: RateLimit;
  /** Proxies whose X-Forwarded-For names the client in the log (addresses, CIDRs, `loopback`). */
  trustProxy?: readonly string[];
  log?: Logger;
  metrics?: CoordinatorMetrics;
  /** worker.register's limits, shared with the HTTP binding. */
  registrations?: RegistrationLimiter;
  /**
   * Sockets on several nodes (a cluster's adapter): a worker's notifications go to its socket.io
   * room, which the adapter carries to every node. Otherwise to its sockets held here (worker-sockets.ts).
   */
  clustered?: boolean;
}

export function bindSockets(io: Server, getRuntime: () => CoordinatorService, options: SocketBindingOptions = {}): { close(): void } {
  const limit = options.rateLimit ?? DEFAULT_RATE_LIMITS.socket;
  const proxies = new TrustedProxies(options.trustProxy ?? []);
  coalesceSocketWrites(io);
  noteUpgradeResponses(io);
  const pushes = options.clustered ? undefined : new WorkerSockets();
  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (token === undefined || token === null || token === '') {
      (socket.data as SocketData).principal = ANONYMOUS;
      return next();
    }
    const refuse = (): void => {
      const err = new Error('This token is not valid here (wrong, revoked or from another coordinator). Register again or ask for a new token.') as Error & { data?: unknown };
      err.data = { code: 'UNAUTHENTICATED' };
      next(err);
    };
    if (typeof token !== 'string') return refuse();
    resolveToken(getRuntime(), token).then((principal) => {
      if (!principal) return refuse();
      (socket.data as SocketData).principal = principal;
      (socket.data as SocketData).tokenHash = hashToken(token);
      next();
    }, () => refuse());
  });

  // One command handler and one disconnect handler for every socket (socket.io calls both with the
  // socket as `this`), instead of two closures and their context per connection.
  function onCommand(this: Socket, event: unknown, ...args: unknown[]): void {
    const socket = this;
    const data = socket.data as SocketData;
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as (a: Ack<unknown>) => void) : undefined;
    const started = performance.now();
    const done = isOperationName(event) ? options.metrics?.startOperation(event) : undefined;
    void handle(socket, data, event, args[0], getRuntime, options.registrations, pushes).then((reply) => {
      done?.(reply);
      if (!reply.ok && reply.error.code === 'RATE_LIMITED') options.metrics?.countRateLimited('socket');
      if (options.log?.isLevelEnabled('debug') || (!reply.ok && reply.error.code === 'INTERNAL')) {
        const entry = { req_id: randomUUID(), operation: String(event).slice(0, 64), outcome: reply.ok ? 'ok' : reply.error.code, ms: Math.round((performance.now() - started) * 10) / 10 };
        const log = connectionLog(socket, options.log);
        if (!reply.ok && reply.error.code === 'INTERNAL') log?.error({ ...entry, error: reply.error }, 'socket command failed unexpectedly');
        else log?.debug(entry, 'socket command');
      }
      if (ack) ack(reply);
      else if (!reply.ok) socket.emit('error.protocol', reply.error);
    });
  }
  function onDisconnect(this: Socket, reason: unknown): void {
    const data = this.data as SocketData;
    if (options.log?.isLevelEnabled('debug')) connectionLog(this, options.log)?.debug({ reason }, 'socket disconnected');
    if (data.hello && data.principal.kind === 'worker') {
      pushes?.remove(data.principal.id, this);
      void getRuntime().workerDisconnected(data.principal.id);
    }
  }

  io.on('connection', (socket: Socket) => {
    const data = socket.data as SocketData;
    data.hello = false;
    data.journal = false;
    data.bucket = new TokenBucket(limit.burst, limit.per_second);
    data.client = proxies.clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for']);
    forgetUpgradeRequest(socket);
    if (options.log?.isLevelEnabled('debug')) connectionLog(socket, options.log)?.debug({ client: data.client, transport: socket.conn.transport.name }, 'socket connected');
    socket.onAny(onCommand);
    socket.on('disconnect', onDisconnect);
  });

  // Notifications go to the worker's sockets once their cause is durable. In a cluster only the leader
  // has them, and socket.io's PostgreSQL adapter carries them to the worker's sockets on every node.
  const onNotify = (n: Notification): void => {
    if (pushes) pushes.emit(n.workerId, n.name, n.payload);
    else io.to(`worker:${n.workerId}`).emit(n.name, n.payload);
  };
  let tasksTimer: NodeJS.Timeout | undefined;
  let lastSeq = 0;
  /** Closes the sockets whose token no longer authenticates (revoked, or rotated away). */
  const dropRevoked = (): void => {
    for (const s of io.sockets.sockets.values()) {
      const d = s.data as SocketData;
      if (d.principal.kind !== 'anonymous' && (d.tokenHash === undefined || !getRuntime().authenticateHash(d.tokenHash))) s.disconnect(true);
    }
  };
  const onJournal = (events: JournalEvent[]): void => {
    if (events.length === 0) return;
    if (events.some((e) => REVOKING.has(e.type))) dropRevoked();
    lastSeq = (events.at(-1) as JournalEvent).seq;
    // Local: every node of a cluster streams the journal it has to its own subscribers (through the
    // adapter, each event would reach every subscriber once per node).
    // Only when someone is there: a broadcast encodes its packet before it looks at the room, and
    // with no subscriber (a pool at work, no dashboard open) that was every commit's events again.
    if ((io.sockets.adapter.rooms.get('journal:admin')?.size ?? 0) > 0) io.local.to('journal:admin').except(CATCHING_UP).emit('journal.appended', { events });
    // Scoped subscribers get their filtered share; sockets catching up (left out of the broadcast) buffer theirs.
    const targets = new Set([...(io.sockets.adapter.rooms.get('journal:scoped') ?? []), ...(io.sockets.adapter.rooms.get(CATCHING_UP) ?? [])]);
    for (const socket of targets) {
      const s = io.sockets.sockets.get(socket);
      const d = s?.data as SocketData | undefined;
      const p = d?.principal;
      if (!s || !d || p?.kind !== 'maintainer') continue;
      const visible = p.admin ? events : events.filter((e) => (e.repo ? scopeCovers(p.repos, e.repo) : e.type.startsWith('worker.')));
      if (visible.length === 0) continue;
      if (d.journalBuffer) d.journalBuffer.push(...visible);
      else s.emit('journal.appended', { events: visible });
    }
    // A trust change counts too: it changes which listed tasks a worker may claim, and clients re-read their PRs and trust then.
    if (events.some((e) => e.task_id !== undefined || e.type === 'worker.trust_changed') && !tasksTimer) {
      tasksTimer = setTimeout(() => {
        tasksTimer = undefined;
        io.local.to('tasks').emit('tasks.changed', { seq: lastSeq });
      }, 1000);
    }
  };
  const attach = (): void => {
    getRuntime().on('notify', onNotify);
    getRuntime().on('journal', onJournal);
  };
  attach();
  return {
    close(): void {
      clearTimeout(tasksTimer);
      getRuntime().off('notify', onNotify);
      getRuntime().off('journal', onJournal);
    },
  };
}

/** The connection's child logger (its id and principal bound), made the first time the connection logs. */
function connectionLog(socket: Socket, base: Logger | undefined): Logger | undefined {
  if (!base) return undefined;
  const data = socket.data as SocketData;
  const p = data.principal;
  data.log ??= base.child({ conn: socket.id, ...(p.kind === 'anonymous' ? {} : { [p.kind]: p.id }) });
  return data.log;
}

async function handle(socket: Socket, data: SocketData, event: unknown, params: unknown, getRuntime: () => CoordinatorService, registrations: RegistrationLimiter | undefined, pushes: WorkerSockets | undefined): Promise<Ack<unknown>> {
  const runtime = getRuntime();
  try {
    const wait = data.bucket.take();
    if (wait > 0) throw new OwpError('RATE_LIMITED', `Too many requests on this connection; retry in ${wait} ms.`, { retry_after_ms: wait });
    if (!isOperationName(event)) {
      throw new OwpError('UNKNOWN_OPERATION', `No OWP operation "${String(event).slice(0, 64)}". See SPEC §5 for the operations.`);
    }
    const descriptor = OPERATIONS[event];
    if (descriptor.binding === 'http') throw new OwpError('UNKNOWN_OPERATION', `${event} is only served over HTTP.`);
    if (!data.hello && !BEFORE_HELLO.has(event)) {
      throw new OwpError('HELLO_REQUIRED', `Send session.hello with protocol_version "${PROTOCOL_VERSION}" before ${event}.`);
    }
    const body = params === undefined ? {} : params;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new OwpError('VALIDATION_FAILED', `The ${event} payload must be a JSON object.`, { errors: [{ path: '/', message: 'must be object' }] });
    }
    // socket.io closes the connection on frames over maxHttpBufferSize (LIMITS.maxFrameBytes); below it the protocol's limit answers.
    // The walk bounds the depth first, so measuring cannot overflow the stack; and it bounds the
    // payload's JSON size, so only a payload that may be over the limit is serialised to measure it.
    if (checkStructure(body) > LIMITS.maxPayloadBytes) {
      const bytes = Buffer.byteLength(JSON.stringify(body));
      if (bytes > LIMITS.maxPayloadBytes) {
        throw new OwpError('PAYLOAD_TOO_LARGE', `The payload is ${bytes} bytes; the limit is ${LIMITS.maxPayloadBytes}.`, { max_payload_bytes: LIMITS.maxPayloadBytes });
      }
    }
    validateSchema(event, body);
    if (event === 'worker.register') {
      const wait = registrations?.take(data.client) ?? 0;
      if (wait > 0) throw new OwpError('RATE_LIMITED', `Too many registrations from this address or from everyone just now; retry in ${Math.ceil(wait / 1000)} s.`, { retry_after_ms: wait });
    }
    if (data.principal.kind !== 'anonymous' && (data.tokenHash === undefined || !runtime.authenticateHash(data.tokenHash))) {
      setImmediate(() => socket.disconnect(true)); // after this refusal's ack is sent
      throw new OwpError('UNAUTHENTICATED', 'This token was revoked or replaced since the connection opened. Register again or ask for a new token.');
    }
    if (event === 'session.hello') {
      assertParams(event, body);
      return { ok: true, data: await hello(socket, data, body, runtime, pushes) };
    }
    return await runtime.call(data.principal, event as OperationName, body as Record<string, unknown>);
  } catch (error) {
    return { ok: false, error: wireError(error) };
  }
}

async function hello(socket: Socket, data: SocketData, params: Params<'session.hello'>, runtime: CoordinatorService, pushes: WorkerSockets | undefined): Promise<unknown> {
  const version = params.protocol_version;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    throw new OwpError('VERSION_UNSUPPORTED', `This coordinator speaks OWP ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}; the client sent ${version}. Update the client.`, { supported: [...SUPPORTED_PROTOCOL_VERSIONS] });
  }
  const principal = data.principal;
  if (principal.kind === 'anonymous') throw new OwpError('UNAUTHENTICATED', 'session.hello needs a token in the socket handshake (auth: { token }). Register first with worker.register.');
  const subscribe = params.subscribe ?? [];
  const engine = runtime.engine;
  if (principal.kind === 'worker') {
    if (params.profile) await runtime.applyProfile(principal.id, params.profile);
    if (!data.hello) {
      if (pushes) pushes.add(principal.id, socket);
      else await socket.join(`worker:${principal.id}`);
      // The socket may have closed while the profile was written. Its disconnect handler saw no hello,
      // so counting it as connected now would leave the worker online with no socket, forever.
      if (!socket.connected) {
        if (pushes) pushes.remove(principal.id, socket);
        else void socket.leave(`worker:${principal.id}`);
        throw new OwpError('UNAVAILABLE', 'The connection closed during session.hello; connect again.');
      }
      data.hello = true;
      await runtime.workerConnected(principal.id);
    }
    if (subscribe.includes('tasks')) await socket.join('tasks');
    if (subscribe.includes('journal')) throw new OwpError('FORBIDDEN', 'The journal feed is for maintainers.');
    const session = await runtime.workerSession(principal.id);
    return { protocol_version: PROTOCOL_VERSION, role: 'worker', ...session };
  }
  data.hello = true;
  if (subscribe.includes('tasks')) await socket.join('tasks');
  if (subscribe.includes('journal')) {
    // Catch up from where the subscriber left off, then stream. The room join happens first so nothing
    // falls between; live events are held back until the catch-up is sent, so each arrives once, in order.
    data.journalBuffer = [];
    await socket.join([CATCHING_UP, principal.admin ? 'journal:admin' : 'journal:scoped']);
    const after = typeof params.journal_after_seq === 'number' ? params.journal_after_seq : engine.state.seq;
    let cursor = after;
    // Held events up to here reached the subscriber already. Without journal_after_seq the start is the
    // in-memory seq, whose newest events may still be on their way to disk: deliver those when they land.
    let sent = typeof params.journal_after_seq === 'number' ? after : 0;
    try {
      for (;;) {
        const page = await runtime.readJournalFor(principal, { after_seq: cursor, limit: 1000 });
        if (page.events.length === 0) break;
        socket.emit('journal.appended', { events: page.events });
        cursor = (page.events.at(-1) as JournalEvent).seq;
        sent = cursor;
      }
    } finally {
      const held = data.journalBuffer.filter((e) => e.seq > sent);
      data.journalBuffer = undefined;
      void socket.leave(CATCHING_UP);
      if (held.length > 0) socket.emit('journal.appended', { events: held });
    }
  }
  return { protocol_version: PROTOCOL_VERSION, coordinator: engine.info(), role: 'maintainer', offers: [], leases: [] };
}

