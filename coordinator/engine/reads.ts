/**
 * Reads (SPEC §5.6, §5.8–5.10): tasks, repos with their budget and locks, workers, a worker's
 * offers and leases, the coordinator's description and the pool metrics. Nothing here writes.
 */
import { LEASED_STATES } from '../../protocol/states.ts';
import type { Metrics, Task } from '../../protocol/model.ts';
import { MAX_BULK_TASKS, type Result } from '../../protocol/operations.ts';
import { LIMITS } from '../../protocol/validate.ts';
import { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '../../protocol/version.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { Principal } from '../auth.ts';
import { emptyStats, type RepoRuntime, type Stats, type WorkerRuntime } from '../state/records.ts';
import type { State } from '../state/state.ts';
import { canReadRepo, canReadTask, knownRepo, liveTask, readableTask, requireRepoAccess, requireRepoRead } from './access.ts';
import { repoBudget } from './budget.ts';
import { idNumber, orderBy, page } from './pagination.ts';
import { explain } from './explain.ts';
import { contributorStandings } from './contributors.ts';
import { IDEMPOTENCY_TTL_MS } from './idempotency.ts';
import type { EngineOptions } from './options.ts';
import type { OperationHandlers } from './operations.ts';

export const READ_OPERATIONS = {
  'coordinator.info': (cmd) => coordinatorInfo(cmd.options),

  'task.list': (cmd, p, params) => {
    if (params.repo) requireRepoRead(cmd.state, p, params.repo);
    const readable = readableRepos(cmd.state, p);
    const out: Task[] = [];
    for (const task of cmd.state.tasks.values()) {
      if (params.repo && task.repo !== params.repo) continue;
      if (params.state && task.state !== params.state) continue;
      if (!readable(task.repo) && !canReadTask(cmd.state, p, task)) continue;
      out.push(cmd.state.taskView(task));
    }
    // Newest change first; the id breaks ties so the order (and a cursor into it) is total.
    const { items, next_cursor } = page(out, { list: 'task.list', filters: { repo: params.repo, state: params.state }, key: (t) => [t.updated_at, idNumber(t.id)], order: orderBy('desc', 'desc'), limit: params.limit, defaultLimit: 200, cursor: params.cursor });
    return { tasks: items, ...(next_cursor ? { next_cursor } : {}) };
  },

  'task.get': (cmd, p, params) => ({ task: cmd.state.taskView(readableTask(cmd.state, p, params.task_id)) }),

  'task.explain': (cmd, p, params) => {
    readableTask(cmd.state, p, params.task_id);
    // A worker may ask how the policy judges itself, not another worker.
    if (p.kind === 'worker' && params.worker_id !== undefined && params.worker_id !== p.id) {
      throw new OwpError('FORBIDDEN', 'A worker may explain a task only for itself: leave worker_id out or pass your own id.', { worker_id: params.worker_id });
    }
    return explain(cmd, params.task_id, params.worker_id);
  },

  'repo.get': (cmd, p, params) => {
    requireRepoRead(cmd.state, p, params.repo);
    return repoViewFor(p, repoView(cmd.state, knownRepo(cmd.state, params.repo), cmd.now));
  },

  'repo.list': (cmd, p, params) => {
    const readable = readableRepos(cmd.state, p);
    const { items, next_cursor } = page([...cmd.state.repos.values()].filter((r) => readable(r.settings.repo)), { list: 'repo.list', key: (r) => [r.settings.repo], order: orderBy('asc'), limit: params.limit, defaultLimit: 1000, cursor: params.cursor });
    return { repos: items.map((r) => repoViewFor(p, repoView(cmd.state, r, cmd.now))), ...(next_cursor ? { next_cursor } : {}) };
  },

  'contributor.list': (cmd, p, params) => {
    // Read like the repo itself: a public repo's vouch and denounce lists are public (projects share them).
    requireRepoRead(cmd.state, p, params.repo);
    const { items, next_cursor } = page([...knownRepo(cmd.state, params.repo).standings.values()], { list: 'contributor.list', filters: { repo: params.repo }, key: (c) => [c.login.toLowerCase()], order: orderBy('asc'), limit: params.limit, defaultLimit: 1000, cursor: params.cursor });
    return { contributors: items.map((c) => ({ ...c })), ...(next_cursor ? { next_cursor } : {}) };
  },

  'policy.standings': (cmd, p, params) => {
    requireRepoRead(cmd.state, p, params.repo);
    knownRepo(cmd.state, params.repo);
    const { items, next_cursor } = page(contributorStandings(cmd.state, params.repo), { list: 'policy.standings', filters: { repo: params.repo }, key: (c) => [c.login.toLowerCase()], order: orderBy('asc'), limit: params.limit, defaultLimit: 1000, cursor: params.cursor });
    return { standings: items, ...(next_cursor ? { next_cursor } : {}) };
  },

  'worker.list': (cmd, _p, params) => {
    const { items, next_cursor } = page([...cmd.state.workers.values()], { list: 'worker.list', key: (w) => [idNumber(w.record.id)], order: orderBy('asc'), limit: params.limit, defaultLimit: 1000, cursor: params.cursor });
    return { workers: items.map((w) => cmd.state.workerView(w)), ...(next_cursor ? { next_cursor } : {}) };
  },

  'metrics.get': (cmd, p, params) => {
    if (params.repo) {
      requireRepoRead(cmd.state, p, params.repo);
      return metrics(cmd.state, params.repo);
    }
    // The pool's figures for the repos this caller may read; the admin's are the whole pool's.
    if (p.kind === 'maintainer' && p.admin) return metrics(cmd.state);
    const readable = readableRepos(cmd.state, p);
    return metricsOver(cmd.state, [...cmd.state.repos.values()].filter((r) => readable(r.settings.repo)));
  },
} satisfies Partial<OperationHandlers>;

/** A repo-readability test for one command, each repo decided once. */
function readableRepos(state: State, p: Principal): (repo: string) => boolean {
  const known = new Map<string, boolean>();
  return (repo) => {
    let ok = known.get(repo);
    if (ok === undefined) known.set(repo, (ok = canReadRepo(state, p, repo)));
    return ok;
  };
}

/**
 * What a caller sees of a repo: maintainers (of that repo) everything; workers everything but the
 * policy, whose login lists and per-area grants are the maintainers' business (a worker asks
 * task.explain with its own id for the verdicts that concern it).
 */
function repoViewFor(p: Principal, view: Result<'repo.get'>): Result<'repo.get'> {
  if (p.kind === 'maintainer') return view;
  const { policy: _policy, ...settings } = view.settings;
  return { ...view, settings };
}

export function coordinatorInfo(options: EngineOptions): Result<'coordinator.info'> {
  return {
    name: options.name ?? 'owp-reference',
    protocol_version: PROTOCOL_VERSION,
    supported_versions: [...SUPPORTED_PROTOCOL_VERSIONS],
    capabilities: [...(options.capabilities ?? [])],
    limits: { max_payload_bytes: LIMITS.maxPayloadBytes, max_frame_bytes: LIMITS.maxFrameBytes, max_depth: LIMITS.maxDepth, idempotency_key_ttl_ms: IDEMPOTENCY_TTL_MS, max_bulk_tasks: MAX_BULK_TASKS },
    registration: options.registration ?? 'open',
  };
}

export function repoView(state: State, repo: RepoRuntime, now: number): Result<'repo.get'> {
  return { settings: repo.settings, budget: repoBudget(state, repo, now), locks: Object.fromEntries(repo.locks) };
}

/** A worker's open offers, oldest first (one, unless it declared a larger offer window). */
export function offersOf(state: State, w: WorkerRuntime): Result<'offer.list'>['offers'] {
  const out = [];
  for (const id of w.openOffers) {
    const offer = state.offers.get(id);
    if (offer) out.push(state.offerView(offer));
  }
  return out;
}

/** A worker's live leases. */
export function leasesOf(state: State, w: WorkerRuntime): Result<'worker.status'>['leases'] {
  const out = [];
  for (const taskId of w.holding.keys()) {
    const task = state.tasks.get(taskId);
    const lease = task?.current_lease_id ? state.leases.get(task.current_lease_id) : undefined;
    if (lease && lease.worker_id === w.record.id) out.push(state.leaseView(lease));
  }
  return out;
}

/** How far back `worker.prs` looks when the caller names no moment (SPEC WORKER-004). */
export const SUBMITTED_WINDOW_MS = 14 * 24 * 3_600_000;
const SUBMITTED_STATES = new Set(['pr_opened', 'merged', 'closed']);

/**
 * The PRs a worker opened (the task records who: `pr_worker_id`) whose task changed state at or
 * after `since`, in no order (`worker.prs` pages them). A scan of the live tasks: a worker asks
 * for this on a refresh, not per event, and archived tasks have left the state.
 */
export function prsOf(state: State, w: WorkerRuntime, since: number): Result<'worker.prs'>['prs'] {
  const out: Result<'worker.prs'>['prs'] = [];
  for (const task of state.tasks.values()) {
    if (task.pr_worker_id !== w.record.id || !task.pr || !SUBMITTED_STATES.has(task.state) || task.updated_at < since) continue;
    out.push({
      task_id: task.id,
      repo: task.repo,
      title: task.title,
      state: task.state as 'pr_opened' | 'merged' | 'closed',
      pr: task.pr,
      updated_at: task.updated_at,
      ...(task.checks ? { checks: task.checks } : {}),
      ...(task.issue ? { issue: task.issue } : {}),
      ...(task.closed_reason !== undefined ? { closed_reason: task.closed_reason } : {}),
    });
  }
  return out;
}

export function metrics(state: State, repoId?: string): Metrics {
  if (repoId === undefined) return metricsFrom(state, state.stats, [...state.repos.values()]);
  const repo = knownRepo(state, repoId);
  return metricsFrom(state, repo.stats, [repo]);
}

/** The pool metrics over some repos only (a scoped maintainer's or a worker's share of the pool). */
export function metricsOver(state: State, repos: RepoRuntime[]): Metrics {
  const stats = emptyStats();
  for (const r of repos) {
    stats.leases_granted += r.stats.leases_granted;
    stats.requeues += r.stats.requeues;
    stats.prs_opened += r.stats.prs_opened;
    stats.prs_merged += r.stats.prs_merged;
    stats.prs_closed += r.stats.prs_closed;
    stats.lead_times_ms.push(...r.stats.lead_times_ms);
  }
  return metricsFrom(state, stats, repos);
}

function metricsFrom(state: State, stats: Stats, repos: RepoRuntime[]): Metrics {
  const byState: Record<string, number> = {};
  for (const r of repos) for (const [s, n] of Object.entries(r.counts)) byState[s] = (byState[s] ?? 0) + n;
  let online = 0;
  let capacity = 0;
  let used = 0;
  for (const w of state.workers.values()) {
    if (!w.online) continue;
    online += 1;
    capacity += w.record.capacity;
    for (const taskId of w.holding.keys()) {
      const task = state.tasks.get(taskId);
      if (task && LEASED_STATES.includes(task.state)) used += task.effort;
    }
  }
  const lead = [...stats.lead_times_ms].sort((a, b) => a - b);
  const quantile = (q: number): number | null => (lead.length === 0 ? null : (lead[Math.min(lead.length - 1, Math.floor(q * lead.length))] ?? null));
  const outcomes = stats.prs_merged + stats.prs_closed;
  return {
    tasks_by_state: byState,
    workers_online: online,
    workers_registered: state.workers.size,
    utilization: capacity === 0 ? 0 : used / capacity,
    lead_time_ms_median: quantile(0.5),
    lead_time_ms_p90: quantile(0.9),
    requeue_rate: stats.leases_granted === 0 ? 0 : stats.requeues / stats.leases_granted,
    pr_acceptance_rate: outcomes === 0 ? null : stats.prs_merged / outcomes,
    leases_granted: stats.leases_granted,
    requeues: stats.requeues,
    prs_opened: stats.prs_opened,
    prs_merged: stats.prs_merged,
    prs_closed: stats.prs_closed,
    journal_seq: state.seq,
  };
}
