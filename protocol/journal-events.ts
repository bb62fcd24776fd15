/**
 * Every journal event type as a typed descriptor (SPEC §5.10): its name, the references it
 * carries (repo, task, worker), its data schema and what folding it does to the state. Like the
 * operations, this table is the single source of truth: the JSON Schemas under
 * `protocol/schemas/events/`, the `JournalEvent` schema and the table in SPEC.md are generated from
 * it, and `JournalEvent` is a union discriminated on `type`, so every consumer that switches on it
 * is told by the compiler where a new event type must be handled.
 */
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import {
  Closed, Epoch, EpochMs, Extensible, GithubLogin, LeaseId, OfferId, PrChecks, PullRequestInfo, Reason, RepoId, RepoSettings, Task, TaskFields,
  TaskId, Trust, VouchStatus, Worker, WorkerId, WorkerProfile, partial,
} from './model.ts';

export interface JournalEventDescriptor<R extends TProperties = TProperties, D extends TSchema = TSchema> {
  readonly type: string;
  /** What folding the event does to the state, in one line (the SPEC's table shows it). */
  readonly effect: string;
  /** The references every event of this type carries besides `data`. */
  readonly refs: R;
  readonly data: D;
}

function event<R extends TProperties, D extends TSchema>(d: JournalEventDescriptor<R, D>): JournalEventDescriptor<R, D> {
  return d;
}

const NoRefs = {};
const RepoRefs = { repo: RepoId };
const WorkerRefs = { worker_id: WorkerId };
const TaskRefs = { repo: RepoId, task_id: TaskId };
/** A task and the worker holding (or offered) it. */
const HeldRefs = { repo: RepoId, task_id: TaskId, worker_id: WorkerId };
/** A task and, when it had one, the worker holding it. */
const MaybeHeldRefs = { repo: RepoId, task_id: TaskId, worker_id: Type.Optional(WorkerId) };

const Returned = Type.Union([Type.Literal('ready'), Type.Literal('blocked')], { description: 'Where the task went: ready, or blocked once its attempts are used up.' });
const Attempts = Type.Integer({ minimum: 1, description: 'The task\'s attempts after this one.' });
const BlockedReason = Type.Optional(Type.String({ description: 'Present when `to` is blocked.' }));
/** A lease that ended and sent its task back (release, expiry, cancellation). */
const EndedLease = {
  lease_id: LeaseId,
  epoch: Epoch,
  reason: Type.String(),
  attempts: Attempts,
  to: Returned,
  blocked_reason: BlockedReason,
};
/** Informational events carry free-form data. */
const Anything = Type.Record(Type.String(), Type.Unknown());

export const JOURNAL_EVENTS = {
  'repo.configured': event({
    type: 'repo.configured', refs: RepoRefs, data: Closed({ settings: RepoSettings }),
    effect: 'Creates the repo or replaces its settings (budget, timeouts, gates, policy).',
  }),
  'maintainer.created': event({
    type: 'maintainer.created', refs: NoRefs,
    data: Closed({
      id: Type.String({ pattern: '^M-[1-9][0-9]{0,11}$' }), name: Type.String({ maxLength: 100 }), repos: Type.Array(Type.String()),
      bootstrap: Type.Optional(Type.Boolean({ description: 'The admin made from the operator\'s token at start; a new operator token rotates it.' })),
    }),
    effect: 'Adds a maintainer token scoped to repos; the same id again rotates its token (the old one stops working).',
  }),
  'maintainer.revoked': event({
    type: 'maintainer.revoked', refs: NoRefs, data: Closed({ id: Type.String({ pattern: '^M-[1-9][0-9]{0,11}$' }), reason: Reason }),
    effect: 'Revokes a maintainer token: it stops working at once (sockets opened with it are closed).',
  }),
  'worker.registered': event({
    type: 'worker.registered', refs: WorkerRefs, data: Closed({ worker: Type.Omit(Worker, ['online', 'capacity_used', 'last_seen_at']) }),
    effect: 'Adds a worker with its profile, at trust 0 and offline.',
  }),
  'worker.token_rotated': event({
    type: 'worker.token_rotated', refs: WorkerRefs, data: Closed({}),
    effect: 'Replaces a worker\'s token (a replayed worker.register); the old token stops working.',
  }),
  'worker.updated': event({
    type: 'worker.updated', refs: WorkerRefs, data: Closed({ changes: Extensible(partial(WorkerProfile)) }),
    effect: 'Changes a worker\'s profile (skills, capacity, tools, capabilities, repos).',
  }),
  'worker.trust_changed': event({
    type: 'worker.trust_changed', refs: WorkerRefs, data: Closed({ trust: Trust, previous: Trust }),
    effect: 'Sets a worker\'s trust level.',
  }),
  'worker.revoked': event({
    type: 'worker.revoked', refs: WorkerRefs, data: Closed({ reason: Reason }),
    effect: 'Revokes a worker\'s token; the events before it ended its offer and leases.',
  }),
  'worker.connected': event({
    type: 'worker.connected', refs: WorkerRefs, data: Closed({}),
    effect: 'The worker is online: it may be offered tasks.',
  }),
  'worker.disconnected': event({
    type: 'worker.disconnected', refs: WorkerRefs, data: Closed({}),
    effect: 'The worker is offline; its leases stay until their deadline.',
  }),
  'worker.heartbeat_lost': event({
    type: 'worker.heartbeat_lost', refs: WorkerRefs, data: Anything,
    effect: 'Informational: no change to the state.',
  }),
  'coordinator.started': event({
    type: 'coordinator.started', refs: NoRefs, data: Anything,
    effect: 'Informational: no change to the state.',
  }),
  'task.created': event({
    type: 'task.created', refs: TaskRefs, data: Closed({ task: Type.Omit(Task, ['lease', 'offer']) }),
    effect: 'Adds a task in ready.',
  }),
  'task.updated': event({
    type: 'task.updated', refs: TaskRefs, data: Closed({ changes: Extensible(partial(TaskFields)) }),
    effect: 'Changes a task\'s fields (scheduling fields only while it is ready or blocked).',
  }),
  'offer.created': event({
    type: 'offer.created', refs: HeldRefs, data: Closed({ offer_id: OfferId, deadline_at: EpochMs }),
    effect: 'ready → offered: the worker holds the task\'s effort until the deadline; the task takes its area lock and a budget unit.',
  }),
  'offer.declined': event({
    type: 'offer.declined', refs: HeldRefs,
    data: Closed({ offer_id: OfferId, attempts: Attempts, to: Returned, reason: Type.Optional(Reason), blocked_reason: BlockedReason }),
    effect: 'offered → ready, or blocked once its attempts are used up; counts an attempt.',
  }),
  'offer.expired': event({
    type: 'offer.expired', refs: HeldRefs, data: Closed({ offer_id: OfferId, reason: Type.String(), to: Type.Literal('ready') }),
    effect: 'offered → ready: the deadline passed without an answer.',
  }),
  'offer.withdrawn': event({
    type: 'offer.withdrawn', refs: HeldRefs, data: Closed({ offer_id: OfferId, reason: Type.String(), to: Type.Literal('ready') }),
    effect: 'offered → ready: the worker went offline, is no longer eligible, or was revoked.',
  }),
  'lease.granted': event({
    type: 'lease.granted', refs: HeldRefs,
    data: Closed({
      lease_id: LeaseId, epoch: Epoch, expires_at: EpochMs, max_deadline_at: EpochMs,
      via: Type.Union([Type.Literal('offer'), Type.Literal('claim'), Type.Literal('direct')], { description: '`offer`: an accepted offer; `claim`: task.claim; `direct`: the scheduler granted it to a worker that accepts offers automatically (direct leases, SPEC OFFER-011).' }),
      offer_id: Type.Optional(OfferId),
    }),
    effect: 'offered (accepted) or ready (claimed, or granted directly) → leased: a new lease with the task\'s epoch + 1; the worker holds the task\'s effort (a direct grant also counts as the worker\'s latest offer, for who is offered least recently).',
  }),
  'task.started': event({
    type: 'task.started', refs: HeldRefs, data: Closed({ lease_id: LeaseId }),
    effect: 'leased → in_progress.',
  }),
  'pr.opened': event({
    type: 'pr.opened', refs: HeldRefs, data: Closed({ lease_id: LeaseId, pr: PullRequestInfo }),
    effect: 'leased or in_progress → pr_opened: the lease ends; the PR keeps the budget unit and area lock and counts in the hourly window. With required checks, written once they all succeeded on the attached PR\'s head.',
  }),
  'pr.attached': event({
    type: 'pr.attached', refs: HeldRefs, data: Closed({ lease_id: LeaseId, pr: PullRequestInfo, checks: PrChecks }),
    effect: 'leased or in_progress (unchanged): a verified PR waits for the repo\'s required checks; the lease needs no heartbeat until checks.deadline_at. A PR attached earlier is replaced.',
  }),
  'pr.checks_updated': event({
    type: 'pr.checks_updated', refs: HeldRefs,
    data: Closed({ lease_id: LeaseId, checks: PrChecks, restarted: Type.Boolean({ description: 'A new head commit: the wait started again, and the lease waits without heartbeats until the new deadline.' }) }),
    effect: 'The attached PR\'s required checks changed on its head, or a new head restarted the wait.',
  }),
  'pr.checks_timed_out': event({
    type: 'pr.checks_timed_out', refs: HeldRefs,
    data: Closed({ lease_id: LeaseId, expires_at: EpochMs, max_deadline_at: EpochMs }),
    effect: 'The checks deadline passed: the lease returns to heartbeat mode with a fresh window (expires_at, max_deadline_at); the PR stays attached and counts once its checks pass.',
  }),
  'lease.released': event({
    type: 'lease.released', refs: HeldRefs, data: Closed(EndedLease),
    effect: 'leased or in_progress → ready, or blocked once its attempts are used up: the worker gave the lease back; counts an attempt.',
  }),
  'lease.expired': event({
    type: 'lease.expired', refs: HeldRefs,
    data: Closed({ ...EndedLease, deadline_at: EpochMs, late_ms: Type.Integer({ minimum: 0, description: 'How long after its deadline the sweep ended it.' }) }),
    effect: 'leased or in_progress → ready, or blocked: no heartbeat before the deadline, or the maximum duration reached; counts an attempt.',
  }),
  'lease.cancelled': event({
    type: 'lease.cancelled', refs: HeldRefs, data: Closed(EndedLease),
    effect: 'leased or in_progress → ready, or blocked: a maintainer took the lease away or revoked the worker; counts an attempt.',
  }),
  'task.blocked': event({
    type: 'task.blocked', refs: MaybeHeldRefs,
    data: Closed({ reason: Reason, by: Type.Union([Type.Literal('worker'), Type.Literal('maintainer')]), lease_id: Type.Optional(LeaseId) }),
    effect: 'ready, offered, leased or in_progress → blocked, ending its offer or lease; not offered until unblocked.',
  }),
  'task.unblocked': event({
    type: 'task.unblocked', refs: TaskRefs, data: Closed({}),
    effect: 'blocked → ready, with its attempts reset to 0.',
  }),
  'task.merged': event({
    type: 'task.merged', refs: TaskRefs,
    data: Closed({ by: Type.Literal('maintainer'), outcome: Type.Literal('merged'), reason: Type.Optional(Reason) }),
    effect: 'pr_opened → merged: frees the budget unit and the area lock.',
  }),
  'task.closed': event({
    type: 'task.closed', refs: MaybeHeldRefs,
    data: Closed({ by: Type.Literal('maintainer'), outcome: Type.Optional(Type.Literal('closed')), reason: Type.Optional(Reason), lease_id: Type.Optional(LeaseId) }),
    effect: 'Any unfinished state → closed (with outcome: its PR closed unmerged; without: the task cancelled), ending its offer or lease.',
  }),
  'task.archived': event({
    type: 'task.archived', refs: TaskRefs, data: Closed({ task: Task }),
    effect: 'A finished task leaves the live state; this event keeps its final form (task.get still answers).',
  }),
  'contributor.standing_set': event({
    type: 'contributor.standing_set', refs: RepoRefs, data: Closed({ login: GithubLogin, status: VouchStatus, reason: Type.Optional(Reason), by: Type.String({ maxLength: 100 }) }),
    effect: 'A maintainer vouches for or denounces a contributor (a GitHub login) in the repo; the latest word replaces the earlier one.',
  }),
  'budget.adapted': event({
    type: 'budget.adapted', refs: TaskRefs,
    data: Closed({
      from: Type.Integer({ minimum: 0, description: 'The effective max_open_prs before.' }),
      to: Type.Integer({ minimum: 0, description: 'The effective max_open_prs after, within the adaptive floor and ceiling.' }),
      change: Type.Union([Type.Literal('increase'), Type.Literal('decrease')]),
      outcome: Type.Union([Type.Literal('merged'), Type.Literal('closed')], { description: 'The outcome of the task\'s PR that moved the budget.' }),
      review_ms: Type.Integer({ minimum: 0, description: 'From the PR counting (pr_opened) to its outcome.' }),
      reason: Type.String({ maxLength: 500 }),
    }),
    effect: 'The adaptive review budget moved the repo\'s max_open_prs after a PR outcome (additive increase, multiplicative decrease). Written only when the value changes.',
  }),
  'policy.dry_run_hit': event({
    type: 'policy.dry_run_hit', refs: HeldRefs,
    data: Closed({
      rule: Type.String({ maxLength: 64, description: 'The id of the rule in report mode that would have refused.' }),
      via: Type.Union([Type.Literal('offer'), Type.Literal('claim')], { description: 'What the rule let through: an offer made or a claim granted.' }),
      message: Type.String({ maxLength: 2000, description: 'Why it would have refused.' }),
    }),
    effect: 'A rule in report mode would have refused this offer or claim and did not; counted per repo and rule. Written once per task, worker and rule.',
  }),
} as const;

export type JournalEventType = keyof typeof JOURNAL_EVENTS;
export type JournalEventData<K extends JournalEventType> = Static<(typeof JOURNAL_EVENTS)[K]['data']>;
export type JournalEventRefs<K extends JournalEventType> = Static<TObject<(typeof JOURNAL_EVENTS)[K]['refs']>>;

/**
 * The references an event type does not carry read as `undefined`, so code that handles any event
 * can still ask for `e.repo` or `e.task_id`.
 */
export type JournalEventEnvelope<K extends JournalEventType> = { seq: number; at: number; type: K } & Omit<AbsentRefs, keyof JournalEventRefs<K>> &
  JournalEventRefs<K>;
interface AbsentRefs {
  repo?: undefined;
  task_id?: undefined;
  worker_id?: undefined;
}

/** One journal event as served on the wire, by type. */
export type JournalEventMap = {
  [K in JournalEventType]: JournalEventEnvelope<K> & { data: JournalEventData<K> };
};
export type JournalEventOf<K extends JournalEventType> = JournalEventMap[K];
/** An event before the journal numbers it: its type, references and data. */
export type JournalEventDraft = { [K in JournalEventType]: { type: K; data: JournalEventData<K> } & JournalEventRefs<K> }[JournalEventType];
/** Any journal event: a union discriminated on `type`. */
export type JournalEvent = JournalEventMap[JournalEventType];

export const JOURNAL_EVENT_TYPES = Object.keys(JOURNAL_EVENTS) as JournalEventType[];

export function isJournalEventType(type: unknown): type is JournalEventType {
  return typeof type === 'string' && Object.hasOwn(JOURNAL_EVENTS, type);
}

const Seq = Type.Integer({ minimum: 1, description: 'Gapless, strictly increasing sequence number.' });

/** The wire schema of one event type: the envelope with its references and data. */
export function journalEventSchema(d: JournalEventDescriptor): TObject {
  return Closed({ seq: Seq, at: EpochMs, type: Type.Literal(d.type), ...d.refs, data: d.data }, { description: d.effect });
}

/**
 * The schema of any event: the union of the per-type schemas. Built from a list, so TypeBox cannot
 * infer its static type; `Unsafe` gives it the union type derived from the same table.
 */
export const JournalEvent = Type.Unsafe<JournalEvent>(
  Type.Union(Object.values(JOURNAL_EVENTS).map(journalEventSchema), {
    description: 'A journal event: one of the types in SPEC §5.10, told apart by `type`.',
  }),
);
