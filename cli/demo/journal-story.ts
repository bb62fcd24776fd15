/**
 * Reads what happened out of the audit journal alone: tasks, leases, requeues, PRs, the review
 * budget's peak and how often it was full, which tasks waited on an area lock, and which tasks
 * moved to another worker after a lease expired. The demo's closing summary is this, so it shows
 * what the coordinator recorded, not what the demo believes it did.
 */
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { skipUnknownEvent } from '../../protocol/unknown-event.ts';

const RESERVING = new Set(['offered', 'leased', 'in_progress', 'pr_opened']);
const ACTIVE = new Set(['offered', 'leased', 'in_progress', 'pr_opened']);

export interface LockWait {
  task_id: string;
  area: string;
  /** The task holding the area while this one was ready. */
  holder: string;
}

export interface Requeue {
  task_id: string;
  from_worker: string;
  to_worker: string;
  /** Seq of the lease.expired event. */
  expired_seq: number;
}

export interface JournalStory {
  events: number;
  tasks_created: number;
  leases_granted: number;
  leases_expired: number;
  leases_released: number;
  requeues: Requeue[];
  prs_opened: number;
  prs_merged: number;
  prs_closed: number;
  /** The most budget units (open PRs + live leases + open offers) in use at once. */
  budget_peak: number;
  max_open_prs: number | undefined;
  /** How many times the budget filled up (reached max_open_prs) after having room. */
  throttle_hits: number;
  lock_waits: LockWait[];
  prs_by_worker: Record<string, number>;
  final_states: Record<string, string>;
}

export function readJournalStory(events: JournalEvent[], repo?: string): JournalStory {
  const state = new Map<string, string>();
  const area = new Map<string, string>();
  const lastExpiry = new Map<string, { worker: string; seq: number }>();
  const waits = new Map<string, LockWait>();
  const story: JournalStory = {
    events: 0, tasks_created: 0, leases_granted: 0, leases_expired: 0, leases_released: 0, requeues: [], prs_opened: 0, prs_merged: 0, prs_closed: 0,
    budget_peak: 0, max_open_prs: undefined, throttle_hits: 0, lock_waits: [], prs_by_worker: {}, final_states: {},
  };
  let full = false;
  for (const e of events) {
    if (repo && e.repo !== undefined && e.repo !== repo) continue;
    story.events += 1;
    switch (e.type) {
      case 'repo.configured':
        story.max_open_prs = e.data.settings.max_open_prs;
        break;
      case 'task.created': {
        const task = e.data.task;
        story.tasks_created += 1;
        state.set(task.id, task.state);
        if (task.area) area.set(task.id, task.area);
        break;
      }
      case 'offer.created':
        state.set(e.task_id, 'offered');
        break;
      case 'offer.declined':
      case 'offer.expired':
      case 'offer.withdrawn':
        state.set(e.task_id, e.data.to);
        break;
      case 'lease.granted': {
        const id = e.task_id;
        story.leases_granted += 1;
        state.set(id, 'leased');
        const expired = lastExpiry.get(id);
        if (expired && e.worker_id !== expired.worker) {
          story.requeues.push({ task_id: id, from_worker: expired.worker, to_worker: e.worker_id, expired_seq: expired.seq });
          lastExpiry.delete(id);
        }
        break;
      }
      case 'task.started':
        state.set(e.task_id, 'in_progress');
        break;
      case 'pr.opened':
        story.prs_opened += 1;
        state.set(e.task_id, 'pr_opened');
        story.prs_by_worker[e.worker_id] = (story.prs_by_worker[e.worker_id] ?? 0) + 1;
        break;
      case 'lease.expired':
        story.leases_expired += 1;
        lastExpiry.set(e.task_id, { worker: e.worker_id, seq: e.seq });
        state.set(e.task_id, e.data.to);
        break;
      case 'lease.released':
        story.leases_released += 1;
        state.set(e.task_id, e.data.to);
        break;
      case 'lease.cancelled':
        state.set(e.task_id, e.data.to);
        break;
      case 'task.merged':
      case 'task.closed':
        if (state.get(e.task_id) === 'pr_opened') {
          if (e.type === 'task.merged') story.prs_merged += 1;
          else story.prs_closed += 1;
        }
        state.set(e.task_id, e.type === 'task.merged' ? 'merged' : 'closed');
        break;
      case 'task.blocked':
        state.set(e.task_id, 'blocked');
        break;
      case 'task.unblocked':
        state.set(e.task_id, 'ready');
        break;
      // The story is about tasks, leases and the budget: these change none of them.
      case 'pr.attached':
      case 'pr.checks_updated':
      case 'pr.checks_timed_out':
      case 'task.updated':
      case 'task.archived':
      case 'maintainer.created':
      case 'maintainer.revoked':
      case 'worker.registered':
      case 'worker.token_rotated':
      case 'worker.updated':
      case 'worker.trust_changed':
      case 'worker.revoked':
      case 'worker.connected':
      case 'worker.disconnected':
      case 'worker.heartbeat_lost':
      case 'coordinator.started':
      case 'policy.dry_run_hit':
      case 'contributor.standing_set':
        break;
      case 'budget.adapted':
        story.max_open_prs = e.data.to;
        break;
      default:
        skipUnknownEvent(e);
    }
    // After every event: budget in use, and ready tasks whose area another active task holds.
    let reserved = 0;
    const activeByArea = new Map<string, string>();
    for (const [taskId, s] of state) {
      if (RESERVING.has(s)) reserved += 1;
      const a = area.get(taskId);
      if (a && ACTIVE.has(s)) activeByArea.set(a, taskId);
    }
    story.budget_peak = Math.max(story.budget_peak, reserved);
    const isFull = story.max_open_prs !== undefined && reserved >= story.max_open_prs;
    if (isFull && !full) story.throttle_hits += 1;
    full = isFull;
    for (const [taskId, s] of state) {
      const a = area.get(taskId);
      if (s !== 'ready' || !a || waits.has(taskId)) continue;
      const holder = activeByArea.get(a);
      if (holder && holder !== taskId) waits.set(taskId, { task_id: taskId, area: a, holder });
    }
  }
  story.lock_waits = [...waits.values()];
  story.final_states = Object.fromEntries(state);
  return story;
}
