/**
 * When a cluster node tries what (node.ts decides what leading means): every renew interval a
 * leader renews its lease, a node taking over keeps it while the takeover runs, and a follower
 * tries to take a lapsed one (else it reads who holds it); a watchdog steps a leader down once its
 * lease may have run out without a renewal it knows of. The lease counts from when a request was
 * sent, not answered: the database may have run it at once. Safety never rests on these timers
 * (the term fence in every append does); they only decide when to try.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.ts';
import type { LeaderRow, PostgresStore } from '../store/postgres.ts';

export type Role = 'follower' | 'promoting' | 'leader';

export interface LeaseHooks {
  role(): Role;
  /** No tries now (the node is shutting down). */
  halted(): boolean;
  /** This node took the lease (term + 1): start the takeover. Not awaited: renewals go on meanwhile. */
  acquired(taken: { term: number; lastSeq: number }, sentAt: number): void;
  /** Leading no more: a renewal was refused, or none came back within the lease. */
  lost(reason: string): Promise<void>;
  /** A follower read who holds the lease. */
  observed(row: LeaderRow | null): void;
  /** A follower's tick is done (it reports how far its copy is). */
  followed(): void;
  log?: Logger;
}

export class LeaseKeeper {
  private renewedAt = 0;
  private ticking = false;
  private stopped = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: PostgresStore,
    private readonly settings: { leaseMs: number; renewIntervalMs: number },
    private readonly hooks: LeaseHooks,
  ) {}

  /** Starts the timers and runs the first tick, advertising `url` as this node's when it takes the lease. */
  async start(url: string): Promise<void> {
    this.tickTimer = setInterval(() => void this.tick(url), this.settings.renewIntervalMs);
    this.watchdog = setInterval(() => this.check(), Math.max(25, Math.min(250, this.settings.renewIntervalMs / 4)));
    await this.tick(url);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.tickTimer);
    clearInterval(this.watchdog);
  }

  /** The lease is known to run from at least `sentAt` (a takeover's acquire, or a renewal). */
  renewedSince(sentAt: number): void {
    this.renewedAt = Math.max(this.renewedAt, sentAt);
  }

  private async tick(url: string): Promise<void> {
    if (this.ticking || this.stopped || this.hooks.halted()) return;
    this.ticking = true;
    const role = this.hooks.role();
    try {
      if (role === 'leader') {
        const sent = performance.now();
        if (await this.store.renewLease(this.settings.leaseMs)) this.renewedSince(sent);
        else await this.hooks.lost('another node holds the lease now');
      } else if (role === 'promoting') {
        // A takeover can outlast the lease (a cold process, a loaded machine, a far database): it keeps
        // the lease meanwhile, or it would start leading on a lease already lapsed, step down at once,
        // and another node would take over, again and again. A refused renewal ends the term: the
        // takeover's first append is then fenced and it gives up.
        const sent = performance.now();
        if (await this.store.renewLease(this.settings.leaseMs)) this.renewedSince(sent);
      } else {
        const sent = performance.now();
        const taken = await this.store.acquireLease(this.settings.leaseMs, url);
        if (taken) this.hooks.acquired(taken, sent);
        else this.hooks.observed(await this.store.readLeader());
        this.hooks.followed();
      }
    } catch (error) {
      // The database is unreachable or slow: a leader keeps going until the watchdog says its lease may have run out.
      this.hooks.log?.warn({ err: error, role }, 'cluster: could not reach the database for the lease');
    } finally {
      this.ticking = false;
    }
  }

  /** Steps a leader down once its lease may have expired without a renewal it knows of. */
  private check(): void {
    if (this.hooks.role() === 'leader' && performance.now() - this.renewedAt > this.settings.leaseMs) {
      void this.hooks.lost(`the lease was not renewed within ${this.settings.leaseMs} ms`);
    }
  }
}
