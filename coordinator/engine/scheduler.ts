/**
 * The scheduler: offers each ready task, by priority then age, to the least recently offered idle
 * worker that is eligible for it. Commands mark what changed (a task, a worker, or everything);
 * a pass looks only at what was marked, so a busy pool costs work in proportion to its changes.
 *
 * Within one pass a worker only gets less eligible (each offer uses its capacity and takes it out
 * of the pool), so a kind of task no idle worker could take stays untakeable for the rest of the
 * pass: 10,000 ready tasks of a skill nobody online has cost one scan of the pool, not 10,000.
 * "A kind of task" is its scheduling signature, built from what eligibility reads (eligibility.ts).
 */
import { ACTIVE_STATES } from '../../protocol/states.ts';
import type { RepoRuntime, TaskRecord, WorkerRuntime } from '../state/records.ts';
import type { State } from '../state/state.ts';
import type { Command } from './command.ts';
import { schedulingSignature, type Eligibility } from './eligibility.ts';
import { makeOffer } from './task-moves.ts';

/** Ready tasks of one signature, in queue order, and the first of them (the group's place in the pass). */
interface SignatureGroup {
  repo: RepoRuntime;
  tasks: TaskRecord[];
  best: TaskRecord;
}

/** One scheduling pass: the idle workers still without an offer, and what it learned so far. */
interface Pass {
  readonly cmd: Command;
  readonly pool: Set<WorkerRuntime>;
  readonly untakeable: Set<string>;
  groups: SignatureGroup[] | undefined;
  offers: number;
}

export class Scheduler {
  /** Workers that recently let an offer of a task pass (declined or expired), with when they may see it again. */
  private readonly passed = new Map<string, Map<string, number>>();
  private dirtyAll = true;
  private readonly dirtyTasks = new Set<string>();
  private readonly dirtyWorkers = new Set<string>();
  private repoCursor = 0;

  constructor(
    private readonly state: State,
    private readonly eligibility: Eligibility,
  ) {}

  // ---- marks -------------------------------------------------------------------------------

  markTask(taskId: string): void {
    this.dirtyTasks.add(taskId);
    const task = this.state.tasks.get(taskId);
    // A task leaving an active state frees its area and budget for the rest of its repo.
    if (task && !ACTIVE_STATES.includes(task.state)) this.dirtyAll = true;
  }

  /** A new task frees nothing for others, so only it is tried: a full pass would cost every ready task × every idle worker. */
  markNewTask(taskId: string): void {
    this.dirtyTasks.add(taskId);
  }

  markWorker(workerId: string): void {
    this.dirtyWorkers.add(workerId);
  }

  /** Marks everything for a full pass (after recovery, a settings change, a task leaving its area and budget). */
  markAll(): void {
    this.dirtyAll = true;
  }

  hasDirty(): boolean {
    return this.dirtyAll || this.dirtyTasks.size > 0 || this.dirtyWorkers.size > 0;
  }

  /** The worker let an offer of the task pass: it is not offered that task again until `until`. */
  markPassed(taskId: string, workerId: string, until: number): void {
    let m = this.passed.get(taskId);
    if (!m) this.passed.set(taskId, (m = new Map()));
    m.set(workerId, until);
  }

  /** An unblocked task starts afresh: every worker may be offered it again. */
  forgetPassed(taskId: string): void {
    this.passed.delete(taskId);
  }

  /** Ends the cool-downs that are over; their tasks may be offered to those workers again. */
  endCoolDowns(now: number): void {
    for (const [taskId, m] of this.passed) {
      for (const [workerId, until] of m) {
        if (until > now) continue;
        m.delete(workerId);
        this.markTask(taskId);
      }
      if (m.size === 0) this.passed.delete(taskId);
    }
  }

  private hasPassed(taskId: string, workerId: string, now: number): boolean {
    const until = this.passed.get(taskId)?.get(workerId);
    return until !== undefined && until > now;
  }

  // ---- a pass ------------------------------------------------------------------------------

  /** Makes the offers the marks call for; returns how many. */
  schedule(cmd: Command): number {
    if (!this.hasDirty()) return 0;
    const full = this.dirtyAll;
    const tasks = [...this.dirtyTasks];
    const workers = [...this.dirtyWorkers];
    this.dirtyAll = false;
    this.dirtyTasks.clear();
    this.dirtyWorkers.clear();
    const pool = this.idleWorkers();
    if (pool.size === 0) return 0;
    const pass: Pass = { cmd, pool, untakeable: new Set(), groups: undefined, offers: 0 };
    if (full) {
      this.offerEveryRepo(pass);
      return pass.offers;
    }
    for (const id of tasks) {
      if (pool.size === 0) break;
      const task = this.state.tasks.get(id);
      const repo = task ? this.state.repos.get(task.repo) : undefined;
      if (task && repo) this.offerTask(pass, task, repo);
    }
    for (const id of workers) {
      const w = this.state.workers.get(id);
      if (w && pool.has(w)) this.offerWorker(pass, w);
    }
    return pass.offers;
  }

  /** Online, not revoked, no open offer, some free capacity. */
  private idleWorkers(): Set<WorkerRuntime> {
    const out = new Set<WorkerRuntime>();
    for (const w of this.state.workers.values()) {
      if (w.online && !w.record.revoked && w.openOfferId === undefined && w.free > 0) out.add(w);
    }
    return out;
  }

  /** A full pass: every repo's ready queue in order, starting one repo further each time so none is always last. */
  private offerEveryRepo(pass: Pass): void {
    const repos = [...this.state.repos.values()];
    for (let i = 0; i < repos.length && pass.pool.size > 0; i += 1) {
      const repo = repos[(this.repoCursor + i) % repos.length] as RepoRuntime;
      if (repo.settings.paused || repo.ready.length === 0) continue;
      for (const taskId of [...repo.ready]) {
        if (pass.pool.size === 0 || this.eligibility.budgetThrottled(repo, pass.cmd.now)) break;
        const task = this.state.tasks.get(taskId);
        if (task) this.offerTask(pass, task, repo);
      }
    }
    this.repoCursor = repos.length === 0 ? 0 : (this.repoCursor + 1) % repos.length;
  }

  /** Offers one task to the least recently offered eligible worker of the pool, if there is one. */
  private offerTask(pass: Pass, task: TaskRecord, repo: RepoRuntime): void {
    if (task.state !== 'ready') return;
    const now = pass.cmd.now;
    if (this.eligibility.repoReasons(task, repo, now, { alreadyCounted: false }).length > 0) return;
    const signature = schedulingSignature(task);
    if (pass.untakeable.has(signature)) return;
    let best: WorkerRuntime | undefined;
    let skippedPassed = false;
    // A task whose lease expired goes first to the most punctual eligible worker (BOINC sends a
    // retry to reliable hosts), then, as every task, to the least recently offered.
    const score = task.retry_after_expiry ? (w: WorkerRuntime) => onTimeScore(this.state.punctuality.get(w.record.id)) : () => 0;
    let bestScore = -1;
    for (const w of pass.pool) {
      if (this.hasPassed(task.id, w.record.id, now)) {
        skippedPassed = true;
        continue;
      }
      const s = score(w);
      if (best && (s < bestScore || (s === bestScore && w.lastOfferAt >= best.lastOfferAt))) continue;
      if (this.eligibility.workerReasons(task, w, { holdingTask: false, forOffer: true }).length === 0) {
        best = w;
        bestScore = s;
      }
    }
    if (!best) {
      // A worker skipped for a cool-down might take the next task of this kind, so only a clean miss is remembered.
      if (!skippedPassed) pass.untakeable.add(signature);
      return;
    }
    this.offer(pass, task, best, repo);
  }

  /** Offers one worker the best ready task it qualifies for, across repos: one eligibility check per signature. */
  private offerWorker(pass: Pass, w: WorkerRuntime): void {
    const now = pass.cmd.now;
    for (const group of this.readyBySignature(pass)) {
      if (group.repo.settings.paused || this.eligibility.budgetThrottled(group.repo, now)) continue;
      const first = group.tasks.find((t) => t.state === 'ready' && !this.hasPassed(t.id, w.record.id, now));
      if (!first) continue;
      if (this.eligibility.repoReasons(first, group.repo, now, { alreadyCounted: false }).length > 0) continue;
      if (this.eligibility.workerReasons(first, w, { holdingTask: false, forOffer: true }).length > 0) continue;
      this.offer(pass, first, w, group.repo);
      return;
    }
  }

  private offer(pass: Pass, task: TaskRecord, w: WorkerRuntime, repo: RepoRuntime): void {
    makeOffer(pass.cmd, task, w, repo);
    pass.pool.delete(w);
    pass.offers += 1;
  }

  /** Ready tasks grouped by signature, groups ordered by their best task; built once per pass, when first needed. */
  private readyBySignature(pass: Pass): SignatureGroup[] {
    if (pass.groups) return pass.groups;
    const bySignature = new Map<string, SignatureGroup>();
    for (const repo of this.state.repos.values()) {
      for (const taskId of repo.ready) {
        const task = this.state.tasks.get(taskId);
        if (!task) continue;
        const signature = schedulingSignature(task);
        const group = bySignature.get(signature);
        if (group) group.tasks.push(task);
        else bySignature.set(signature, { repo, tasks: [task], best: task });
      }
    }
    pass.groups = [...bySignature.values()].sort((a, b) => b.best.priority - a.best.priority || a.best.created_at - b.best.created_at);
    return pass.groups;
  }
}

/** A worker's on-time record as a share, with one imagined lease each way so a newcomer sits in the middle (Laplace). */
export function onTimeScore(p: { on_time: number; late: number } | undefined): number {
  return ((p?.on_time ?? 0) + 1) / ((p?.on_time ?? 0) + (p?.late ?? 0) + 2);
}
