/**
 * The dashboard's client-side picture of the pool. It is loaded once over HTTP and then kept
 * current by folding journal events into it (deltas, not re-fetches). Pure: no DOM, no network,
 * so it is unit-tested with plain `node --test`.
 *
 * Folding is written as "set to" rather than "add to" wherever it can be, because the first HTTP
 * load may already include a few events that the journal then replays (the load reads state a
 * moment after it read `journal_seq`); applying such an event twice must leave the same picture.
 */
import type { Budget, ContributorCapStanding, Metrics, PullRequestInfo, Reasoned, RepoSettings, Task, Worker } from '../../protocol/model.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { skipUnknownEvent } from '../../protocol/unknown-event.ts';
import { reviewBudget } from '../../protocol/budget.ts';
import { ACTIVE_STATES, LEASED_STATES, type TaskState } from '../../protocol/states.ts';

export interface RepoEntry {
  settings: RepoSettings;
  budget: Budget;
  locks: Record<string, string>;
}

export type FeedKind = 'lease' | 'offer' | 'task' | 'pr' | 'worker' | 'repo' | 'other';

export interface FeedEntry {
  seq: number;
  at: number;
  type: string;
  kind: FeedKind;
  repo?: string;
  task_id?: string;
  worker_id?: string;
  /** A plain-text sentence; the view renders it with textContent. */
  text: string;
}

export interface Explanation {
  offerable: boolean;
  reasons: Reasoned[];
  eligible_workers: number;
  fetched_at: number;
}

export interface LeaderboardRow {
  worker_id: string;
  login: string;
  prs_opened: number;
  prs_merged: number;
  leases: number;
}

export interface LeaseRow {
  lease_id: string;
  task_id: string;
  repo: string;
  title: string;
  worker_id: string;
  epoch: number;
  expires_at: number;
  max_deadline_at?: number;
  state: TaskState;
}

export interface AreaLock {
  area: string;
  task_id: string;
  worker_id: string | undefined;
}

export interface ModelLimits {
  /** Feed entries kept in memory; older ones are dropped. */
  feed: number;
  /** Finished (merged/closed) tasks kept; the oldest beyond this are dropped (the server archives them too). */
  finishedTasks: number;
  /** Task → worker attributions kept for the leaderboard's merge counts. */
  attributions: number;
}

export const DEFAULT_LIMITS: ModelLimits = { feed: 500, finishedTasks: 200, attributions: 5000 };

const HOUR_MS = 3_600_000;
/** Moves of the adaptive budget kept per repo: enough to draw its course over a long session. */
export const BUDGET_HISTORY = 200;

/** One move of a repo's adaptive review budget. */
export interface BudgetMove {
  at: number;
  from: number;
  to: number;
  reason: string;
}

export class DashboardModel {
  /** Last journal seq folded into the state (events at or below it are ignored). */
  seq = 0;
  /** Bumped on every change, so a view knows whether to render. */
  version = 0;
  readonly repos = new Map<string, RepoEntry>();
  readonly tasks = new Map<string, Task>();
  readonly workers = new Map<string, Worker>();
  readonly explanations = new Map<string, Explanation>();
  /** Repo → rule in report mode → offers and claims it would have refused, as seen in the journal. */
  readonly dryRunHits = new Map<string, Map<string, number>>();
  /**
   * Repo → its contributors as the coordinator counts them for contributor_cap (policy.standings,
   * re-read after journal events), with the maintainers' vouches and denouncements.
   */
  readonly standings = new Map<string, ContributorCapStanding[]>();
  /** Repo → the adaptive budget's moves (budget.adapted), oldest first, the last BUDGET_HISTORY of them. */
  readonly budgetHistory = new Map<string, BudgetMove[]>();
  feed: FeedEntry[] = [];
  metrics: Metrics | null = null;
  /** PRs opened per repo seen live since the last budget refresh, to keep `this hour` current between refreshes. */
  private readonly prsSinceRefresh = new Map<string, number[]>();
  /** prs_last_hour as the coordinator last reported it (it decays with time, which only the server tracks). */
  private readonly serverPrsLastHour = new Map<string, number>();
  /** next_hourly_slot_at as the coordinator last reported it. */
  private readonly serverNextSlot = new Map<string, number | undefined>();
  private readonly board = new Map<string, { prs_opened: number; prs_merged: number; leases: number }>();
  private readonly prAuthor = new Map<string, string>();
  private readonly feedSeqs = new Set<number>();

  constructor(private readonly limits: ModelLimits = DEFAULT_LIMITS) {}

  // ---- loading from HTTP ---------------------------------------------------------------------

  /** Sets the journal position the HTTP load corresponds to; events after it are folded. */
  setBaseSeq(seq: number): void {
    this.seq = Math.max(this.seq, seq);
  }

  loadRepos(repos: readonly RepoEntry[]): void {
    for (const r of repos) {
      this.repos.set(r.settings.repo, { settings: r.settings, budget: { ...r.budget }, locks: { ...r.locks } });
      this.prsSinceRefresh.delete(r.settings.repo);
      this.serverPrsLastHour.set(r.settings.repo, r.budget.prs_last_hour);
      this.serverNextSlot.set(r.settings.repo, r.budget.next_hourly_slot_at);
    }
    this.recomputeBudgets();
    this.touch();
  }

  loadTasks(tasks: readonly Task[]): void {
    for (const t of tasks) this.tasks.set(t.id, t);
    this.trimFinished();
    this.recomputeBudgets();
    this.touch();
  }

  loadWorkers(workers: readonly Worker[]): void {
    for (const w of workers) this.workers.set(w.id, w);
    this.touch();
  }

  loadMetrics(metrics: Metrics): void {
    this.metrics = metrics;
    this.touch();
  }

  /**
   * Heartbeats renew leases without a journal event, so a periodic light read of the live tasks
   * brings their `expires_at` forward. Only the lease the model already knows is updated: a newer
   * state from the journal always wins over an older read.
   */
  refreshLeases(liveTasks: readonly Task[]): void {
    let changed = false;
    for (const fresh of liveTasks) {
      const mine = this.tasks.get(fresh.id);
      if (!mine?.lease || !fresh.lease || mine.lease.lease_id !== fresh.lease.lease_id) continue;
      if (fresh.lease.expires_at !== mine.lease.expires_at) {
        mine.lease = { ...mine.lease, expires_at: fresh.lease.expires_at };
        changed = true;
      }
    }
    if (changed) this.touch();
  }

  /** Heartbeat ages come from the worker list (heartbeats are not journaled). */
  refreshWorkers(workers: readonly Worker[]): void {
    for (const fresh of workers) {
      const mine = this.workers.get(fresh.id);
      if (!mine) this.workers.set(fresh.id, fresh);
      else if (fresh.last_seen_at !== undefined) mine.last_seen_at = fresh.last_seen_at;
    }
    this.touch();
  }

  setExplanation(taskId: string, explanation: Explanation): void {
    this.explanations.set(taskId, explanation);
    this.touch();
  }

  // ---- folding journal events ----------------------------------------------------------------

  /**
   * Folds journal events in order. Events at or below the current seq only feed the event list
   * and leaderboard (a history catch-up), never the state. Returns whether anything changed.
   */
  applyEvents(events: readonly JournalEvent[], now: number = Date.now()): boolean {
    let changed = false;
    for (const e of events) {
      if (!this.feedSeqs.has(e.seq)) {
        this.pushFeed(e);
        this.attribute(e);
        changed = true;
      }
      if (e.seq <= this.seq) continue;
      this.seq = e.seq;
      this.fold(e, now);
      changed = true;
    }
    if (changed) {
      this.trimFeed();
      this.trimFinished();
      this.recomputeBudgets(now);
      this.touch();
    }
    return changed;
  }

  /** Every event type is named here, so a new one does not compile until the dashboard decides what it shows. */
  private fold(e: JournalEvent, now: number): void {
    const task = e.task_id ? this.tasks.get(e.task_id) : undefined;
    switch (e.type) {
      case 'repo.configured': {
        const settings = e.data.settings;
        const existing = this.repos.get(settings.repo);
        if (existing) existing.settings = settings;
        else this.repos.set(settings.repo, { settings, budget: emptyBudget(settings), locks: {} });
        break;
      }
      case 'worker.registered': {
        const rec = e.data.worker;
        if (!this.workers.has(rec.id)) this.workers.set(rec.id, { ...rec, online: false, capacity_used: 0 });
        break;
      }
      case 'worker.updated':
        this.patchWorker(e.worker_id, e.data.changes);
        break;
      case 'worker.trust_changed':
        this.patchWorker(e.worker_id, { trust: e.data.trust });
        break;
      case 'worker.revoked':
        this.patchWorker(e.worker_id, { revoked: true, online: false });
        break;
      case 'worker.connected':
        this.patchWorker(e.worker_id, { online: true, last_seen_at: e.at });
        break;
      case 'worker.disconnected':
        this.patchWorker(e.worker_id, { online: false, last_seen_at: e.at });
        break;
      case 'task.created':
        this.tasks.set(e.data.task.id, { ...e.data.task });
        break;
      case 'task.updated':
        if (task) Object.assign(task, e.data.changes, { updated_at: e.at });
        break;
      case 'offer.created':
        if (task) {
          task.offer = { offer_id: e.data.offer_id, worker_id: e.worker_id, deadline_at: e.data.deadline_at };
          this.setState(task, 'offered', e.at);
        }
        break;
      case 'offer.declined':
        if (task) {
          delete task.offer;
          task.attempts = e.data.attempts;
          this.requeue(task, e.data.to, e.data.blocked_reason, e.at);
        }
        break;
      case 'offer.expired':
      case 'offer.withdrawn':
        if (task) {
          delete task.offer;
          this.requeue(task, e.data.to, undefined, e.at);
        }
        break;
      case 'lease.granted':
        if (task) {
          delete task.offer;
          task.lease = { lease_id: e.data.lease_id, worker_id: e.worker_id, epoch: e.data.epoch, expires_at: e.data.expires_at, max_deadline_at: e.data.max_deadline_at };
          task.epoch = e.data.epoch;
          this.setState(task, 'leased', e.at);
        }
        break;
      case 'task.started':
        if (task) this.setState(task, 'in_progress', e.at);
        break;
      case 'pr.opened':
        if (task) {
          delete task.lease;
          task.pr = e.data.pr;
          this.setState(task, 'pr_opened', e.at);
          if (e.at > now - HOUR_MS) {
            const times = this.prsSinceRefresh.get(e.repo) ?? [];
            times.push(e.at);
            this.prsSinceRefresh.set(e.repo, times);
          }
        }
        break;
      case 'pr.attached':
        if (task) {
          task.pr = e.data.pr;
          task.checks = e.data.checks;
          if (task.lease) task.lease.expires_at = e.data.checks.deadline_at;
          task.updated_at = e.at;
        }
        break;
      case 'pr.checks_updated':
        if (task) {
          task.checks = e.data.checks;
          if (task.lease && e.data.restarted) task.lease.expires_at = e.data.checks.deadline_at;
          task.updated_at = e.at;
        }
        break;
      case 'pr.checks_timed_out':
        if (task) {
          if (task.checks) task.checks = { ...task.checks, timed_out_at: e.at };
          if (task.lease) task.lease.expires_at = e.data.expires_at;
          task.updated_at = e.at;
        }
        break;
      case 'lease.released':
      case 'lease.expired':
      case 'lease.cancelled':
        if (task) {
          delete task.lease;
          delete task.pr;
          delete task.checks;
          task.attempts = e.data.attempts;
          this.requeue(task, e.data.to, e.data.blocked_reason, e.at);
        }
        break;
      case 'task.blocked':
        if (task) {
          delete task.offer;
          delete task.lease;
          delete task.pr;
          delete task.checks;
          task.blocked_reason = e.data.reason;
          this.setState(task, 'blocked', e.at);
        }
        break;
      case 'task.unblocked':
        if (task) {
          delete task.blocked_reason;
          task.attempts = 0;
          this.setState(task, 'ready', e.at);
        }
        break;
      case 'task.merged':
      case 'task.closed':
        if (task) {
          delete task.offer;
          delete task.lease;
          if (e.data.reason !== undefined) task.closed_reason = e.data.reason;
          this.setState(task, e.type === 'task.merged' ? 'merged' : 'closed', e.at);
        }
        break;
      case 'task.archived':
        this.tasks.delete(e.task_id);
        this.explanations.delete(e.task_id);
        break;
      // Counted with the history in attribute(): the replayed journal carries what happened before the page loaded.
      case 'policy.dry_run_hit':
        break;
      case 'budget.adapted': {
        const repo = this.repos.get(e.repo);
        if (repo) repo.settings = { ...repo.settings, max_open_prs: e.data.to };
        break;
      }
      case 'contributor.standing_set': {
        // Shown at once; the counts come with the next policy.standings read (main.ts asks after events).
        const rows = this.standings.get(e.repo) ?? [];
        const at = rows.findIndex((r) => r.login.toLowerCase() === e.data.login.toLowerCase());
        const row: ContributorCapStanding = at >= 0 ? { ...(rows[at] as ContributorCapStanding) } : { login: e.data.login, open_prs: 0, draft_prs: 0, live_leases: 0, open_offers: 0, merged_prs: 0, in_use: 0, trust: 0, at_cap: false, bypass: false };
        row.status = e.data.status;
        row.status_by = e.data.by;
        row.status_at = e.at;
        if (e.data.reason !== undefined) row.status_reason = e.data.reason;
        else delete row.status_reason;
        this.standings.set(e.repo, at >= 0 ? rows.map((r, i) => (i === at ? row : r)) : [...rows, row]);
        break;
      }
      // Nothing the dashboard draws changes with these.
      case 'maintainer.created':
      case 'maintainer.revoked':
      case 'worker.token_rotated':
      case 'worker.heartbeat_lost':
      case 'coordinator.started':
        break;
      default:
        skipUnknownEvent(e);
    }
  }

  private requeue(task: Task, to: 'ready' | 'blocked', blockedReason: string | undefined, at: number): void {
    if (to === 'blocked') task.blocked_reason = blockedReason ?? 'too many attempts';
    this.setState(task, to, at);
  }

  private setState(task: Task, to: TaskState, at: number): void {
    task.state = to;
    task.updated_at = at;
    if (to !== 'ready') this.explanations.delete(task.id);
  }

  private patchWorker(id: string | undefined, patch: Partial<Worker>): void {
    const w = id ? this.workers.get(id) : undefined;
    if (w) Object.assign(w, patch);
  }

  // ---- the event list and the leaderboard ------------------------------------------------------

  private pushFeed(e: JournalEvent): void {
    const entry: FeedEntry = { seq: e.seq, at: e.at, type: e.type, kind: feedKind(e.type), text: describeEvent(e, this) };
    if (e.repo) entry.repo = e.repo;
    if (e.task_id) entry.task_id = e.task_id;
    if (e.worker_id) entry.worker_id = e.worker_id;
    // Keep the feed ordered by seq even when a history catch-up arrives after live events.
    const last = this.feed.at(-1);
    if (!last || last.seq < e.seq) this.feed.push(entry);
    else {
      let i = this.feed.length;
      while (i > 0 && (this.feed[i - 1] as FeedEntry).seq > e.seq) i -= 1;
      this.feed.splice(i, 0, entry);
    }
    this.feedSeqs.add(e.seq);
  }

  /** Drops the oldest feed entries beyond the cap, once per batch rather than once per event. */
  private trimFeed(): void {
    const excess = this.feed.length - this.limits.feed;
    if (excess <= 0) return;
    for (const dropped of this.feed.splice(0, excess)) this.feedSeqs.delete(dropped.seq);
  }

  /**
   * What the page draws over time, from every event once, the replayed history included (events
   * older than the loaded state are not folded, see applyEvents): the leaderboard, the adaptive
   * budget's course and the report-mode hits.
   */
  private attribute(e: JournalEvent): void {
    if (e.type === 'policy.dry_run_hit') {
      const hits = this.dryRunHits.get(e.repo) ?? new Map<string, number>();
      hits.set(e.data.rule, (hits.get(e.data.rule) ?? 0) + 1);
      this.dryRunHits.set(e.repo, hits);
    }
    if (e.type === 'budget.adapted') {
      const history = this.budgetHistory.get(e.repo) ?? [];
      history.push({ at: e.at, from: e.data.from, to: e.data.to, reason: e.data.reason });
      if (history.length > BUDGET_HISTORY) history.shift();
      this.budgetHistory.set(e.repo, history);
    }
    if (e.type === 'lease.granted' && e.worker_id) this.score(e.worker_id).leases += 1;
    if (e.type === 'pr.opened' && e.worker_id && e.task_id) {
      this.score(e.worker_id).prs_opened += 1;
      this.prAuthor.set(e.task_id, e.worker_id);
      if (this.prAuthor.size > this.limits.attributions) this.prAuthor.delete(this.prAuthor.keys().next().value as string);
    }
    if (e.type === 'task.merged' && e.task_id) {
      const author = this.prAuthor.get(e.task_id);
      if (author) this.score(author).prs_merged += 1;
    }
  }

  private score(workerId: string): { prs_opened: number; prs_merged: number; leases: number } {
    let s = this.board.get(workerId);
    if (!s) this.board.set(workerId, (s = { prs_opened: 0, prs_merged: 0, leases: 0 }));
    return s;
  }

  /** A repo's contributors as the coordinator counts them (policy.standings), replacing what was there. */
  loadStandings(repo: string, rows: readonly ContributorCapStanding[]): void {
    this.standings.set(repo, [...rows]);
    this.version += 1;
  }

  /** Workers that opted in with `x_leaderboard: true`, best first (merged, then opened PRs). */
  leaderboard(): LeaderboardRow[] {
    const rows: LeaderboardRow[] = [];
    for (const w of this.workers.values()) {
      if (w.x_leaderboard !== true || w.revoked) continue;
      const s = this.board.get(w.id) ?? { prs_opened: 0, prs_merged: 0, leases: 0 };
      rows.push({ worker_id: w.id, login: w.github_login, ...s });
    }
    return rows.sort((a, b) => b.prs_merged - a.prs_merged || b.prs_opened - a.prs_opened || b.leases - a.leases || a.login.localeCompare(b.login));
  }

  // ---- derived views ---------------------------------------------------------------------------

  tasksByState(): Map<TaskState, Task[]> {
    const out = new Map<TaskState, Task[]>();
    for (const t of this.tasks.values()) {
      let list = out.get(t.state);
      if (!list) out.set(t.state, (list = []));
      list.push(t);
    }
    for (const list of out.values()) list.sort((a, b) => b.priority - a.priority || a.created_at - b.created_at || idNumber(a.id) - idNumber(b.id));
    return out;
  }

  leases(): LeaseRow[] {
    const rows: LeaseRow[] = [];
    for (const t of this.tasks.values()) {
      if (!t.lease || !LEASED_STATES.includes(t.state)) continue;
      rows.push({ ...t.lease, task_id: t.id, repo: t.repo, title: t.title, state: t.state });
    }
    return rows.sort((a, b) => a.expires_at - b.expires_at);
  }

  /** Area locks per repo (area → holding task and its worker), derived in one pass over the tasks in active states. */
  locksByRepo(): Map<string, AreaLock[]> {
    const out = new Map<string, AreaLock[]>();
    for (const t of this.tasks.values()) {
      if (t.area === undefined || !ACTIVE_STATES.includes(t.state)) continue;
      let list = out.get(t.repo);
      if (!list) out.set(t.repo, (list = []));
      list.push({ area: t.area, task_id: t.id, worker_id: t.lease?.worker_id ?? t.offer?.worker_id });
    }
    for (const list of out.values()) list.sort((a, b) => a.area.localeCompare(b.area));
    return out;
  }

  /** What each worker holds: capacity points taken by its leases and by its offers, and its live lease ids (one pass). */
  holdings(): Map<string, { leased: number; offered: number; leases: string[] }> {
    const out = new Map<string, { leased: number; offered: number; leases: string[] }>();
    const get = (id: string): { leased: number; offered: number; leases: string[] } => {
      let h = out.get(id);
      if (!h) out.set(id, (h = { leased: 0, offered: 0, leases: [] }));
      return h;
    };
    for (const t of this.tasks.values()) {
      if (t.lease && LEASED_STATES.includes(t.state)) {
        const h = get(t.lease.worker_id);
        h.leased += t.effort;
        h.leases.push(t.lease.lease_id);
      } else if (t.offer && t.state === 'offered') get(t.offer.worker_id).offered += t.effort;
    }
    return out;
  }

  /** Ready tasks whose reason for not being offered is worth asking the coordinator about. */
  readyTaskIds(limit: number): string[] {
    return (this.tasksByState().get('ready') ?? []).slice(0, limit).map((t) => t.id);
  }

  /**
   * Budget use with the coordinator's own arithmetic (protocol/budget.ts), from the tasks the page
   * holds: open PRs, live leases and open offers; PRs this hour as the coordinator last reported
   * them plus those opened live since.
   */
  recomputeBudgets(now: number = Date.now()): void {
    const counts = new Map<string, { pr: number; live: number; offered: number }>();
    for (const t of this.tasks.values()) {
      let c = counts.get(t.repo);
      if (!c) counts.set(t.repo, (c = { pr: 0, live: 0, offered: 0 }));
      if (t.state === 'pr_opened') c.pr += 1;
      else if (LEASED_STATES.includes(t.state)) c.live += 1;
      else if (t.state === 'offered') c.offered += 1;
    }
    for (const [id, repo] of this.repos) {
      const c = counts.get(id) ?? { pr: 0, live: 0, offered: 0 };
      const recent = (this.prsSinceRefresh.get(id) ?? []).filter((at) => at > now - HOUR_MS);
      const prsLastHour = (this.serverPrsLastHour.get(id) ?? 0) + recent.length;
      // The oldest PR of the hour is the server's (it reported one), else the oldest seen live since.
      const next = this.serverNextSlot.get(id) ?? (recent[0] !== undefined ? recent[0] + HOUR_MS : undefined);
      repo.budget = reviewBudget({ open_prs: c.pr, live_leases: c.live, open_offers: c.offered, prs_last_hour: prsLastHour, ...(next !== undefined ? { next_hourly_slot_at: next } : {}) }, repo.settings);
    }
  }

  private trimFinished(): void {
    const finished: Task[] = [];
    for (const t of this.tasks.values()) if (t.state === 'merged' || t.state === 'closed') finished.push(t);
    if (finished.length <= this.limits.finishedTasks) return;
    finished.sort((a, b) => a.updated_at - b.updated_at);
    for (const t of finished.slice(0, finished.length - this.limits.finishedTasks)) this.tasks.delete(t.id);
  }

  private touch(): void {
    this.version += 1;
  }
}

function emptyBudget(s: RepoSettings): Budget {
  return reviewBudget({ open_prs: 0, live_leases: 0, open_offers: 0, prs_last_hour: 0 }, s);
}

function idNumber(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1)) || 0;
}

export function feedKind(type: string): FeedKind {
  if (type.startsWith('lease.')) return 'lease';
  if (type.startsWith('offer.')) return 'offer';
  if (type.startsWith('pr.') || type === 'task.merged' || type === 'task.closed') return 'pr';
  if (type.startsWith('task.')) return 'task';
  if (type.startsWith('worker.')) return 'worker';
  if (type.startsWith('repo.')) return 'repo';
  return 'other';
}

/** One plain-text line per journal event, for the feed; every type has its sentence. */
export function describeEvent(e: JournalEvent, model?: DashboardModel): string {
  const who = e.worker_id ? loginOf(e.worker_id, model) : '';
  const task = e.task_id ?? '';
  const back = (d: { to: 'ready' | 'blocked'; blocked_reason?: string }): string => (d.to === 'blocked' ? `blocked (${d.blocked_reason ?? 'too many attempts'})` : 'requeued');
  switch (e.type) {
    case 'maintainer.created':
      return `maintainer token issued for ${e.data.name}`;
    case 'maintainer.revoked':
      return `maintainer token ${e.data.id} revoked`;
    case 'coordinator.started':
      return 'coordinator started';
    case 'repo.configured':
      return `${e.data.settings.repo} configured`;
    case 'worker.registered':
      return `${who} joined the pool`;
    case 'worker.token_rotated':
      return `${who} got a new token`;
    case 'worker.connected':
      return `${who} came online`;
    case 'worker.disconnected':
      return `${who} went offline`;
    case 'worker.heartbeat_lost':
      return `${who} stopped sending heartbeats`;
    case 'worker.trust_changed':
      return `${who} trust set to ${e.data.trust}`;
    case 'worker.revoked':
      return `${who} revoked`;
    case 'worker.updated':
      return `${who} updated its profile`;
    case 'task.created':
      return `${task} created: ${e.data.task.title}`;
    case 'task.updated':
      return `${task} updated`;
    case 'offer.created':
      return `${task} offered to ${who}`;
    case 'offer.declined':
      return `${who} declined ${task}; ${back(e.data)}`;
    case 'offer.expired':
      return `offer of ${task} to ${who} expired; ${back(e.data)}`;
    case 'offer.withdrawn':
      return `offer of ${task} to ${who} withdrawn; ${back(e.data)}`;
    case 'lease.granted':
      return `${e.data.lease_id} granted: ${task} to ${who}`;
    case 'lease.released':
      return `${who} released ${task}; ${back(e.data)}`;
    case 'lease.expired':
      return `lease of ${task} by ${who} expired (${e.data.reason}); ${back(e.data)}`;
    case 'lease.cancelled':
      return `lease of ${task} by ${who} cancelled; ${back(e.data)}`;
    case 'task.started':
      return `${who} started ${task}`;
    case 'pr.opened':
      if (e.data.pr.evidence === 'maintainer') return `PR of ${task} by ${who} counts: merged by a maintainer before its required checks passed`;
      return e.data.pr.evidence === 'ci' ? `PR of ${task} by ${who} counts: its required checks passed` : `${who} opened a PR for ${task} (gates self-reported)`;
    case 'pr.attached':
      return `${who} opened a PR for ${task}; waiting for ${e.data.checks.checks.map((c) => c.name).join(', ')}`;
    case 'pr.checks_updated': {
      const failed = e.data.checks.checks.filter((c) => c.status === 'failure').map((c) => c.name);
      if (e.data.restarted) return `new commits on the PR of ${task}; its checks restarted`;
      return failed.length > 0 ? `PR of ${task}: ${failed.join(', ')} failed` : `PR of ${task}: checks ${e.data.checks.status}`;
    }
    case 'pr.checks_timed_out':
      return `PR of ${task} did not pass its checks in time; back with ${who}`;
    case 'task.blocked':
      return `${task} blocked: ${e.data.reason}`;
    case 'task.unblocked':
      return `${task} unblocked`;
    case 'task.merged':
      return `${task} merged`;
    case 'task.closed':
      return `${task} closed`;
    case 'task.archived':
      return `${task} archived`;
    case 'contributor.standing_set':
      return `${e.data.login} ${e.data.status} in ${e.repo}${e.data.reason ? `: ${e.data.reason}` : ''}`;
    case 'budget.adapted':
      return `${e.repo} review budget ${e.data.from} → ${e.data.to}: ${e.data.reason} (${task})`;
    case 'policy.dry_run_hit':
      return `report only: rule ${e.data.rule} would have refused ${e.data.via === 'claim' ? 'the claim of' : 'the offer of'} ${task} to ${who}`;
    default: {
      skipUnknownEvent(e);
      const unknown: { type: string; task_id?: string; worker_id?: string } = e;
      return [unknown.type, unknown.task_id, unknown.worker_id].filter(Boolean).join(' ');
    }
  }
}

function loginOf(workerId: string, model: DashboardModel | undefined): string {
  const login = model?.workers.get(workerId)?.github_login;
  return login ? `${login} (${workerId})` : workerId;
}
