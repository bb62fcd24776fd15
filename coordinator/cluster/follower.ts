/**
 * A standby's copy of the state, kept hot: loaded from the PostgreSQL store, then moved along the
 * journal as the leader appends. A LISTEN on owp_journal says "there is more up to seq N" (the
 * store's trigger notifies on every commit); a catch-up read fetches it, in order. A read also runs
 * every pollIntervalMs, so a notification lost with its connection delays an event by at most that.
 *
 * The copy serves what a follower answers itself (tokens, the journal feed, metrics), and becomes
 * the leader's state on a takeover without reading the journal again.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Logger } from '../log.ts';
import type { Engine } from '../engine/engine.ts';
import { State } from '../state/state.ts';
import { toJournalEvent, type StoredEvent } from '../state/stored-event.ts';
import { JOURNAL_CHANNEL } from '../store/postgres-schema.ts';
import type { PostgresStore } from '../store/postgres.ts';

export interface FollowerOptions {
  store: PostgresStore;
  /** For the LISTEN connection (one of its own, outside the pool: it stays open). */
  databaseUrl: string;
  /** A read-only engine over the copy (for info(), reads and metrics; never asked to change anything). */
  makeEngine: (state: State) => Engine;
  pollIntervalMs?: number;
  /**
   * How long a notified commit may wait for the leader's push before the journal is read: 0 reads
   * at once. A push (relay link) carries the same events a moment after the database's
   * notification; reading them back as well would cost a query per commit per follower.
   */
  pushGraceMs?: () => number;
  log?: Logger;
}

export interface FollowerEvents {
  journal: [JournalEvent[]];
}

const PAGE = 1000;

export class JournalFollower extends EventEmitter<FollowerEvents> {
  readonly state: State;
  readonly engine: Engine;
  /** The highest seq the leader is known to have committed (from notifications and the lease row). */
  private known = 0;
  /** When this copy first knew it was behind (performance.now()), or null while caught up. */
  private behindSince: number | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private waiters: Array<{ seq: number; resolve: (reached: boolean) => void }> = [];
  private listener: pg.Client | null = null;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(private readonly options: FollowerOptions, state: State) {
    super();
    this.state = state;
    this.engine = options.makeEngine(state);
    this.known = state.seq;
  }

  /**
   * Loads the state and starts following. `publishedUpTo`: the journal this process's subscribers
   * have already been sent (a deposed leader's last commit); the events between it and the loaded
   * state are sent first, so the local journal feed has no gap across the change of role.
   */
  static async start(options: FollowerOptions, publishedUpTo?: number): Promise<JournalFollower> {
    const loaded = await options.store.load();
    const state = loaded.snapshot ? State.fromSnapshot(loaded.snapshot) : new State();
    for (const event of loaded.events) state.apply(event);
    const follower = new JournalFollower(options, state);
    for (const warning of loaded.warnings) options.log?.warn({ warning }, `follower: ${warning}`);
    if (publishedUpTo !== undefined && publishedUpTo < state.seq) {
      for (let cursor = publishedUpTo; cursor < state.seq;) {
        const page = (await options.store.readJournal(cursor, PAGE)).filter((e) => e.seq <= state.seq);
        if (page.length === 0) break;
        follower.emit('journal', page.map(toJournalEvent));
        cursor = (page.at(-1) as StoredEvent).seq;
      }
    }
    await follower.listen();
    follower.pollTimer = setInterval(() => void follower.catchUp().catch(() => undefined), options.pollIntervalMs ?? 1000);
    follower.pollTimer.unref?.();
    return follower;
  }

  /** The seq this copy has applied. */
  applied(): number {
    return this.state.seq;
  }

  /** How far behind the leader's last known commit this copy is. */
  lag(): { events: number; seconds: number } {
    const events = Math.max(0, this.known - this.state.seq);
    return { events, seconds: events > 0 && this.behindSince !== null ? (performance.now() - this.behindSince) / 1000 : 0 };
  }

  /** The leader has committed up to `seq` (its lease row says so). */
  observe(seq: number): void {
    if (seq <= this.known) return;
    this.known = seq;
    if (seq > this.state.seq) {
      this.behindSince ??= performance.now();
      const grace = this.options.pushGraceMs?.() ?? 0;
      if (grace <= 0) {
        void this.catchUp().catch(() => undefined);
      } else if (!this.graceTimer) {
        this.graceTimer = setTimeout(() => {
          this.graceTimer = undefined;
          if (this.known > this.state.seq) void this.catchUp().catch(() => undefined);
        }, grace);
        this.graceTimer.unref?.();
      }
    }
  }

  /** Reads and applies everything committed after this copy, until a read comes back empty. */
  catchUp(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const page = await this.options.store.readJournal(this.state.seq, PAGE);
            if (page.length === 0) break;
            this.apply(page);
            if (page.length < PAGE) break;
          }
        } while (this.again && !this.stopped);
        if (this.state.seq >= this.known) this.behindSince = null;
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }

  /**
   * Events the leader pushed over the relay link right after their commit (so durable): applied at
   * once when they continue this copy. Anything else (a gap: a push lost with a link) is left to
   * the catch-up read, which the database's notification or the poll starts.
   */
  receive(events: readonly StoredEvent[]): void {
    if (this.stopped || events.length === 0) return;
    const first = events[0] as StoredEvent;
    const last = events.at(-1) as StoredEvent;
    if (typeof first.seq !== 'number' || typeof last.seq !== 'number') return;
    // Only a run without holes that continues this copy is applied; the journal in the database decides otherwise.
    const contiguous = events.every((e, i) => i === 0 || e.seq === (events[i - 1] as StoredEvent).seq + 1);
    if (!contiguous || first.seq > this.state.seq + 1) return this.observe(last.seq);
    this.apply(events);
    if (this.state.seq >= this.known) this.behindSince = null;
  }

  /** Resolves true once the copy has applied `seq`, false if it has not within timeoutMs. */
  waitFor(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.state.seq >= seq) return Promise.resolve(true);
    this.observe(seq);
    return new Promise((resolve) => {
      const waiter = { seq, resolve };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      timer.unref?.();
      waiter.resolve = (reached) => {
        clearTimeout(timer);
        resolve(reached);
      };
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.graceTimer);
    const listener = this.listener;
    this.listener = null;
    listener?.removeAllListeners('end');
    void listener?.end().catch(() => undefined);
    for (const w of this.waiters) w.resolve(false);
    this.waiters = [];
  }

  private apply(page: readonly StoredEvent[]): void {
    const fresh: StoredEvent[] = [];
    for (const e of page) {
      if (e.seq <= this.state.seq) continue;
      // The store hands the journal out in order and without gaps; anything else is a bug to stop on.
      if (e.seq !== this.state.seq + 1) throw new Error(`follower at seq ${this.state.seq} was handed seq ${e.seq}`);
      this.state.apply(e);
      fresh.push(e);
    }
    if (fresh.length === 0) return;
    if (this.state.seq > this.known) this.known = this.state.seq;
    this.emit('journal', fresh.map(toJournalEvent));
    const reached = this.waiters.filter((w) => w.seq <= this.state.seq);
    this.waiters = this.waiters.filter((w) => w.seq > this.state.seq);
    for (const w of reached) w.resolve(true);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, keepAlive: true, keepAliveInitialDelayMillis: 1000, application_name: 'owp-follower', query_timeout: 5000 });
    const retry = (): void => {
      if (this.stopped || this.listener !== client) return;
      this.listener = null;
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      this.reconnectTimer = setTimeout(() => void this.listen().catch(() => undefined), 500);
      this.reconnectTimer.unref?.();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (n) => {
      const seq = Number(n.payload);
      if (Number.isSafeInteger(seq)) this.observe(seq);
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${JOURNAL_CHANNEL}`);
    } catch (error) {
      this.options.log?.warn({ err: error }, 'follower: cannot LISTEN for journal appends; reading every poll interval and retrying');
      retry();
      return;
    }
    // Whatever was committed before the LISTEN took effect was not notified: read it now.
    void this.catchUp().catch(() => undefined);
  }
}
