/**
 * What maintainers and the admin do (SPEC §5.7–5.9): configure repos, create and change tasks,
 * close, block and unblock them, record PR outcomes, take leases away, set trust, revoke workers
 * and issue maintainer tokens. A maintainer acts only in the repos its token covers.
 */
import { idNumber, orderBy, page } from './pagination.ts';
import { OwpError } from '../../protocol/errors.ts';
import { isTerminal } from '../../protocol/states.ts';
import type { ContributorStanding, RepoSettings, Task, VouchStatus } from '../../protocol/model.ts';
import type { Principal } from '../auth.ts';
import type { Command } from './command.ts';
import { hashToken, newToken } from '../auth.ts';
import type { Params, Result } from '../../protocol/operations.ts';
import { bulkRefusal, type ItemError } from '../../protocol/validate.ts';
import { defaultRepoSettings, isBootstrapAdmin, loginKey, type MaintainerRecord, type TaskRecord } from '../state/records.ts';
import { knownRepo, maintainedTask, requireRepoAccess } from './access.ts';
import { repoBudget } from './budget.ts';
import { clampAdaptive } from '../../protocol/budget.ts';
import type { OperationHandlers } from './operations.ts';
import { countMergedBeforeChecks, recordChecks } from './pr-checks.ts';
import { closeTask, endLeaseAndRequeue, holderOf, recordPrOutcome, tellHolder, withdrawIfIneligible, withdrawOffer } from './task-moves.ts';

/**
 * A maintainer's word on a contributor in a repo. Eligibility changes for every worker with that
 * login: their open offers there that the repo's rules now refuse are withdrawn, and everything is
 * looked at again (a vouch may open work to them).
 */
function setStanding(cmd: Command, p: Principal, repoId: string, login: string, status: VouchStatus, reason: string | undefined): { contributor: ContributorStanding } {
  requireRepoAccess(p, repoId);
  const repo = knownRepo(cmd.state, repoId);
  const by = p.kind === 'maintainer' && !p.admin ? p.id : 'admin';
  cmd.emit({ type: 'contributor.standing_set', repo: repoId, data: { login, status, by, ...(reason !== undefined ? { reason } : {}) } });
  for (const w of cmd.state.workersByLogin.get(loginKey(login)) ?? []) withdrawIfIneligible(cmd, w);
  cmd.scheduler.markAll();
  const standing = repo.standings.get(loginKey(login));
  if (!standing) throw new Error(`standing of ${login} in ${repoId} was set but is not in the state`);
  return { contributor: { ...standing } };
}

/** Fields the scheduler reads: they change only while a task is ready or blocked. */
const SCHEDULING_FIELDS = ['area', 'tier', 'effort', 'skills'] as const;

/** A new ready task from a maintainer's fields, already checked (repo access, known repo). */
function createTask(cmd: Command, fields: Omit<Params<'task.create'>, 'idempotency_key'>): Task {
  const now = cmd.now;
  const task: TaskRecord = {
    body: '',
    tier: 0,
    effort: 1,
    skills: [],
    priority: 0,
    acceptance: [],
    ...fields,
    id: `T-${cmd.state.counters.task + 1}`,
    state: 'ready',
    attempts: 0,
    epoch: 0,
    created_at: now,
    updated_at: now,
  };
  cmd.emit({ type: 'task.created', repo: task.repo, task_id: task.id, data: { task } });
  cmd.scheduler.markNewTask(task.id);
  return cmd.state.taskView(task);
}

export const MAINTAINER_OPERATIONS = {
  'repo.configure': (cmd, p, params) => {
    requireRepoAccess(p, params.repo);
    const { idempotency_key: _k, ...changes } = params;
    const current = cmd.state.repos.get(params.repo)?.settings ?? defaultRepoSettings(params.repo);
    // A policy's budget sets the repo's budget settings, unless the same call sets them itself.
    const { adaptive, ...policyBudget } = changes.policy?.budget ?? {};
    if (adaptive && adaptive.floor > adaptive.ceiling) {
      throw new OwpError('VALIDATION_FAILED', `The policy's budget.adaptive.floor ${adaptive.floor} is above its ceiling ${adaptive.ceiling}.`, { errors: [{ path: '/policy/budget/adaptive/floor', message: 'must be ≤ ceiling' }] });
    }
    const settings: RepoSettings = { ...current, ...policyBudget, ...changes };
    const rule = settings.policy?.budget?.adaptive;
    if (rule) {
      // An adaptive budget keeps the value it reached when the policy is applied again (a push to the
      // policy file must not reset it); it starts at max_open_prs when newly on or set by hand, and
      // always within its floor and ceiling.
      const carried = current.policy?.budget?.adaptive && changes.max_open_prs === undefined && cmd.state.repos.has(params.repo);
      settings.max_open_prs = clampAdaptive(carried ? current.max_open_prs : settings.max_open_prs, rule);
    }
    // Settings changed by hand no longer come from the repo's files or the config.
    if (!changes.source && current.source) {
      const origins = Object.fromEntries(Object.entries(current.source.origins).filter(([k]) => !(k in changes) && !(changes.policy?.budget && k in changes.policy.budget)));
      settings.source = { ...current.source, origins };
    }
    cmd.emit({ type: 'repo.configured', repo: params.repo, data: { settings } });
    const repo = knownRepo(cmd.state, params.repo);
    cmd.scheduler.markAll();
    return { settings: repo.settings, budget: repoBudget(cmd.state, repo, cmd.now) };
  },

  'task.create': (cmd, p, params) => {
    requireRepoAccess(p, params.repo);
    knownRepo(cmd.state, params.repo);
    const { idempotency_key: _k, ...fields } = params;
    return { task: createTask(cmd, fields) };
  },

  'task.create_many': (cmd, p, params) => {
    // Check every item before the first write, so a refused batch leaves nothing behind (MAINT-007).
    const refused: ItemError[] = [];
    params.tasks.forEach((item, index) => {
      try {
        requireRepoAccess(p, item.repo);
        knownRepo(cmd.state, item.repo);
      } catch (error) {
        if (!(error instanceof OwpError)) throw error;
        refused.push({ index, code: error.code, message: error.message });
      }
    });
    if (refused.length > 0) throw bulkRefusal('task.create_many', params.tasks.length, refused);
    return { tasks: params.tasks.map((fields) => createTask(cmd, fields)) };
  },

  'task.update': (cmd, p, params) => {
    const task = maintainedTask(cmd.state, p, params.task_id);
    const { idempotency_key: _k, task_id: _t, ...changes } = params;
    const scheduling = SCHEDULING_FIELDS.filter((k) => k in changes);
    if (scheduling.length > 0 && task.state !== 'ready' && task.state !== 'blocked') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; ${scheduling.join(', ')} can change only while it is ready or blocked.`, { from: task.state, fields: scheduling });
    }
    if (isTerminal(task.state)) throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state} and can no longer change.`, { from: task.state });
    cmd.emit({ type: 'task.updated', repo: task.repo, task_id: task.id, data: { changes } });
    cmd.scheduler.markTask(task.id);
    return { task: cmd.state.taskView(task) };
  },

  'task.cancel': (cmd, p, params) => {
    const task = maintainedTask(cmd.state, p, params.task_id);
    if (isTerminal(task.state)) throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is already ${task.state}.`, { from: task.state, to: 'closed' });
    closeTask(cmd, task, params.reason ?? 'cancelled by maintainer');
    return { task: cmd.state.taskView(task) };
  },

  'task.block': (cmd, p, params) => {
    const task = maintainedTask(cmd.state, p, params.task_id);
    if (!['ready', 'offered', 'leased', 'in_progress'].includes(task.state)) {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; only ready, offered, leased or in-progress tasks can be blocked.`, { from: task.state, to: 'blocked' });
    }
    const holder = holderOf(cmd, task);
    cmd.emit({ type: 'task.blocked', repo: task.repo, task_id: task.id, ...(holder ? { worker_id: holder.workerId } : {}), data: { reason: params.reason, by: 'maintainer' } });
    tellHolder(cmd, holder, task.id, params.reason, 'task_blocked');
    cmd.scheduler.markAll();
    return { task: cmd.state.taskView(task) };
  },

  'task.unblock': (cmd, p, params) => {
    const task = maintainedTask(cmd.state, p, params.task_id);
    if (task.state !== 'blocked') throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}, not blocked.`, { from: task.state, to: 'ready' });
    cmd.emit({ type: 'task.unblocked', repo: task.repo, task_id: task.id, data: {} });
    cmd.scheduler.forgetPassed(task.id);
    cmd.scheduler.markTask(task.id);
    return { task: cmd.state.taskView(task) };
  },

  'task.complete': (cmd, p, params) => {
    const task = maintainedTask(cmd.state, p, params.task_id);
    // A PR still waiting for its checks was merged anyway: the maintainers decided, it counts now (CHECKS-008).
    const waiting = task.state !== 'pr_opened' && task.pr && task.checks && task.current_lease_id ? cmd.state.leases.get(task.current_lease_id) : undefined;
    if (params.outcome === 'merged' && waiting) countMergedBeforeChecks(cmd, task, waiting);
    if (params.outcome === 'merged' && task.state !== 'pr_opened') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; only a task with an open PR (counted, or waiting for its checks) can be merged.`, { from: task.state, to: 'merged' });
    }
    if (params.outcome === 'closed' && task.state !== 'pr_opened') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; task.complete records a PR outcome. Use task.cancel to close a task without a PR.`, { from: task.state, to: 'closed' });
    }
    recordPrOutcome(cmd, task, params.outcome, params.reason);
    return { task: cmd.state.taskView(task) };
  },

  'task.report_checks': (cmd, p, params) => {
    const task = maintainedTask(cmd.state, p, params.task_id);
    const lease = task.current_lease_id ? cmd.state.leases.get(task.current_lease_id) : undefined;
    if (!lease || !task.checks || !task.pr) {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state} with no PR waiting for its checks; checks are reported only for a PR attached to a live lease.`, { from: task.state });
    }
    recordChecks(cmd, task, lease, knownRepo(cmd.state, task.repo).settings, params.head_sha, params.checks);
    return { task: cmd.state.taskView(task) };
  },

  'lease.cancel': (cmd, p, params) => {
    const lease = cmd.state.leases.get(params.lease_id);
    if (!lease) throw new OwpError('LEASE_EXPIRED', `Lease ${params.lease_id} is not live.`, { lease_id: params.lease_id });
    const task = maintainedTask(cmd.state, p, lease.task_id);
    endLeaseAndRequeue(cmd, task, lease, knownRepo(cmd.state, task.repo), { type: 'lease.cancelled', cause: 'lease_cancelled' }, params.reason ?? 'cancelled by maintainer');
    return { task: cmd.state.taskView(task) };
  },

  'contributor.vouch': (cmd, p, params) => setStanding(cmd, p, params.repo, params.login, 'vouched', params.reason),
  'contributor.denounce': (cmd, p, params) => setStanding(cmd, p, params.repo, params.login, 'denounced', params.reason),

  'worker.set_trust': (cmd, _p, params) => {
    const w = cmd.state.workers.get(params.worker_id);
    if (!w) throw new OwpError('NOT_FOUND', `No worker ${params.worker_id}.`);
    cmd.emit({ type: 'worker.trust_changed', worker_id: w.record.id, data: { trust: params.trust, previous: w.record.trust } });
    cmd.scheduler.markWorker(w.record.id);
    withdrawIfIneligible(cmd, w);
    return { worker: cmd.state.workerView(w) };
  },

  'worker.revoke': (cmd, _p, params) => {
    const w = cmd.state.workers.get(params.worker_id);
    if (!w) throw new OwpError('NOT_FOUND', `No worker ${params.worker_id}.`);
    const reason = params.reason ?? 'worker revoked';
    for (const taskId of [...w.holding.keys()]) {
      const task = cmd.state.tasks.get(taskId);
      if (!task) continue;
      const lease = task.current_lease_id ? cmd.state.leases.get(task.current_lease_id) : undefined;
      if (task.state === 'offered' && task.current_offer_id) withdrawOffer(cmd, task.current_offer_id, reason);
      else if (lease) endLeaseAndRequeue(cmd, task, lease, knownRepo(cmd.state, task.repo), { type: 'lease.cancelled', cause: 'lease_cancelled' }, reason);
    }
    cmd.emit({ type: 'worker.revoked', worker_id: w.record.id, data: { reason } });
    return { worker: cmd.state.workerView(w) };
  },

  'maintainer.create': (cmd, _p, params) => {
    const token = newToken('maintainer');
    const id = `M-${cmd.state.counters.maintainer + 1}`;
    cmd.emit({ type: 'maintainer.created', data: { id, name: params.name, repos: params.repos, token_hash: hashToken(token) } });
    return { maintainer: { id, name: params.name, repos: [...params.repos] }, token };
  },

  'maintainer.revoke': (cmd, _p, params) => {
    const m = cmd.state.maintainers.get(params.maintainer_id);
    if (!m) throw new OwpError('NOT_FOUND', `No maintainer ${params.maintainer_id}; maintainer.list shows them.`, { maintainer_id: params.maintainer_id });
    if (m.revoked) throw new OwpError('INVALID_TRANSITION', `Maintainer ${m.id} is already revoked.`, { maintainer_id: m.id });
    // The operator's token would come back at the next start: it is replaced where it is given.
    if (isBootstrapAdmin(m)) {
      throw new OwpError('FORBIDDEN', `${m.id} is the bootstrap admin made from the operator's token. Replace it by starting the coordinator with a new OWP_ADMIN_TOKEN (or a new <data_dir>/admin-token); the old token then stops working.`, { maintainer_id: m.id });
    }
    cmd.emit({ type: 'maintainer.revoked', data: { id: m.id, reason: params.reason ?? 'revoked by the admin' } });
    return { maintainer: maintainerView(m) };
  },

  'maintainer.list': (cmd, _p, params) => {
    const { items, next_cursor } = page([...cmd.state.maintainers.values()], { list: 'maintainer.list', key: (m) => [idNumber(m.id)], order: orderBy('asc'), limit: params.limit, defaultLimit: 1000, cursor: params.cursor });
    return { maintainers: items.map(maintainerView), ...(next_cursor ? { next_cursor } : {}) };
  },
} satisfies Partial<OperationHandlers>;

function maintainerView(m: MaintainerRecord): Result<'maintainer.revoke'>['maintainer'] {
  return { id: m.id, name: m.name, repos: [...m.repos], ...(isBootstrapAdmin(m) ? { bootstrap: true } : {}), ...(m.revoked ? { revoked: true } : {}) };
}
