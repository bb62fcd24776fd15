/**
 * The runtime around the engine: it loads state from the store, makes every command's events
 * durable (group commit: one write + fsync for everything that arrived meanwhile) before it
 * answers, runs the expiry sweep and the scheduler, takes snapshots, and hands notifications and
 * journal events to the transports. Transports (HTTP, socket.io) call `call()` and listen.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { OwpError, type WireError } from '../protocol/errors.ts';
import { OPERATIONS, type Ack, type OperationName } from '../protocol/operations.ts';
import type { JournalEvent } from '../protocol/journal-events.ts';
import type { Task } from '../protocol/model.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import { Engine } from './engine/engine.ts';
import type { Notification, Outcome } from './engine/command.ts';
import type { EngineOptions } from './engine/options.ts';
import type { HelloProfile } from './engine/sessions.ts';
import { principalScope, type Principal } from './auth.ts';
import { idemKey } from './state/records.ts';
import { State } from './state/state.ts';
import { forgetJournalEventJson, toJournalEvent, type StoredEvent } from './state/stored-event.ts';
import type { CoveredKeys, SnapshotSink, Store } from './store/store.ts';
import { IDEMPOTENCY_TTL_MS } from './engine/idempotency.ts';
import type { SliceLimits, SnapshotCapture } from './state/snapshot-capture.ts';
import type { CoordinatorService, WorkerSession } from './service.ts';
import { readJournalPage } from './journal-reads.ts';
import { Turns } from './turns.ts';

export interface RuntimeOptions extends Omit<EngineOptions, 'clock' | 'state'> {
  store: Store;
  clock: Clock;
  /** How often expired offers and leases are looked for. A lease outlives its deadline by at most this. */
  sweepIntervalMs?: number;
  /** Take a snapshot after this many events (default 20,000: a restart replays at most this many after the snapshot), or as many as the last snapshot held tasks and workers, if more… */
  snapshotEveryEvents?: number;
  /** …or after this long with any new event. */
  snapshotIntervalMs?: number;
  /**
   * A snapshot is serialised in slices of about this long, one per turn of the event loop, while
   * commands go on (default 1 ms: a command's round trip takes a few turns, and each turn waits
   * for one slice; 4 ms slices doubled the answers' p99 during a snapshot, bench/snapshot-stall.ts).
   */
  snapshotSliceMs?: number;
  /** At most this many records per slice (tests interleave commands with every record). */
  snapshotSliceRecords?: number;
  /**
   * The operator's admin tokens (maintainers scoped to `*`). These and only these are the bootstrap
   * admins: an earlier bootstrap admin token not given again is rotated away or revoked. Undefined
   * leaves the bootstrap admins as they are.
   */
  adminTokens?: readonly string[];
  /**
   * Async checks that run before a command reaches the engine, e.g. verifying a reported PR
   * against GitHub. Throw an OwpError to refuse; nothing is changed then.
   */
  beforeCommand?: Array<(principal: Principal, name: OperationName, params: Record<string, unknown>, runtime: Runtime) => Promise<void>>;
  /** Run timers (sweep, snapshots). Tests with a manual clock turn them off and call `sweep()`. */
  timers?: boolean;
  /**
   * Answer reads only once the state they were read from is durable (a read that saw changes still
   * being written waits for their commit, and is refused if the commit is). A cluster's leader sets
   * it: a deposed leader's refused changes must never have been shown to anyone.
   */
  readsAfterDurable?: boolean;
  log?: Logger;
}

/**
 * Stored events kept in memory to answer journal reads and catch-ups without the disk. Kept small:
 * each carries its task or worker and idempotency answer, so at 10,000 workers a 20,000-event
 * window held tens of MB, and 5,000 (up to 7,500 between trims) about 4 MB more than 2,000
 * (bench/README.md, "Memory per worker"); older pages come from the store.
 */
const RECENT_EVENTS = 2_000;

export interface RuntimeEvents {
  notify: [Notification];
  journal: [JournalEvent[]];
  degraded: [Error | null];
  /** One group commit finished (write + fsync of `events` events, or its failure). */
  commit: [{ seconds: number; events: number; ok: boolean }];
  /** The events just made durable, as stored (in seq order; a cluster's leader pushes them to its followers). */
  durable: [readonly StoredEvent[]];
}

export class Runtime extends EventEmitter<RuntimeEvents> implements CoordinatorService {
  engine: Engine;
  readonly store: Store;
  readonly clock: Clock;
  readonly warnings: string[] = [];
  private readonly options: RuntimeOptions;
  private queue: StoredEvent[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void; notifications: readonly Notification[] }> = [];
  private writing = false;
  private flushQueued = false;
  private idle: Array<() => void> = [];
  private degraded: Error | null = null;
  /** Settles once, after a storage failure, the engine was rebuilt from what the disk holds. */
  private durableView: Promise<void> = Promise.resolve();
  /** Seq of the last event known to be on disk. */
  private durableSeq = 0;
  private closed = false;
  /** close() has begun: not ready for new work (a load balancer drains), though in-flight writes finish. */
  private closing = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private scheduleQueued = false;
  private eventsSinceSnapshot = 0;
  /** Tasks and workers in the last snapshot taken (or in the state recovered): spaces the next one. */
  private snapshotRecords = 0;
  private snapshotting: Promise<void> | null = null;
  /** Committed events kept in memory for fast journal reads and dashboard resume. */
  private recent: StoredEvent[] = [];
  /** Durability promises of in-flight idempotent requests, so a fast replay waits for the original. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Worker ids with at least one live socket on this runtime (re-applied after a reload). */
  readonly liveSockets = new Map<string, number>();

  private constructor(options: RuntimeOptions, engine: Engine) {
    super();
    this.options = options;
    this.store = options.store;
    this.clock = options.clock;
    this.engine = engine;
  }

  /**
   * Loads the state from the store, or starts from `hot`: a state already equal to the store's
   * journal (a cluster standby's copy, so a takeover does not read the journal again).
   */
  static async open(options: RuntimeOptions, hot?: State): Promise<Runtime> {
    if (hot && hot.seq > 0) {
      // A takeover on another machine: time never runs behind the journal the old leader wrote.
      const last = (await options.store.readJournal(hot.seq - 1, 1))[0];
      if (last !== undefined) options.clock.notBefore?.(last.at);
    }
    const { engine, warnings } = hot ? Runtime.resume(options, hot) : await Runtime.recover(options);
    const runtime = new Runtime(options, engine);
    runtime.durableSeq = engine.state.seq;
    runtime.snapshotRecords = runtime.liveRecords();
    runtime.warnings.push(...warnings);
    if (options.adminTokens !== undefined) {
      const outcome = runtime.engine.bootstrapAdmins(options.adminTokens);
      if (outcome.error) throw outcome.error;
      await runtime.commit(outcome);
    }
    if (options.timers !== false) runtime.startTimers();
    runtime.requestSchedule();
    return runtime;
  }

  /** Loads the snapshot, replays the journal after it, and gives live leases a fresh heartbeat window. */
  private static async recover(options: RuntimeOptions): Promise<{ engine: Engine; warnings: string[] }> {
    const t0 = performance.now();
    const loaded = await options.store.load();
    const t1 = performance.now();
    const state = loaded.snapshot ? State.fromSnapshot(loaded.snapshot) : new State();
    const t2 = performance.now();
    for (const event of loaded.events) state.apply(event);
    const t3 = performance.now();
    // Each phase's time, so an operator sees what a slow start spent it on (and what it read).
    options.log?.info({
      seq: state.seq, snapshot_seq: loaded.snapshot?.seq ?? 0, tail_events: loaded.events.length, ...loaded.read,
      read_ms: Math.round(t1 - t0), restore_ms: Math.round(t2 - t1), replay_ms: Math.round(t3 - t2),
    }, 'recovered the state: snapshot plus journal tail');
    // Time never runs behind the journal, even if the wall clock was set back while the coordinator was down.
    const last = loaded.events.at(-1) ?? (state.seq > 0 ? (await options.store.readJournal(state.seq - 1, 1))[0] : undefined);
    if (last) options.clock.notBefore?.(last.at);
    return { engine: Runtime.resume(options, state).engine, warnings: loaded.warnings };
  }

  /** An engine over a recovered state: live leases get a fresh heartbeat window, as after a restart. */
  private static resume(options: RuntimeOptions, state: State): { engine: Engine; warnings: string[] } {
    const { store: _s, clock, ...engineOptions } = options;
    const engine = new Engine({ ...engineOptions, clock, state });
    engine.graceAfterRecovery();
    return { engine, warnings: [] };
  }

  // ---- calls from transports ---------------------------------------------------------------------

  /** Runs one operation for a principal and answers once its effects are durable. Params must be schema-valid. */
  async call(principal: Principal, name: OperationName, params: Record<string, unknown>): Promise<Ack<unknown>> {
    try {
      const descriptor = OPERATIONS[name];
      if (this.closed) throw new OwpError('UNAVAILABLE', 'The coordinator is shutting down. Retry against it once it is back.');
      if (descriptor.mutating && !descriptor.idempotentByNature && this.degraded) {
        throw new OwpError('UNAVAILABLE', `The coordinator cannot make changes durable right now (${this.degraded.message}). Nothing was changed; retry later with the same idempotency key.`);
      }
      if (name === 'journal.read') return { ok: true, data: await this.readJournalFor(principal, params) };
      // The archive is read from the journal here; the engine decides who may see it, as for a live task.
      if (name === 'task.get' && principal.kind !== 'anonymous') {
        const archived = await this.archivedTask(params.task_id as string);
        if (archived) {
          const outcome = this.engine.readArchivedTask(principal, archived);
          if (outcome.error) throw outcome.error;
          return { ok: true, data: outcome.result };
        }
      }
      for (const check of this.options.beforeCommand ?? []) await check(principal, name, params, this);
      if (descriptor.mutating && typeof params.idempotency_key === 'string') {
        // The last check finds the key ready in the same turn as the engine runs: nothing can move it in between.
        const seen: KeySearch = {};
        for (let tries = 0; ; tries += 1) {
          const pending = this.prepareKey(principalScope(principal), params.idempotency_key, seen);
          if (!pending) break;
          if (tries === 6) throw new OwpError('UNAVAILABLE', `The record of idempotency key "${params.idempotency_key}" could not be read back from the store right now; nothing was changed. Retry with the same key.`);
          await pending;
        }
      }
      const outcome = this.engine.execute(principal, name, params);
      if (outcome.replayOf) {
        // Rejects when the original was not made durable: the replay must not acknowledge it either.
        await this.inflight.get(`${outcome.replayOf.scope}\u0000${outcome.replayOf.key}`);
      }
      const durable = this.commit(outcome);
      const idem = outcome.events[0]?.idem;
      if (idem) {
        const k = `${idem.scope}\u0000${idem.key}`;
        this.inflight.set(k, durable);
        // One reaction either way (it also marks a refusal as handled), not a catch, a finally and its catch per request.
        const forget = (): void => void this.inflight.delete(k);
        durable.then(forget, forget);
      }
      await durable;
      if (outcome.error) throw outcome.error;
      if (outcome.events.length === 0 && this.options.readsAfterDurable) await this.durableBarrier();
      return { ok: true, data: outcome.result };
    } catch (error) {
      return { ok: false, error: wireError(error) };
    }
  }

  workerConnected(workerId: string): Promise<void> {
    this.liveSockets.set(workerId, (this.liveSockets.get(workerId) ?? 0) + 1);
    return this.commit(this.engine.connected(workerId)).catch(() => undefined);
  }

  workerDisconnected(workerId: string): Promise<void> {
    const n = (this.liveSockets.get(workerId) ?? 1) - 1;
    if (n <= 0) this.liveSockets.delete(workerId);
    else this.liveSockets.set(workerId, n);
    return this.commit(this.engine.disconnected(workerId)).catch(() => undefined);
  }

  async applyProfile(workerId: string, profile: HelloProfile): Promise<void> {
    const outcome = this.engine.applyProfile(workerId, profile);
    await this.commit(outcome);
    if (outcome.error) throw outcome.error;
  }

  authenticate(token: string | undefined): Principal | null {
    return this.engine.authenticate(token);
  }

  authenticateHash(tokenHash: string): Principal | null {
    return this.engine.authenticateHash(tokenHash);
  }

  /** The state here is the journal: nothing to catch up with. */
  catchUp(): Promise<void> {
    return Promise.resolve();
  }

  async workerSession(workerId: string): Promise<WorkerSession> {
    const w = this.engine.state.workers.get(workerId);
    if (!w) throw new OwpError('UNAUTHENTICATED', 'This worker no longer exists.');
    const session = { coordinator: this.engine.info(), worker: this.engine.state.workerView(w), offers: this.engine.offersOf(w), leases: this.engine.leasesOf(w) };
    if (this.options.readsAfterDurable) await this.durableBarrier();
    return session;
  }

  /** Seq of the last event known to be durable: what an answer given now has made durable at least. */
  lastDurableSeq(): number {
    return this.durableSeq;
  }

  isDegraded(): boolean {
    return this.degraded !== null;
  }

  /**
   * Ready for traffic: the store is loaded (a runtime exists only after that), changes are being
   * made durable (not degraded), and it is not shutting down. `/readyz` answers from this.
   */
  readiness(): { ready: true } | { ready: false; reason: string } {
    if (this.closing || this.closed) return { ready: false, reason: 'shutting down' };
    if (this.degraded) return { ready: false, reason: `storage is failing (${this.degraded.message}); changes are refused until it recovers` };
    return { ready: true };
  }

  // ---- durability ----------------------------------------------------------------------------------

  /** Makes an outcome's events durable, then (in flush) delivers its notifications and publishes its events. Rejects if the store fails. */
  commit(outcome: Outcome): Promise<void> {
    if (outcome.events.length === 0) {
      this.deliver(outcome.notifications);
      return Promise.resolve();
    }
    this.requestSchedule();
    return new Promise<void>((resolve, reject) => {
      this.queue.push(...outcome.events);
      this.waiters.push({ resolve, reject, notifications: outcome.notifications });
      this.requestFlush();
    });
  }

  /**
   * Starts a group commit at the end of this turn of the event loop, not at once: every command
   * whose message arrived in this turn, from any connection, and the scheduling pass they asked for
   * (queued before, so it runs first) share one write and one fsync. The offer that follows a
   * finished lease is then made durable with the report that freed its place, not one fsync later.
   * While a write is in flight the loop in flush() takes what queued up as soon as it finishes.
   */
  private requestFlush(): void {
    if (this.writing || this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        const waiters = this.waiters;
        this.queue = [];
        this.waiters = [];
        const started = performance.now();
        try {
          if (this.degraded) throw this.degraded;
          await this.store.append(batch);
          this.emit('commit', { seconds: (performance.now() - started) / 1000, events: batch.length, ok: true });
          this.durableSeq = (batch.at(-1) as StoredEvent).seq;
          this.eventsSinceSnapshot += batch.length;
          // Each command's notifications, then one journal batch for the whole commit (not one per
          // command in it: a subscriber gets one `journal.appended` push per commit, bench/README.md
          // "Where a task's time goes"), then the answers, in the order each command had them: a
          // revoked worker hears its lease cancelled before the journal's worker.revoked closes its socket.
          try {
            for (const w of waiters) this.deliver(w.notifications);
            this.publish(batch);
          } catch (error) {
            // A listener's defect: the events are durable all the same, and their answers go out.
            this.options.log?.error({ err: error }, 'a notification or journal listener failed');
          }
          for (const w of waiters) w.resolve();
        } catch (error) {
          this.emit('commit', { seconds: (performance.now() - started) / 1000, events: batch.length, ok: false });
          const err = error instanceof Error ? error : new Error(String(error));
          const refusal = new OwpError('UNAVAILABLE', `The coordinator could not make this change durable (${err.message}). It was not acknowledged; retry later with the same idempotency key.`);
          // Refused once reads answer from the disk again, so nothing read after the refusal shows the change.
          void this.enterDegraded(err).then(() => {
            for (const w of waiters) w.reject(refusal);
          });
        }
      }
    } finally {
      this.writing = false;
      if (this.queue.length === 0) {
        const idle = this.idle;
        this.idle = [];
        for (const fn of idle) fn();
        if (this.snapshotDue()) void this.snapshot();
      }
    }
  }

  /**
   * A snapshot is due after `snapshotEveryEvents` events, or after as many events as the last
   * snapshot held tasks and workers if that is more. A snapshot costs the size of the state (with
   * 200,000 ready tasks, seconds of copying and serialising while nothing else runs), so spacing
   * them by that size keeps their cost per event bounded, as Redis rewrites its append-only file
   * once it has grown by the size it had at the last rewrite (auto-aof-rewrite-percentage 100). A
   * restart then replays at most about as many events as the snapshot holds records.
   */
  private snapshotDue(): boolean {
    return this.eventsSinceSnapshot >= Math.max(this.options.snapshotEveryEvents ?? 20_000, this.snapshotRecords);
  }

  private liveRecords(): number {
    return this.engine.state.tasks.size + this.engine.state.workers.size;
  }

  /** Resolves once every event applied so far is durable; throws UNAVAILABLE if some of it was refused. */
  private async durableBarrier(): Promise<void> {
    const target = this.engine.state.seq;
    const engine = this.engine;
    while (this.durableSeq < target) {
      // Nothing being written and still behind: the writes were refused (or the state rebuilt).
      if (this.degraded || this.engine !== engine || (!this.writing && this.queue.length === 0)) {
        throw new OwpError('UNAVAILABLE', 'The coordinator could not make the state this answer was read from durable; retry in a moment.');
      }
      await this.whenIdle();
    }
  }

  /** Resolves when every queued event is on disk. */
  whenIdle(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * The store failed: stop acknowledging changes rather than lie. Memory may now be ahead of disk,
   * so once the store works again the state is rebuilt from what the disk really holds.
   */
  private enterDegraded(error: Error): Promise<void> {
    if (this.degraded) return this.durableView;
    this.degraded = error;
    this.options.log?.error({ err: error }, 'storage failed; refusing changes until it recovers');
    this.emit('degraded', error);
    // Memory holds the changes just refused: reads must answer from what the disk holds, not from them.
    const durableView = (this.durableView = (async (): Promise<void> => {
      await this.whenIdle();
      if (this.closed) return;
      try {
        const { engine, warnings } = await Runtime.recover(this.options);
        this.durableSeq = engine.state.seq;
        this.warnings.push(...warnings);
        this.engine = engine;
        this.recent = [];
      } catch {
        // The disk cannot even be read: reads answer from memory until the recovery below succeeds.
      }
    })());
    const attempt = async (): Promise<void> => {
      if (this.closed) return;
      try {
        await durableView;
        await this.whenIdle();
        await this.store.probe();
        await this.reload();
        if (this.degraded) return; // failed again while re-announcing sockets: that failure runs its own recovery
        this.options.log?.info({ seq: this.engine.state.seq }, 'storage recovered; state reloaded from disk');
        this.emit('degraded', null);
      } catch {
        this.recoveryTimer = setTimeout(() => void attempt(), 1000);
      }
    };
    this.recoveryTimer = setTimeout(() => void attempt(), 200);
    return durableView;
  }

  /** Rebuilds the engine from the store (after a storage failure), keeping live sockets online. */
  private async reload(): Promise<void> {
    const { engine, warnings } = await Runtime.recover(this.options);
    this.durableSeq = engine.state.seq;
    this.warnings.push(...warnings);
    this.engine = engine;
    this.recent = [];
    // Leave degraded mode before re-announcing live sockets: their worker.connected events must be
    // committed, and a commit while degraded is refused (which would fail every reload forever).
    this.degraded = null;
    const reconnected: Array<Promise<void>> = [];
    for (const [workerId, count] of this.liveSockets) {
      if (!engine.state.workers.has(workerId)) continue;
      for (let i = 0; i < count; i += 1) reconnected.push(this.commit(engine.connected(workerId)));
    }
    this.requestSchedule();
    await Promise.all(reconnected.map((p) => p.catch(() => undefined)));
  }

  private deliver(notifications: readonly Notification[]): void {
    for (const n of notifications) this.emit('notify', n);
  }

  private publish(events: readonly StoredEvent[]): void {
    const wire = events.map(toJournalEvent);
    for (const e of events) this.recent.push(e);
    if (this.recent.length > RECENT_EVENTS * 1.25) this.recent = this.recent.slice(-RECENT_EVENTS);
    this.emit('journal', wire);
    this.emit('durable', events);
    // The pushes are encoded (socket.io encodes a broadcast as it is emitted): their text may go.
    forgetJournalEventJson(wire);
  }

  // ---- time ----------------------------------------------------------------------------------------

  private startTimers(): void {
    const every = this.options.sweepIntervalMs ?? 250;
    this.sweepTimer = setInterval(() => void this.sweep(), every);
    this.sweepTimer.unref?.();
    const snapEvery = this.options.snapshotIntervalMs ?? 60_000;
    this.snapshotTimer = setInterval(() => {
      if (this.eventsSinceSnapshot > 0) void this.snapshot();
    }, snapEvery);
    this.snapshotTimer.unref?.();
  }

  /** Expires what is due and makes offers. Called by the timer, or by tests after moving a manual clock. */
  async sweep(): Promise<void> {
    if (this.degraded || this.closed) return;
    const ticked = this.engine.tick();
    const scheduled = this.engine.schedule();
    await Promise.all([this.commit(ticked), this.commit(scheduled)]).catch(() => undefined);
  }

  /** Coalesces scheduling passes: at most one per turn of the event loop. */
  requestSchedule(): void {
    if (this.scheduleQueued || this.closed) return;
    this.scheduleQueued = true;
    setImmediate(() => {
      this.scheduleQueued = false;
      if (this.degraded || this.closed || !this.engine.hasDirty()) return;
      this.commit(this.engine.schedule()).catch(() => undefined);
    });
  }

  /** Writes a snapshot of the state once every journaled event is on disk. */
  snapshot(): Promise<void> {
    if (this.snapshotting) return this.snapshotting;
    this.snapshotting = (async () => {
      try {
        // Commands may run between the queue draining and this turn (their events are then being
        // written): wait for those too, so a busy runtime still snapshots instead of being refused.
        for (let tries = 0; tries < 100; tries += 1) {
          await this.whenIdle();
          if (this.engine.state.seq === this.durableSeq || this.degraded || this.queue.length + (this.writing ? 1 : 0) === 0) break;
        }
        if (this.degraded || this.engine.state.seq !== this.durableSeq || this.writing) return;
        // No await between here and the capture: the store's end and the state's seq must be the same S.
        const state = this.engine.state;
        const seq = state.seq;
        const sink = this.store.beginSnapshot(seq, this.clock.now() - IDEMPOTENCY_TTL_MS);
        // A store that keeps the covered idempotency keys beside the snapshot gets them apart.
        const keysApart = sink.keys !== undefined;
        const capture = state.beginCapture(sink.head, !keysApart);
        this.eventsSinceSnapshot = 0;
        this.snapshotRecords = this.liveRecords();
        // Each part goes a piece at a time, so requests keep being answered meanwhile (turns.ts).
        const turns = new Turns();
        try {
          await writeCapture(capture, sink, { ms: this.options.snapshotSliceMs ?? 1, records: this.options.snapshotSliceRecords });
          if (sink.keys) await sink.keys.write(await state.idempotency.coveredBy(seq, turns), this.clock.now() - IDEMPOTENCY_TTL_MS);
        } catch (error) {
          await sink.abort();
          throw error;
        } finally {
          state.endCapture(capture);
        }
        await sink.commit();
        // The store has them now: memory keeps only the keys used since (unless the state was rebuilt meanwhile).
        if (keysApart && this.engine.state === state) await state.idempotency.forgetCovered(seq, turns);
      } catch (error) {
        this.options.log?.error({ err: error }, 'snapshot failed; the journal still has every change');
      } finally {
        this.snapshotting = null;
      }
    })();
    return this.snapshotting;
  }

  /** Resolves once the snapshot under way, if any, is written or has failed. */
  snapshotWritten(): Promise<void> {
    return this.snapshotting ?? Promise.resolve();
  }

  // ---- journal reads -------------------------------------------------------------------------------

  /** The journal after a seq, in order, filtered to what the principal may see. */
  readJournalFor(principal: Principal, params: Record<string, unknown>): Promise<{ events: JournalEvent[]; last_seq: number }> {
    return readJournalPage(principal, params, this.durableSeq, (after, limit) => this.readRaw(after, limit));
  }

  /** A finished task that left the live state: read back from its task.archived event. */
  private async archivedTask(taskId: string): Promise<Task | undefined> {
    if (this.engine.state.tasks.has(taskId)) return undefined;
    const seq = this.engine.state.archived.get(taskId);
    if (seq === undefined) return undefined;
    const [event] = await this.readRaw(seq - 1, 1);
    return event?.seq === seq && event.type === 'task.archived' ? event.data.task : undefined;
  }

  /**
   * Brings what the engine's synchronous idempotency check needs into memory, one step per call:
   * the record of a key a snapshot covers (the store keeps those beside it, `coveredKeys`), then
   * its first answer (read back from the journal event `seq` that carries it). Undefined, not a
   * resolved promise, once nothing is missing: a key in memory with its answer, or a new key,
   * whose hash the covered keys do not hold (a search in memory), costs no I/O and no extra turn.
   * An answer the journal cannot give is left absent: the engine then refuses with UNAVAILABLE.
   */
  private prepareKey(scope: string, key: string, seen: KeySearch): Promise<void> | undefined {
    const keys = this.engine.state.idempotency;
    const rec = keys.get(scope, key);
    if (rec) {
      if (rec.answer !== undefined || rec.seq === undefined || seen.unreadable) return undefined;
      const seq = rec.seq;
      return this.readRaw(seq - 1, 1).then(([event]) => {
        if (event?.seq === seq && event.idem && event.idem.key === rec.key && event.idem.scope === rec.scope) keys.fill(rec, event.idem.result);
        else seen.unreadable = true;
      }, () => {
        seen.unreadable = true;
      });
    }
    // Searched already, found nothing: a record found there and since forgotten went into a newer file.
    const covered = this.store.coveredKeys;
    if (!covered || covered === seen.searched) return undefined;
    const notBefore = this.clock.now() - IDEMPOTENCY_TTL_MS;
    if (!covered.mayHold(scope, key, notBefore)) return undefined;
    return covered.find(scope, key, notBefore).then((found) => {
      seen.searched = covered;
      const now = this.engine.state.idempotency;
      if (found && !now.get(scope, key)) now.restore([found]);
    }, (error: unknown) => {
      throw new OwpError('UNAVAILABLE', `The record of idempotency key "${key}" could not be read from the store (${error instanceof Error ? error.message : String(error)}); nothing was changed. Retry with the same key.`);
    });
  }

  private async readRaw(afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const first = this.recent[0];
    if (first && first.seq <= afterSeq + 1) {
      const start = afterSeq + 1 - first.seq;
      return this.recent.slice(start, start + limit);
    }
    return this.store.readJournal(afterSeq, limit);
  }

  // ---- lifecycle -----------------------------------------------------------------------------------

  /** A stop has begun: /readyz says so from now on, while in-flight work finishes. */
  beginShutdown(): void {
    this.closing = true;
  }

  /**
   * Stops timers, waits for pending writes, writes a final snapshot (unless told not to: a deposed
   * cluster leader may not write one) and closes the store.
   */
  async close(options: { snapshot?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.snapshotTimer);
    clearTimeout(this.recoveryTimer);
    await this.whenIdle();
    await this.snapshotWritten(); // one under way ends first; the final one then covers what came after it
    if (options.snapshot !== false && !this.degraded && this.eventsSinceSnapshot > 0) await this.snapshot();
    this.closed = true;
    await this.store.close();
  }
}

/**
 * Hands a capture's text to the store a slice at a time. Each slice waits for its write and then
 * for the next turn of the loop (setImmediate), so commands and their commits run between slices.
 */
async function writeCapture(capture: SnapshotCapture, sink: SnapshotSink, limits: SliceLimits): Promise<void> {
  for (let text = capture.next(limits); text !== null; text = capture.next(limits)) {
    await sink.write(text);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What one request's key search has done so far (Runtime.prepareKey). */
interface KeySearch {
  /** The covered keys already searched for this key. */
  searched?: CoveredKeys;
  /** The journal did not give the key's answer: the engine refuses the replay. */
  unreadable?: boolean;
}

export function wireError(error: unknown): WireError {
  if (error instanceof OwpError) return error.toWire();
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `The coordinator failed unexpectedly: ${message}` };
}
