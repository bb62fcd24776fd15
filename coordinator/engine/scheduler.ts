/**
 * The scheduler: offers each ready task, by priority then age, to the least recently offered idle
 * worker that is eligible for it. Commands mark what changed (a task, a worker, or everything);
 * a pass looks only at what was marked, so a busy pool costs work in proportion to its changes.
 *
 * Within one pass a worker only gets less eligible (each offer uses its capacity and takes it out
 * of the pool), so a kind of task no idle worker could take stays untakeable for the rest of the
 * pass: 10,000 ready tasks of a skill nobody online has cost one scan of the pool, not 10,000.
 * "A kind of task" is its scheduling signature, built from what eligibility reads (eligibility.ts).
 * Each repo keeps its ready tasks by kind (state/ready-queue.ts), so a pass walks kinds and reads
 * only the first tasks of each: an offer costs the same with 2,000 or 200,000 tasks ready.
 */
import { ACTIVE_STATES } from '../../protocol/states.ts';
import type { RepoRuntime, TaskRecord, WorkerRuntime } from '../state/records.ts';
import type { State } from '../state/state.ts';
import type { Command } from './command.ts';
import { schedulingSignature, type Eligibility } from './eligibility.ts';
import { grantDirectLease, makeOffer } from './task-moves.ts';
import { compareReady, type ReadyEntry, type ReadyQueue } from '../state/ready-queue.ts';

/** One kind of ready task (a scheduling signature) of one repo. */
interface Kind {
  repo: RepoRuntime;
  queue: ReadyQueue;
}

/** A kind's next task to try in a full pass. */
interface KindHead {
  queue: ReadyQueue;
  entry: ReadyEntry;
}

/** A kind with the task it would give next. */
interface KindAt extends Kind {
  entry: ReadyEntry;
}

/**
 * The pass's ready kinds in queue order, ordered as far as the pass reads them: a pass mostly
 * offers from the first few, and sorting every kind of every repo (one per area and repo, with
 * areas in play) cost more than the offers.
 */
interface PassKinds {
  sorted: KindAt[];
  rest: KindHeap<KindAt>;
}

/** One scheduling pass: the idle workers still without an offer, and what it learned so far. */
export interface Pass {
  readonly cmd: Command;
  readonly pool: Set<WorkerRuntime>;
  readonly untakeable: Set<string>;
  kinds: PassKinds | undefined;
  offers: number;
}

export class Scheduler {
  /** Workers that recently let an offer of a task pass (declined or expired), with when they may see it again. */
  private readonly passed = new Map<string, Map<string, number>>();
  private dirtyAll = true;
  private readonly dirtyTasks = new Set<string>();
  private readonly dirtyWorkers = new Set<string>();
  protected repoCursor = 0;

  constructor(
    protected readonly state: State,
    protected readonly eligibility: Eligibility,
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

  protected hasPassed(taskId: string, workerId: string, now: number): boolean {
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
    const pass: Pass = { cmd, pool, untakeable: new Set(), kinds: undefined, offers: 0 };
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
      // A worker with a larger offer window may take several offers in one go (offer pipelining).
      while (w && pool.has(w) && this.offerWorker(pass, w));
    }
    return pass.offers;
  }

  /** Online, not revoked, room in its offer window, some free capacity. */
  private idleWorkers(): Set<WorkerRuntime> {
    const idle: WorkerRuntime[] = [];
    for (const w of this.state.onlineWorkers) {
      if (isIdle(this.state, w)) idle.push(w);
    }
    // In registration order, as a walk of every worker would give: ties go to the older worker.
    return new Set(idle.sort((a, b) => a.order - b.order));
  }

  /**
   * A full pass: every repo's ready tasks in queue order, starting one repo further each time so
   * none is always last. A repo's kinds are merged by their first task, and a kind is dropped for
   * the pass once its first task cannot go anywhere (area lock, or no idle worker can take that
   * kind): every later task of the kind would be refused the same way, so the pass costs the kinds
   * and the offers it makes, not the backlog.
   */
  protected offerEveryRepo(pass: Pass): void {
    const repos = [...this.state.repos.values()];
    for (let i = 0; i < repos.length && pass.pool.size > 0; i += 1) {
      const repo = repos[(this.repoCursor + i) % repos.length] as RepoRuntime;
      if (repo.settings.paused || repo.ready.size === 0) continue;
      const heads = new KindHeap();
      for (const queue of repo.ready.kinds.values()) {
        const first = queue.first();
        if (first) heads.push({ queue, entry: first });
      }
      for (let head = heads.peek(); head && pass.pool.size > 0; head = heads.peek()) {
        if (this.eligibility.budgetThrottled(repo, pass.cmd.now)) break;
        const task = this.state.tasks.get(head.entry.id);
        const verdict = task ? this.offerTask(pass, task, repo) : 'next';
        const next = verdict === 'kind_done' ? undefined : head.queue.firstAfter(head.entry);
        if (next) heads.replaceTop({ queue: head.queue, entry: next });
        else heads.pop();
      }
    }
    this.repoCursor = repos.length === 0 ? 0 : (this.repoCursor + 1) % repos.length;
  }

  /**
   * Offers one task to the least recently offered eligible worker of the pool, if there is one.
   * Says whether the next task of the same kind may still find a worker in this pass.
   */
  protected offerTask(pass: Pass, task: TaskRecord, repo: RepoRuntime): 'offered' | 'next' | 'kind_done' {
    if (task.state !== 'ready') return 'next';
    const now = pass.cmd.now;
    if (this.eligibility.repoReasons(task, repo, now, { alreadyCounted: false }).length > 0) return 'kind_done';
    const signature = schedulingSignature(task);
    if (pass.untakeable.has(signature)) return 'kind_done';
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
      if (skippedPassed) return 'next';
      pass.untakeable.add(signature);
      return 'kind_done';
    }
    this.offer(pass, task, best, repo);
    return 'offered';
  }

  /** Offers one worker the best ready task it qualifies for, across repos: one eligibility check per kind. Says whether it made one. */
  protected offerWorker(pass: Pass, w: WorkerRuntime): boolean {
    const now = pass.cmd.now;
    for (const kind of this.kindsInOrder(pass)) {
      if (kind.repo.settings.paused || this.eligibility.budgetThrottled(kind.repo, now)) continue;
      let entry = kind.queue.first();
      while (entry && this.hasPassed(entry.id, w.record.id, now)) entry = kind.queue.firstAfter(entry);
      const first = entry ? this.state.tasks.get(entry.id) : undefined;
      if (!first || first.state !== 'ready') continue;
      if (this.eligibility.repoReasons(first, kind.repo, now, { alreadyCounted: false }).length > 0) continue;
      if (this.eligibility.workerReasons(first, w, { holdingTask: false, forOffer: true }).length > 0) continue;
      this.offer(pass, first, w, kind.repo);
      return true;
    }
    return false;
  }

  protected offer(pass: Pass, task: TaskRecord, w: WorkerRuntime, repo: RepoRuntime): void {
    // A worker that takes every offer is granted the lease at once (direct leases, OFFER-011): the
    // checks that chose it are an offer's, and an offer's accept would ask nothing more of it.
    if (w.acceptsOffers) grantDirectLease(pass.cmd, task, w, repo);
    else makeOffer(pass.cmd, task, w, repo);
    if (!isIdle(this.state, w)) pass.pool.delete(w);
    pass.offers += 1;
  }

  /**
   * Every repo's ready kinds, in the order of their first task when the pass first needs them (queue
   * order, SPEC OFFER-007). Kept for the pass: offers only take tasks out, and a worker looks at a
   * kind's first task it has not let pass, read live from the queue.
   */
  private *kindsInOrder(pass: Pass): Generator<Kind> {
    const kinds = (pass.kinds ??= this.passKinds());
    for (let i = 0; ; i += 1) {
      if (i === kinds.sorted.length) {
        const next = kinds.rest.peek();
        if (!next) return;
        kinds.rest.pop();
        kinds.sorted.push(next);
      }
      yield kinds.sorted[i] as KindAt;
    }
  }

  private passKinds(): PassKinds {
    const kinds: PassKinds = { sorted: [], rest: new KindHeap<KindAt>() };
    for (const repo of this.state.repos.values()) {
      for (const queue of repo.ready.kinds.values()) {
        const entry = queue.first();
        if (entry) kinds.rest.push({ repo, queue, entry });
      }
    }
    return kinds;
  }
}

/** Whether a worker may get one more offer (or direct lease): online, not revoked, room in its offer window, some free capacity. */
function isIdle(state: State, w: WorkerRuntime): boolean {
  const room = w.online && !w.record.revoked && w.openOffers.size < w.offerWindow && w.free > 0;
  return room && (!w.acceptsOffers || unreportedGrants(state, w) < w.offerWindow);
}

/**
 * What fills the offer window of a worker that takes every offer (direct leases, OFFER-011): its
 * open offers and the leases it has not reported on yet (task still `leased`, no PR attached), the
 * tasks it was handed and has not answered by working on them. So a window of N paces direct grants
 * as N open offers pace offers: a worker is never handed more untouched tasks than it asked for.
 */
export function unreportedGrants(state: State, w: WorkerRuntime): number {
  let n = w.openOffers.size;
  for (const taskId of w.holding.keys()) {
    const task = state.tasks.get(taskId);
    if (task && task.state === 'leased' && task.pr === undefined) n += 1;
  }
  return n;
}

/** Kinds by the task they would give next, smallest (first in queue order) on top. */
class KindHeap<T extends { entry: ReadyEntry } = KindHead> {
  private readonly items: T[] = [];

  peek(): T | undefined {
    return this.items[0];
  }

  push(head: T): void {
    const items = this.items;
    let i = items.push(head) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareReady((items[parent] as T).entry, head.entry) <= 0) break;
      items[i] = items[parent] as T;
      i = parent;
    }
    items[i] = head;
  }

  pop(): void {
    const last = this.items.pop();
    if (last && this.items.length > 0) this.replaceTop(last);
  }

  /** Puts `head` on top and sifts it down to its place. */
  replaceTop(head: T): void {
    const items = this.items;
    const n = items.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && compareReady((items[r] as T).entry, (items[l] as T).entry) < 0 ? r : l;
      if (compareReady((items[c] as T).entry, head.entry) >= 0) break;
      items[i] = items[c] as T;
      i = c;
    }
    items[i] = head;
  }
}

/** A worker's on-time record as a share, with one imagined lease each way so a newcomer sits in the middle (Laplace). */
export function onTimeScore(p: { on_time: number; late: number } | undefined): number {
  return ((p?.on_time ?? 0) + 1) / ((p?.on_time ?? 0) + (p?.late ?? 0) + 2);
}
