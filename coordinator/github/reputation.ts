/**
 * Reputation from PR outcomes, after BOINC's adaptive replication: a host is trusted after N
 * consecutive valid results, and one invalid result resets the count. Here a merged PR on a task
 * at or above the worker's trust level counts towards the next level; after
 * `promote_after_merged` of them in a row the worker's trust rises by one (never above
 * `max_trust`). A PR closed without merging resets the count and lowers trust by
 * `demote_on_closed`. Trust decays without activity: with `decay_half_life_days`, it halves
 * (rounded down) for every half-life a worker has no lease, PR or merge — slow to earn, quick to
 * lose. Changes go through worker.set_trust as the admin, so they are journaled.
 */
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { ReputationConfig } from './config.ts';
import type { IntegrationContext } from './context.ts';

export interface Standing {
  trust: number;
  streak: number;
}

/** The worker's trust and streak after one PR outcome on a task of `tier`. */
export function nextStanding(config: ReputationConfig, current: Standing, outcome: 'merged' | 'closed', tier: number): Standing {
  if (outcome === 'closed') return { trust: Math.max(0, current.trust - config.demote_on_closed), streak: 0 };
  if (tier < current.trust) return current;
  const streak = current.streak + 1;
  if (config.promote_after_merged > 0 && streak >= config.promote_after_merged && current.trust < config.max_trust) return { trust: current.trust + 1, streak: 0 };
  return { trust: current.trust, streak };
}

const DAY_MS = 86_400_000;

/** Trust after `idleMs` without activity: halved, rounded down, per whole half-life; and how many halvings that was. */
export function decayedTrust(trust: number, idleMs: number, halfLifeMs: number): { trust: number; halvings: number } {
  if (halfLifeMs <= 0 || idleMs < halfLifeMs || trust <= 0) return { trust, halvings: 0 };
  const halvings = Math.floor(idleMs / halfLifeMs);
  return { trust: Math.floor(trust / 2 ** Math.min(halvings, 8)), halvings };
}

/** Follows the journal: remembers who opened each PR, and adjusts trust when it is merged or closed. */
export class Reputation {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: IntegrationContext) {}

  onEvents(events: readonly JournalEvent[]): void {
    const relevant = events.filter((e) => this.ctx.repo(e.repo) && (e.type === 'lease.granted' || e.type === 'pr.opened' || e.type === 'task.merged' || (e.type === 'task.closed' && e.data.outcome === 'closed')));
    if (relevant.length === 0) return;
    this.chain = this.chain.then(async () => {
      for (const e of relevant) {
        try {
          await this.apply(e);
        } catch (error) {
          this.ctx.log.error({ task_id: e.task_id, err: error }, `reputation update for ${e.task_id} failed`);
        }
      }
    });
  }

  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * Trust decay, run with each poll: every worker with trust idle for a half-life or more loses
   * half its trust per half-life (journaled through worker.set_trust), and its idle time then
   * counts from the last halving, so the next one takes another full half-life.
   */
  decay(now: number): Promise<void> {
    this.chain = this.chain.then(async () => {
      const config = this.ctx.config.reputation;
      const halfLife = config.decay_half_life_days * DAY_MS;
      const runtime = this.ctx.runtime;
      if (!config.enabled || halfLife <= 0 || !runtime) return;
      const data = this.ctx.state.data;
      const since = (data.last_active ??= {});
      for (const { record: w } of runtime.engine.state.workers.values()) {
        if (w.revoked || w.trust <= 0) continue;
        const from = since[w.id] ?? w.registered_at;
        const after = decayedTrust(w.trust, now - from, halfLife);
        if (after.halvings === 0) continue;
        since[w.id] = from + after.halvings * halfLife;
        await this.ctx.state.save();
        if (after.trust === w.trust) continue;
        try {
          await this.ctx.call('worker.set_trust', { worker_id: w.id, trust: after.trust, idempotency_key: `github:decay:${w.id}:${since[w.id]}` });
          this.ctx.log.info({ worker_id: w.id, trust: after.trust, previous: w.trust, idle_days: Math.floor((now - from) / DAY_MS) }, `${w.id} trust ${w.trust} → ${after.trust}: no activity for ${Math.floor((now - from) / DAY_MS)} days (half-life ${config.decay_half_life_days} days)`);
        } catch (error) {
          this.ctx.log.error({ worker_id: w.id, err: error }, `trust decay for ${w.id} failed`);
        }
      }
    });
    return this.chain;
  }

  private async apply(e: JournalEvent): Promise<void> {
    const taskId = e.task_id as string;
    const data = this.ctx.state.data;
    // Any lease, PR or merge is activity: trust decay counts idle time from the latest.
    const active = e.type === 'task.merged' || e.type === 'task.closed' ? data.pr_authors[taskId]?.worker_id : e.worker_id;
    if (active) (data.last_active ??= {})[active] = Math.max(data.last_active?.[active] ?? 0, e.at);
    if (e.type === 'lease.granted') {
      await this.ctx.state.save();
      return;
    }
    if (e.type === 'pr.opened') {
      if (!e.worker_id) return;
      data.pr_authors[taskId] = { worker_id: e.worker_id, tier: this.ctx.task(taskId)?.tier ?? 0 };
      await this.ctx.state.save();
      return;
    }
    const author = data.pr_authors[taskId];
    if (!author) return;
    delete data.pr_authors[taskId];
    const config = this.ctx.config.reputation;
    const worker = this.ctx.runtime?.engine.state.workers.get(author.worker_id)?.record;
    if (!config.enabled || !worker || worker.revoked) {
      await this.ctx.state.save();
      return;
    }
    const outcome = e.type === 'task.merged' ? 'merged' : 'closed';
    const before: Standing = { trust: worker.trust, streak: data.streaks[author.worker_id] ?? 0 };
    const after = nextStanding(config, before, outcome, author.tier);
    data.streaks[author.worker_id] = after.streak;
    await this.ctx.state.save();
    if (after.trust !== before.trust) {
      await this.ctx.call('worker.set_trust', { worker_id: author.worker_id, trust: after.trust, idempotency_key: `github:trust:${taskId}:${outcome}` });
      this.ctx.log.info({ worker_id: author.worker_id, trust: after.trust, previous: before.trust, task_id: taskId, outcome }, `${author.worker_id} trust ${before.trust} → ${after.trust} after ${taskId} was ${outcome}`);
    }
  }
}
