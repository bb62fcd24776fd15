/**
 * The scheduler as it was before the ready index (issue 20): every full pass and every idle worker
 * scans all ready tasks. Kept as the reference the indexed scheduler must agree with, offer for
 * offer (test/reliability/scheduler-index.property.test.ts). Marks, cool-downs and the choice of
 * worker for a task are the real scheduler's; only the two scans are the old ones. One change from
 * the old code: kinds whose first tasks tie on priority and age are ordered by task number, the
 * tie-break SPEC OFFER-007 now documents (the old sort kept them in repo order).
 */
import { Scheduler, type Pass } from '../../coordinator/engine/scheduler.ts';
import { schedulingSignature } from '../../coordinator/engine/eligibility.ts';
import { compareReady, readyEntry } from '../../coordinator/state/ready-queue.ts';
import type { RepoRuntime, TaskRecord, WorkerRuntime } from '../../coordinator/state/records.ts';

interface SignatureGroup {
  repo: RepoRuntime;
  tasks: TaskRecord[];
  best: TaskRecord;
}

export class ScanScheduler extends Scheduler {
  private groups = new WeakMap<Pass, SignatureGroup[]>();

  protected override offerEveryRepo(pass: Pass): void {
    const repos = [...this.state.repos.values()];
    for (let i = 0; i < repos.length && pass.pool.size > 0; i += 1) {
      const repo = repos[(this.repoCursor + i) % repos.length] as RepoRuntime;
      if (repo.settings.paused || repo.ready.size === 0) continue;
      for (const taskId of repo.ready.ids()) {
        if (pass.pool.size === 0 || this.eligibility.budgetThrottled(repo, pass.cmd.now)) break;
        const task = this.state.tasks.get(taskId);
        if (task) this.offerTask(pass, task, repo);
      }
    }
    this.repoCursor = repos.length === 0 ? 0 : (this.repoCursor + 1) % repos.length;
  }

  protected override offerWorker(pass: Pass, w: WorkerRuntime): boolean {
    const now = pass.cmd.now;
    for (const group of this.readyBySignature(pass)) {
      if (group.repo.settings.paused || this.eligibility.budgetThrottled(group.repo, now)) continue;
      const first = group.tasks.find((t) => t.state === 'ready' && !this.hasPassed(t.id, w.record.id, now));
      if (!first) continue;
      if (this.eligibility.repoReasons(first, group.repo, now, { alreadyCounted: false }).length > 0) continue;
      if (this.eligibility.workerReasons(first, w, { holdingTask: false, forOffer: true }).length > 0) continue;
      this.offer(pass, first, w, group.repo);
      return true;
    }
    return false;
  }

  private readyBySignature(pass: Pass): SignatureGroup[] {
    const known = this.groups.get(pass);
    if (known) return known;
    const bySignature = new Map<string, SignatureGroup>();
    for (const repo of this.state.repos.values()) {
      for (const taskId of repo.ready.ids()) {
        const task = this.state.tasks.get(taskId);
        if (!task) continue;
        const signature = schedulingSignature(task);
        const group = bySignature.get(signature);
        if (group) group.tasks.push(task);
        else bySignature.set(signature, { repo, tasks: [task], best: task });
      }
    }
    const groups = [...bySignature.values()].sort((a, b) => compareReady(readyEntry(a.best), readyEntry(b.best)));
    this.groups.set(pass, groups);
    return groups;
  }
}
