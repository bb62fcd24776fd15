/**
 * Who may do what, and finding what a command names: the caller's worker, a live task, a repo, a
 * lease the caller holds (with its fencing checks). Each lookup refuses with the error a client
 * can act on.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { Auth } from '../../protocol/operations.ts';
import { scopeCovers, type Principal } from '../auth.ts';
import type { RepoSettings } from '../../protocol/model.ts';
import type { LeaseRecord, RepoRuntime, TaskRecord, WorkerRuntime } from '../state/records.ts';
import type { State } from '../state/state.ts';

export function authorize(principal: Principal, auth: Auth, name: string): void {
  if (auth === 'none') return;
  if (principal.kind === 'anonymous') {
    throw new OwpError('UNAUTHENTICATED', `${name} needs a token. Register as a worker (worker.register) or use a maintainer token.`);
  }
  if (auth === 'worker' && principal.kind !== 'worker') throw new OwpError('FORBIDDEN', `${name} is for workers; this is a maintainer token.`);
  if (auth === 'maintainer' && principal.kind !== 'maintainer') throw new OwpError('FORBIDDEN', `${name} is for maintainers; a worker token cannot call it.`);
  if (auth === 'admin' && !(principal.kind === 'maintainer' && principal.admin)) {
    throw new OwpError('FORBIDDEN', `${name} needs the coordinator's admin token (a maintainer token scoped to "*").`);
  }
}

export function requireRepoAccess(principal: Principal, repo: string): void {
  if (principal.kind !== 'maintainer' || !scopeCovers(principal.repos, repo)) {
    throw new OwpError('FORBIDDEN', `This maintainer token does not cover ${repo}. Ask the coordinator admin for a token scoped to it.`, { repo });
  }
}

/**
 * Whether a private repo admits a login: only a login on its policy's logins.allow and not on
 * logins.deny (GitHub logins compare without case). A public repo admits everyone.
 */
export function repoAdmits(settings: RepoSettings, login: string): boolean {
  if (settings.visibility !== 'private') return true;
  const same = (list: readonly string[] | undefined): boolean => (list ?? []).some((l) => l.toLowerCase() === login.toLowerCase());
  return same(settings.policy?.logins?.allow) && !same(settings.policy?.logins?.deny);
}

/**
 * May this principal read a repo's tasks, settings, journal and metrics (SPEC AUTH-003, AUTH-008)?
 * A maintainer reads the repos its token covers; a worker reads public repos and the private
 * repos that admit its login (the only ones whose tasks it may be offered). A repo the coordinator
 * does not know is readable, so the caller gets its NOT_FOUND.
 */
export function canReadRepo(state: State, p: Principal, repoId: string): boolean {
  switch (p.kind) {
    case 'anonymous':
      return false;
    case 'maintainer':
      return scopeCovers(p.repos, repoId);
    case 'worker': {
      const w = state.workers.get(p.id);
      if (!w || w.record.revoked) return false;
      const repo = state.repos.get(repoId);
      return repo === undefined || repoAdmits(repo.settings, w.record.github_login);
    }
  }
}

/**
 * Refuses a read of a repo the principal may not read: FORBIDDEN for a maintainer out of scope (as
 * for writes), and for a worker the same NOT_FOUND as a repo that does not exist, so a private
 * repo's name is not confirmed to those it does not admit (GitHub answers 404 the same way).
 */
export function requireRepoRead(state: State, p: Principal, repoId: string): void {
  if (canReadRepo(state, p, repoId)) return;
  if (p.kind === 'worker') throw new OwpError('NOT_FOUND', `No repo ${repoId} on this coordinator.`, { repo: repoId });
  requireRepoAccess(p, repoId);
  throw new OwpError('FORBIDDEN', `This token may not read ${repoId}.`, { repo: repoId });
}

/** Whether a worker holds, or is offered, this task: it may always read what it was given. */
function givenTo(state: State, p: Principal, task: Pick<TaskRecord, 'id'>): boolean {
  return p.kind === 'worker' && state.workers.get(p.id)?.holding.has(task.id) === true;
}

/** May the principal read this task (live or archived)? Its repo is readable, or the worker holds it. */
export function canReadTask(state: State, p: Principal, task: Pick<TaskRecord, 'id' | 'repo'>): boolean {
  return givenTo(state, p, task) || canReadRepo(state, p, task.repo);
}

/** A live task the principal may read; otherwise the refusal requireRepoRead gives. */
export function readableTask(state: State, p: Principal, taskId: string): TaskRecord {
  const task = liveTask(state, taskId);
  if (!canReadTask(state, p, task)) {
    if (p.kind === 'worker') throw new OwpError('NOT_FOUND', `No live task ${taskId}. It may never have existed or may be archived; list tasks to see what is open.`, { task_id: taskId });
    requireRepoRead(state, p, task.repo);
  }
  return task;
}

/** The calling worker. */
export function me(state: State, p: Principal): WorkerRuntime {
  if (p.kind !== 'worker') throw new OwpError('FORBIDDEN', 'This operation is for workers.');
  const w = state.workers.get(p.id);
  if (!w || w.record.revoked) throw new OwpError('UNAUTHENTICATED', 'This worker token was revoked. Register again or ask the maintainer.');
  return w;
}

export function liveTask(state: State, id: string): TaskRecord {
  const task = state.tasks.get(id);
  if (!task) throw new OwpError('NOT_FOUND', `No live task ${id}. It may never have existed or may be archived; list tasks to see what is open.`, { task_id: id });
  return task;
}

export function knownRepo(state: State, id: string): RepoRuntime {
  const repo = state.repos.get(id);
  if (!repo) throw new OwpError('NOT_FOUND', `No repo ${id} on this coordinator. A maintainer creates it with repo.configure.`, { repo: id });
  return repo;
}

/** A live task in a repo the calling maintainer covers. */
export function maintainedTask(state: State, p: Principal, taskId: string): TaskRecord {
  const task = liveTask(state, taskId);
  requireRepoAccess(p, task.repo);
  return task;
}

/** The caller's live lease and its task, checked in this order: live, held by the caller, current epoch, before its deadline. */
export function heldLease(state: State, w: WorkerRuntime, leaseId: string, epoch: number, now: number): { lease: LeaseRecord; task: TaskRecord } {
  const lease = state.leases.get(leaseId);
  if (!lease) {
    throw new OwpError('LEASE_EXPIRED', `Lease ${leaseId} is no longer live (expired, released, cancelled or completed). Stop work on it; if the task is still ready you may claim it again.`, { lease_id: leaseId });
  }
  if (lease.worker_id !== w.record.id) throw new OwpError('NOT_HOLDER', `Lease ${leaseId} belongs to another worker.`, { lease_id: leaseId });
  const task = liveTask(state, lease.task_id);
  if (epoch !== task.epoch || epoch !== lease.epoch) {
    throw new OwpError('STALE_EPOCH', `Epoch ${epoch} is stale for task ${task.id} (current ${task.epoch}). This holder lost the lease; stop work on it.`, { task_id: task.id, epoch, current_epoch: task.epoch });
  }
  if (lease.expires_at <= now) {
    throw new OwpError('LEASE_EXPIRED', `Lease ${leaseId} passed its deadline and is being requeued. Stop work on it.`, { lease_id: leaseId });
  }
  return { lease, task };
}
