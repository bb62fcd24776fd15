/**
 * Every OWP operation as a typed descriptor (SPEC §5): name, who may call it, whether it mutates
 * (and so needs an idempotency key), its params and result schemas, the errors it can return and
 * its HTTP route. The socket.io binding uses the name as the event; notifications are listed apart.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ErrorCode } from './errors.ts';
import {
  Budget, CheckView, Closed, CommitSha, EpochMs, ContributorCapStanding, ContributorStanding, Epoch, Extensible, GithubLogin, IdempotencyKey, Lease, LeaseId, Metrics, Offer, OfferId,
  PrChecks, PullRequestInfo, SubmittedPr,
  Reason, Reasoned, RepoId, RepoSettings, RepoSettingsFields, Task, TaskFields, TaskId, TaskStateSchema, Trust, Worker,
  WorkerId, WorkerProfile, partial,
} from './model.ts';
import { JournalEvent } from './journal-events.ts';

export type Auth = 'none' | 'worker' | 'maintainer' | 'admin' | 'any';
/**
 * What an operation reaches, for the access rules (SPEC §4): `none` nothing of anyone's; `own` the
 * calling worker's own record, offers and leases; `repo` one repo's (or, for a list, every
 * readable repo's) tasks, settings, leases, journal and metrics, so the repo's scope and visibility
 * apply (AUTH-003, AUTH-008); `pool` workers and tokens across the pool (maintainers and the admin).
 */
export type Reach = 'none' | 'own' | 'repo' | 'pool';
export type Binding = 'both' | 'socket' | 'http';

export interface OperationDescriptor<P extends TSchema = TSchema, R extends TSchema = TSchema> {
  readonly name: string;
  readonly summary: string;
  readonly auth: Auth;
  readonly scope: Reach;
  /** Mutating operations require an idempotency key (SPEC §8), except where `idempotentByNature`. */
  readonly mutating: boolean;
  readonly idempotentByNature?: boolean;
  readonly binding: Binding;
  readonly http?: { readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH'; readonly path: string };
  readonly params: P;
  readonly result: R;
  readonly errors: readonly ErrorCode[];
  readonly spec: string;
}

function op<P extends TSchema, R extends TSchema>(d: OperationDescriptor<P, R>): OperationDescriptor<P, R> {
  return d;
}

const key = { idempotency_key: Type.Optional(IdempotencyKey) };
const Limit = Type.Integer({ minimum: 1, maximum: 1000 });
/** A list's position (SPEC PAGE-001): opaque to callers, who pass back what `next_cursor` said. */
const Cursor = Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque: pass a list\'s next_cursor back, with the same filters, for the next page.' });
const page = { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) };
const nextCursor = { next_cursor: Type.Optional({ ...Cursor, description: 'Present when there are more items: pass it as cursor (with the same filters) for the next page.' }) };
const ACCESS: ErrorCode[] = ['UNAUTHENTICATED', 'FORBIDDEN', 'VALIDATION_FAILED', 'RATE_LIMITED'];
const MUTATE: ErrorCode[] = [...ACCESS, 'IDEMPOTENCY_KEY_REQUIRED', 'IDEMPOTENCY_KEY_REUSED', 'UNAVAILABLE'];

const LeaseRef = { lease_id: LeaseId, epoch: Epoch };
const MaintainerId = Type.String({ pattern: '^M-[1-9][0-9]{0,11}$', description: 'Coordinator-assigned maintainer id, `M-<n>`.' });
const MaintainerView = Closed({
  id: MaintainerId,
  name: Type.String(),
  repos: Type.Array(Type.String()),
  bootstrap: Type.Optional(Type.Boolean({ description: 'The admin whose token the operator gives at start (OWP_ADMIN_TOKEN or the data directory\'s admin-token).' })),
  revoked: Type.Optional(Type.Boolean()),
});
const TaskResult = Closed({ task: Task });
/** What task.create takes, and each item of task.create_many. */
const TaskCreateFields = { repo: RepoId, ...partial(TaskFields), title: TaskFields.title };
const TaskCreateItem = Extensible(TaskCreateFields);
/**
 * The most tasks one task.create_many carries. Its payload is still bound by max_payload_bytes, so a
 * client splits a large import by both (the CLI's `owp task import` does).
 */
export const MAX_BULK_TASKS = 1000;
const LeaseAndTask = Closed({ lease: Lease, task: Task });

export const CoordinatorInfo = Closed({
  name: Type.String(),
  protocol_version: Type.String(),
  supported_versions: Type.Array(Type.String()),
  capabilities: Type.Array(Type.String(), { description: 'Optional capabilities this coordinator implements (SPEC §9.1).' }),
  limits: Closed({
    max_payload_bytes: Type.Integer(),
    max_frame_bytes: Type.Integer({ description: 'The largest socket.io frame; a larger one closes the connection (SPEC §8.3). At least max_payload_bytes.' }),
    max_depth: Type.Integer(),
    idempotency_key_ttl_ms: Type.Integer(),
    max_bulk_tasks: Type.Optional(Type.Integer({ minimum: 1, description: 'The most tasks one task.create_many may carry.' })),
  }),
  registration: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
});

export const OPERATIONS = {
  'coordinator.info': op({
    name: 'coordinator.info', summary: 'What this coordinator is: versions, capabilities, limits.', auth: 'none', scope: 'none', mutating: false,
    binding: 'both', http: { method: 'GET', path: '/v1/info' }, params: Closed({}), result: CoordinatorInfo, errors: [], spec: '§5.1',
  }),
  'session.hello': op({
    name: 'session.hello',
    summary: 'Capability negotiation; the first message on every socket. Returns the caller\'s live offers and leases so a reconnecting worker resumes them.',
    auth: 'any', scope: 'own', mutating: false, binding: 'socket',
    params: Closed({
      protocol_version: Type.String({ maxLength: 16 }),
      profile: Type.Optional(Extensible(partial(WorkerProfile))),
      subscribe: Type.Optional(Type.Array(Type.Union([Type.Literal('tasks'), Type.Literal('journal')]), { uniqueItems: true })),
      journal_after_seq: Type.Optional(Type.Integer({ minimum: 0 })),
    }),
    result: Closed({
      protocol_version: Type.String(),
      coordinator: CoordinatorInfo,
      role: Type.Union([Type.Literal('worker'), Type.Literal('maintainer')]),
      worker: Type.Optional(Worker),
      offers: Type.Array(Offer),
      leases: Type.Array(Lease),
    }),
    errors: ['VERSION_UNSUPPORTED', 'UNAUTHENTICATED', 'VALIDATION_FAILED'], spec: '§5.2',
  }),
  'worker.register': op({
    name: 'worker.register', summary: 'Join the pool: returns the worker and its token (shown once; only its hash is stored).',
    auth: 'none', scope: 'none', mutating: true, binding: 'both', http: { method: 'POST', path: '/v1/workers' },
    params: Extensible({ ...key, github_login: GithubLogin, ...WorkerProfile, invite: Type.Optional(Type.String({ maxLength: 200 })) }),
    result: Closed({ worker: Worker, token: Type.String() }),
    errors: [...MUTATE, 'REGISTRATION_CLOSED'], spec: '§5.3',
  }),
  'worker.status': op({
    name: 'worker.status', summary: 'The calling worker with its open offers and live leases.', auth: 'worker', scope: 'own', mutating: false,
    binding: 'both', http: { method: 'GET', path: '/v1/workers/me' }, params: Closed({}),
    result: Closed({ worker: Worker, offers: Type.Array(Offer), leases: Type.Array(Lease) }), errors: ACCESS, spec: '§5.3',
  }),
  'worker.prs': op({
    name: 'worker.prs', summary: 'The PRs the calling worker opened (open, merged or closed) that changed since a moment, newest first, one page at a time.', auth: 'worker', scope: 'own',
    mutating: false, binding: 'both', http: { method: 'GET', path: '/v1/workers/me/prs' },
    params: Closed({
      since: Type.Optional({ ...EpochMs, description: 'Only PRs whose task changed state at or after this moment; default: the last 14 days (fixed when a walk starts: later pages answer the same window).' }),
      ...page,
    }),
    result: Closed({ prs: Type.Array(SubmittedPr), trust: Trust, ...nextCursor }), errors: ACCESS, spec: '§5.3',
  }),
  'worker.update': op({
    name: 'worker.update', summary: 'Change the calling worker\'s skills, capacity, tools, capabilities or repos.', auth: 'worker', scope: 'own', mutating: true,
    binding: 'both', http: { method: 'PATCH', path: '/v1/workers/me' }, params: Extensible({ ...key, ...partial(WorkerProfile) }),
    result: Closed({ worker: Worker }), errors: MUTATE, spec: '§5.3',
  }),
  'offer.list': op({
    name: 'offer.list', summary: 'The calling worker\'s open offers.', auth: 'worker', scope: 'own', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/offers' }, params: Closed({}), result: Closed({ offers: Type.Array(Offer) }), errors: ACCESS, spec: '§5.4',
  }),
  'offer.accept': op({
    name: 'offer.accept', summary: 'Accept (ack) an offer before its deadline: the task is leased to the caller.', auth: 'worker', scope: 'own', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/offers/{offer_id}/accept' }, params: Closed({ ...key, offer_id: OfferId }),
    result: LeaseAndTask, errors: [...MUTATE, 'NOT_FOUND', 'NOT_HOLDER', 'OFFER_EXPIRED', 'NOT_ELIGIBLE', 'AREA_LOCKED', 'BUDGET_EXHAUSTED', 'POLICY_DENIED'], spec: '§5.4',
  }),
  'offer.decline': op({
    name: 'offer.decline', summary: 'Decline (nack) an offer: the task returns to ready and counts an attempt.', auth: 'worker', scope: 'own', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/offers/{offer_id}/decline' }, params: Closed({ ...key, offer_id: OfferId, reason: Type.Optional(Reason) }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'NOT_HOLDER', 'OFFER_EXPIRED'], spec: '§5.4',
  }),
  'task.claim': op({
    name: 'task.claim', summary: 'Claim a listed ready task directly; passes the same checks as an offer.', auth: 'worker', scope: 'repo', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/tasks/{task_id}/claim' }, params: Closed({ ...key, task_id: TaskId }),
    result: LeaseAndTask, errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION', 'NOT_ELIGIBLE', 'AREA_LOCKED', 'BUDGET_EXHAUSTED', 'POLICY_DENIED'], spec: '§5.4',
  }),
  'lease.heartbeat': op({
    name: 'lease.heartbeat', summary: 'Renew a lease. Idempotent by nature, so no key is needed.', auth: 'worker', scope: 'own', mutating: true, idempotentByNature: true,
    binding: 'both', http: { method: 'POST', path: '/v1/leases/{lease_id}/heartbeat' }, params: Closed({ ...key, ...LeaseRef }),
    result: Closed({ lease: Lease }), errors: [...ACCESS, 'NOT_FOUND', 'NOT_HOLDER', 'STALE_EPOCH', 'LEASE_EXPIRED'], spec: '§5.5',
  }),
  'lease.release': op({
    name: 'lease.release', summary: 'Give a lease back (nack): the task returns to ready and counts an attempt.', auth: 'worker', scope: 'own', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/leases/{lease_id}/release' }, params: Closed({ ...key, ...LeaseRef, reason: Type.Optional(Reason) }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'NOT_HOLDER', 'STALE_EPOCH', 'LEASE_EXPIRED'], spec: '§5.5',
  }),
  'lease.report': op({
    name: 'lease.report', summary: 'Report progress under a lease: in_progress, pr_opened (with the PR and gate evidence) or blocked (with a reason).',
    auth: 'worker', scope: 'own', mutating: true, binding: 'both', http: { method: 'POST', path: '/v1/leases/{lease_id}/report' },
    params: Closed({
      ...key, ...LeaseRef,
      state: Type.Union([Type.Literal('in_progress'), Type.Literal('pr_opened'), Type.Literal('blocked')]),
      pr: Type.Optional(PullRequestInfo),
      reason: Type.Optional(Reason),
    }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'NOT_HOLDER', 'STALE_EPOCH', 'LEASE_EXPIRED', 'INVALID_TRANSITION', 'GATES_MISSING', 'PR_MISMATCH', 'POLICY_DENIED'], spec: '§5.5',
  }),
  'task.list': op({
    name: 'task.list', summary: 'Tasks, newest state first, filtered by repo and state.', auth: 'any', scope: 'repo', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/tasks' },
    params: Closed({ repo: Type.Optional(RepoId), state: Type.Optional(TaskStateSchema), ...page, include_archived: Type.Optional(Type.Boolean()) }),
    result: Closed({ tasks: Type.Array(Task), ...nextCursor }), errors: ACCESS, spec: '§5.6',
  }),
  'task.get': op({
    name: 'task.get', summary: 'One task (live or archived).', auth: 'any', scope: 'repo', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/tasks/{task_id}' }, params: Closed({ task_id: TaskId }), result: TaskResult, errors: [...ACCESS, 'NOT_FOUND'], spec: '§5.6',
  }),
  'task.explain': op({
    name: 'task.explain', summary: 'Why a task is or is not being offered, and to whom it could go; with worker_id, each repo policy rule\'s verdict for that worker.', auth: 'any', scope: 'repo', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/tasks/{task_id}/explain' },
    params: Closed({ task_id: TaskId, worker_id: Type.Optional(WorkerId) }),
    result: Closed({
      task_id: TaskId, state: TaskStateSchema, offerable: Type.Boolean(), reasons: Type.Array(Reasoned), eligible_workers: Type.Integer({ minimum: 0 }),
      policy: Type.Optional(Type.Array(Closed({
        rule: Type.String(), passed: Type.Boolean(), message: Type.String(),
        mode: Type.Optional(Type.Literal('report', { description: 'The rule is in report mode: when it does not pass, it would refuse but does not.' })),
      }), {
        description: 'With worker_id: every rule of the repo policy (budget rules included) and whether it passes for that worker — the dry run of `owp policy explain`.',
      })),
      warnings: Type.Optional(Type.Array(Reasoned, {
        description: 'What does not stop the task but deserves a look: `pr_lane`, its PR strays beyond the task\'s area (policy rule pr_lane, flag or allow); `lease_overlap`, a live lease holds an area that contains or is inside this task\'s area, so the two are likely to touch the same paths.',
      })),
    }),
    errors: [...ACCESS, 'NOT_FOUND'], spec: '§5.6',
  }),
  'task.create': op({
    name: 'task.create', summary: 'Create a ready task in a repo the maintainer covers.', auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both',
    http: { method: 'POST', path: '/v1/tasks' },
    params: Extensible({ ...key, ...TaskCreateFields }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND'], spec: '§5.7',
  }),
  'task.create_many': op({
    name: 'task.create_many',
    summary: `Create up to ${MAX_BULK_TASKS} ready tasks at once: each is checked as task.create checks it, and either all are created (one durable write) or none, with a report of every refused item.`,
    auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both',
    http: { method: 'POST', path: '/v1/tasks/bulk' },
    params: Closed({ ...key, tasks: Type.Array(TaskCreateItem, { minItems: 1, maxItems: MAX_BULK_TASKS }) }),
    result: Closed({ tasks: Type.Array(Task) }), errors: [...MUTATE, 'NOT_FOUND'], spec: '§5.7',
  }),
  'task.update': op({
    name: 'task.update', summary: 'Change a task\'s fields. Scheduling fields (area, tier, effort, skills) change only while ready or blocked.',
    auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both', http: { method: 'PATCH', path: '/v1/tasks/{task_id}' },
    params: Extensible({ ...key, task_id: TaskId, ...partial(TaskFields) }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION'], spec: '§5.7',
  }),
  'task.cancel': op({
    name: 'task.cancel', summary: 'Close a task without a PR; a holder is told through lease.cancelled.', auth: 'maintainer', scope: 'repo', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/tasks/{task_id}/cancel' }, params: Closed({ ...key, task_id: TaskId, reason: Type.Optional(Reason) }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION'], spec: '§5.7',
  }),
  'task.block': op({
    name: 'task.block', summary: 'Block a task (it is not offered until unblocked); a holder is told through lease.cancelled.', auth: 'maintainer', scope: 'repo',
    mutating: true, binding: 'both', http: { method: 'POST', path: '/v1/tasks/{task_id}/block' }, params: Closed({ ...key, task_id: TaskId, reason: Reason }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION'], spec: '§5.7',
  }),
  'task.unblock': op({
    name: 'task.unblock', summary: 'Return a blocked task to ready with its attempts reset.', auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both',
    http: { method: 'POST', path: '/v1/tasks/{task_id}/unblock' }, params: Closed({ ...key, task_id: TaskId }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION'], spec: '§5.7',
  }),
  'task.complete': op({
    name: 'task.complete', summary: 'Record a PR\'s outcome: merged or closed. Frees its budget unit and area lock.', auth: 'maintainer', scope: 'repo', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/tasks/{task_id}/complete' },
    params: Closed({ ...key, task_id: TaskId, outcome: Type.Union([Type.Literal('merged'), Type.Literal('closed')]), reason: Type.Optional(Reason) }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION'], spec: '§5.7',
  }),
  'task.report_checks': op({
    name: 'task.report_checks',
    summary: 'Report the CI checks the code host shows on the head commit of a task\'s attached PR: the PR counts (pr_opened) once every required check succeeded; a new head restarts the wait.',
    auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both', http: { method: 'POST', path: '/v1/tasks/{task_id}/checks' },
    params: Closed({
      ...key,
      task_id: TaskId,
      head_sha: CommitSha,
      checks: Type.Array(CheckView, { maxItems: 200, description: 'What the code host shows on head_sha (any checks; the repo\'s required ones are picked out, a missing one is pending). A name given twice: the last one counts.' }),
    }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION'], spec: '§5.5',
  }),
  'lease.cancel': op({
    name: 'lease.cancel', summary: 'Take a lease away from its holder: the task returns to ready and counts an attempt.', auth: 'maintainer', scope: 'repo', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/leases/{lease_id}/cancel' }, params: Closed({ ...key, lease_id: LeaseId, reason: Type.Optional(Reason) }),
    result: TaskResult, errors: [...MUTATE, 'NOT_FOUND', 'LEASE_EXPIRED'], spec: '§5.7',
  }),
  'repo.configure': op({
    name: 'repo.configure', summary: 'Create a repo or change its settings (budget, timeouts, gates).', auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both',
    http: { method: 'PUT', path: '/v1/repos/{repo}/settings' },
    params: Extensible({ ...key, repo: RepoId, ...partial(RepoSettingsFields) }),
    result: Closed({ settings: RepoSettings, budget: Budget }), errors: MUTATE, spec: '§5.8',
  }),
  'repo.get': op({
    name: 'repo.get', summary: 'A repo\'s settings, budget use and area locks.', auth: 'any', scope: 'repo', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/repos/{repo}' }, params: Closed({ repo: RepoId }),
    result: Closed({ settings: RepoSettings, budget: Budget, locks: Type.Record(Type.String(), TaskId) }), errors: [...ACCESS, 'NOT_FOUND'], spec: '§5.8',
  }),
  'repo.list': op({
    name: 'repo.list', summary: 'All repos with settings and budget use.', auth: 'any', scope: 'repo', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/repos' }, params: Closed({ ...page }),
    result: Closed({ repos: Type.Array(Closed({ settings: RepoSettings, budget: Budget, locks: Type.Record(Type.String(), TaskId) })), ...nextCursor }), errors: ACCESS, spec: '§5.8',
  }),
  'contributor.vouch': op({
    name: 'contributor.vouch', summary: 'Vouch for a contributor (a GitHub login) in a repo: replaces a denouncement; policy rule vouch_required asks for it.', auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both',
    http: { method: 'POST', path: '/v1/repos/{repo}/contributors/{login}/vouch' }, params: Closed({ ...key, repo: RepoId, login: GithubLogin, reason: Type.Optional(Reason) }),
    result: Closed({ contributor: ContributorStanding }), errors: [...MUTATE, 'NOT_FOUND'], spec: '§5.8',
  }),
  'contributor.denounce': op({
    name: 'contributor.denounce', summary: 'Denounce a contributor in a repo: their workers are never offered work there again (rule denounced) and lose their open offers there.', auth: 'maintainer', scope: 'repo', mutating: true, binding: 'both',
    http: { method: 'POST', path: '/v1/repos/{repo}/contributors/{login}/denounce' }, params: Closed({ ...key, repo: RepoId, login: GithubLogin, reason: Reason }),
    result: Closed({ contributor: ContributorStanding }), errors: [...MUTATE, 'NOT_FOUND'], spec: '§5.8',
  }),
  'contributor.list': op({
    name: 'contributor.list', summary: 'The contributors a repo\'s maintainers vouched for or denounced.', auth: 'maintainer', scope: 'repo', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/repos/{repo}/contributors' }, params: Closed({ repo: RepoId, ...page }),
    result: Closed({ contributors: Type.Array(ContributorStanding), ...nextCursor }), errors: [...ACCESS, 'NOT_FOUND'], spec: '§5.8',
  }),
  'policy.standings': op({
    name: 'policy.standings', summary: 'Per contributor (a GitHub login) in a repo, as the scheduler counts them: open PRs (drafts apart), live leases and offers, merged PRs, the contributor_cap and how it was reached, and the maintainers\' vouch or denouncement. Logins with nothing held, merged or said are left out.',
    auth: 'maintainer', scope: 'repo', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/repos/{repo}/standings' }, params: Closed({ repo: RepoId, ...page }),
    result: Closed({ standings: Type.Array(ContributorCapStanding), ...nextCursor }), errors: [...ACCESS, 'NOT_FOUND'], spec: '§9.3',
  }),
  'worker.list': op({
    name: 'worker.list', summary: 'All workers (maintainers only).', auth: 'maintainer', scope: 'pool', mutating: false, binding: 'both',
    http: { method: 'GET', path: '/v1/workers' }, params: Closed({ ...page }), result: Closed({ workers: Type.Array(Worker), ...nextCursor }), errors: ACCESS, spec: '§5.9',
  }),
  'worker.set_trust': op({
    name: 'worker.set_trust', summary: 'Set a worker\'s trust level (admin).', auth: 'admin', scope: 'pool', mutating: true, binding: 'both',
    http: { method: 'POST', path: '/v1/workers/{worker_id}/trust' }, params: Closed({ ...key, worker_id: WorkerId, trust: Trust }),
    result: Closed({ worker: Worker }), errors: [...MUTATE, 'NOT_FOUND'], spec: '§5.9',
  }),
  'worker.revoke': op({
    name: 'worker.revoke', summary: 'Revoke a worker\'s token and end its offers and leases (admin).', auth: 'admin', scope: 'pool', mutating: true, binding: 'both',
    http: { method: 'POST', path: '/v1/workers/{worker_id}/revoke' }, params: Closed({ ...key, worker_id: WorkerId, reason: Type.Optional(Reason) }),
    result: Closed({ worker: Worker }), errors: [...MUTATE, 'NOT_FOUND'], spec: '§5.9',
  }),
  'maintainer.create': op({
    name: 'maintainer.create', summary: 'Issue a maintainer token scoped to repos (`owner/name` or `owner/*`) (admin).', auth: 'admin', scope: 'pool', mutating: true,
    binding: 'both', http: { method: 'POST', path: '/v1/maintainers' },
    params: Closed({ ...key, name: Type.String({ minLength: 1, maxLength: 100 }), repos: Type.Array(Type.String({ pattern: '^(\\*|[A-Za-z0-9][A-Za-z0-9_.-]{0,38}/(\\*|[A-Za-z0-9_.-]{1,100}))$' }), { minItems: 1, maxItems: 100 }) }),
    result: Closed({ maintainer: MaintainerView, token: Type.String() }),
    errors: MUTATE, spec: '§5.9',
  }),
  'maintainer.revoke': op({
    name: 'maintainer.revoke', summary: 'Revoke a maintainer token: it stops working at once, on every binding (admin). The bootstrap admin is replaced by rotating OWP_ADMIN_TOKEN instead.',
    auth: 'admin', scope: 'pool', mutating: true, binding: 'both', http: { method: 'POST', path: '/v1/maintainers/{maintainer_id}/revoke' },
    params: Closed({ ...key, maintainer_id: MaintainerId, reason: Type.Optional(Reason) }),
    result: Closed({ maintainer: MaintainerView }), errors: [...MUTATE, 'NOT_FOUND', 'INVALID_TRANSITION'], spec: '§5.9',
  }),
  'maintainer.list': op({
    name: 'maintainer.list', summary: 'Every maintainer token\'s id, name, scope and whether it is revoked; never the token (admin).', auth: 'admin', scope: 'pool',
    mutating: false, binding: 'both', http: { method: 'GET', path: '/v1/maintainers' }, params: Closed({ ...page }),
    result: Closed({ maintainers: Type.Array(MaintainerView), ...nextCursor }), errors: ACCESS, spec: '§5.9',
  }),
  'journal.read': op({
    name: 'journal.read', summary: 'The audit journal after a sequence number, in order (maintainers; filtered to their repos).', auth: 'maintainer', scope: 'repo',
    mutating: false, binding: 'both', http: { method: 'GET', path: '/v1/journal' },
    params: Closed({ after_seq: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Limit), repo: Type.Optional(RepoId) }),
    result: Closed({ events: Type.Array(JournalEvent), last_seq: Type.Integer({ minimum: 0 }) }), errors: ACCESS, spec: '§5.10',
  }),
  'metrics.get': op({
    name: 'metrics.get', summary: 'Pool metrics derived from the journal: utilization, lead time, requeue rate, PR acceptance rate.', auth: 'any', scope: 'repo',
    mutating: false, binding: 'both', http: { method: 'GET', path: '/v1/metrics' }, params: Closed({ repo: Type.Optional(RepoId) }),
    result: Metrics, errors: ACCESS, spec: '§5.10',
  }),
} as const;

export type OperationName = keyof typeof OPERATIONS;
export type Params<N extends OperationName> = Static<(typeof OPERATIONS)[N]['params']>;
export type Result<N extends OperationName> = Static<(typeof OPERATIONS)[N]['result']>;

/** Messages the coordinator pushes over socket.io (SPEC §5.11). Past tense; no reply expected. */
export const NOTIFICATIONS = {
  'offer.created': { summary: 'A task is offered to this worker until deadline_at.', payload: Closed({ offer: Offer }) },
  'lease.granted': {
    summary: 'Direct leases (SPEC OFFER-011): the coordinator granted this worker, which accepts offers automatically, a lease where it would have offered the task; sent once the grant is durable, with the lease and the task as offer.accept answers them.',
    payload: Closed({ lease: Lease, task: Task }),
  },
  'offer.withdrawn': {
    summary: 'An open offer ended without an answer (deadline passed, worker no longer eligible, task changed).',
    payload: Closed({ offer_id: OfferId, task_id: TaskId, reason: Type.String() }),
  },
  'lease.cancelled': {
    summary: 'This worker\'s lease ended from the coordinator\'s side (cancelled, expired, task closed or blocked). Stop work on it.',
    payload: Closed({ lease_id: LeaseId, task_id: TaskId, epoch: Epoch, reason: Type.String(), cause: Type.String() }),
  },
  'pr.checks_updated': {
    summary: 'The PR attached to this worker\'s lease waits for required checks: sent when it is attached, when a check changes or a new push restarts the wait, and when the deadline passes (checks.timed_out_at set; heartbeat the lease again).',
    payload: Closed({ task_id: TaskId, lease: Lease, pr: PullRequestInfo, checks: PrChecks }),
  },
  'pr.counted': {
    summary: 'Every required check succeeded: the PR now counts as opened (the task is pr_opened, the lease ended). The worker may now mark a draft PR ready for review, with its own token. Also sent when a maintainer merged the PR before its checks succeeded (pr.evidence `maintainer`; the task is merged, the lease ended, nothing to mark ready).',
    payload: Closed({ task_id: TaskId, lease_id: LeaseId, pr: PullRequestInfo, checks: PrChecks }),
  },
  'tasks.changed': {
    summary: 'Tasks changed; subscribers (hello subscribe ["tasks"]) may re-list. Sent at most once a second.',
    payload: Closed({ seq: Type.Integer() }),
  },
  'journal.appended': {
    summary: 'New journal events, in order, for subscribers (maintainers; hello subscribe ["journal"]).',
    payload: Closed({ events: Type.Array(JournalEvent) }),
  },
} as const;

export type NotificationName = keyof typeof NOTIFICATIONS;
export type NotificationPayload<N extends NotificationName> = Static<(typeof NOTIFICATIONS)[N]['payload']>;

/** Every ack on the wire. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

export { GithubLogin };
