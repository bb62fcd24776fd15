/**
 * The OWP engine: decides every command against the state, writes events, and schedules offers.
 * It is synchronous and has no I/O: the runtime around it makes events durable before answering,
 * and moves time through the injected clock (tests use a ManualClock and call `tick()`).
 *
 * Rule of this file: every check runs before the first event of a command is emitted, so a refused
 * command leaves the state untouched.
 */
import { createHash } from 'node:crypto';
import { OwpError } from '../protocol/errors.ts';
import { OPERATIONS, type OperationName, type Params, type Result } from '../protocol/operations.ts';
import { ACTIVE_STATES, LEASED_STATES, isTerminal } from '../protocol/states.ts';
import type { Budget, Metrics, Reasoned, RepoSettings, Task } from '../protocol/model.ts';
import { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '../protocol/version.ts';
import { LIMITS } from '../protocol/validate.ts';
import type { Clock } from './clock.ts';
import { hashToken, newToken, principalScope, scopeCovers, type Principal } from './auth.ts';
import type { JournalEventRefs, JournalEventType } from '../protocol/journal-events.ts';
import { State } from './state/state.ts';
import {
  defaultRepoSettings, idemKey, type IdempotencyRecord, type LeaseRecord, type RepoRuntime, type TaskRecord, type WorkerRecord, type WorkerRuntime,
} from './state/records.ts';
import type { EventDraft, StoredEvent, StoredEventData } from './state/stored-event.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;

/** A message for one worker's sockets, delivered once the events that caused it are durable. */
export interface Notification {
  workerId: string;
  name: 'offer.created' | 'offer.withdrawn' | 'lease.cancelled';
  payload: Record<string, unknown>;
}

export interface Outcome<T = unknown> {
  result?: T;
  error?: OwpError;
  events: StoredEvent[];
  notifications: Notification[];
  /** Set when the answer is a replay of an earlier request with the same idempotency key. */
  replayOf?: IdempotencyRecord;
}

/** A policy hook: returns a refusal (naming its rule) or null. Repo policy-as-code plugs in here. */
export type PolicyCheck = (ctx: { task: TaskRecord; worker: WorkerRecord; repo: RepoSettings; state: State }) => Reasoned | null;

/** One policy rule's verdict for a task and a worker (task.explain with worker_id). */
export interface PolicyVerdict {
  rule: string;
  passed: boolean;
  message: string;
}

/** Every policy rule's verdict, for the dry run; `policy` gives the scheduler the first refusal. */
export type PolicyExplain = (ctx: Parameters<PolicyCheck>[0]) => PolicyVerdict[];

export interface EngineOptions {
  clock: Clock;
  state?: State;
  policy?: PolicyCheck;
  explainPolicy?: PolicyExplain;
  registration?: 'open' | 'closed';
  invites?: readonly string[];
  /** How long finished tasks stay in the live state before they are archived. */
  archiveAfterMs?: number;
  capabilities?: readonly string[];
  name?: string;
}

export class Engine {
  state: State;
  private readonly clock: Clock;
  private readonly policy: PolicyCheck | undefined;
  private readonly options: EngineOptions;
  private events: StoredEvent[] = [];
  private notifications: Notification[] = [];
  /** Workers that recently let an offer of a task pass (declined or expired), with when they may see it again. */
  private readonly passed = new Map<string, Map<string, number>>();
  private dirtyAll = true;
  private readonly dirtyTasks = new Set<string>();
  private readonly dirtyWorkers = new Set<string>();
  private repoCursor = 0;
  private lastTickAt = 0;

  constructor(options: EngineOptions) {
    this.options = options;
    this.clock = options.clock;
    this.state = options.state ?? new State();
    this.policy = options.policy;
  }

  now(): number {
    return this.clock.now();
  }

  info(): Result<'coordinator.info'> {
    return {
      name: this.options.name ?? 'owp-reference',
      protocol_version: PROTOCOL_VERSION,
      supported_versions: [...SUPPORTED_PROTOCOL_VERSIONS],
      capabilities: [...(this.options.capabilities ?? [])],
      limits: { max_payload_bytes: LIMITS.maxPayloadBytes, max_depth: LIMITS.maxDepth, idempotency_key_ttl_ms: IDEMPOTENCY_TTL_MS },
      registration: this.options.registration ?? 'open',
    };
  }

  // ---- command entry -------------------------------------------------------------------------

  /**
   * Runs one operation for a principal. Params must already be schema-valid. Never throws: a
   * refusal comes back as `error` with no events.
   */
  execute(principal: Principal, name: OperationName, params: Record<string, unknown>): Outcome {
    const descriptor = OPERATIONS[name];
    try {
      this.authorize(principal, descriptor.auth, name);
      const key = typeof params.idempotency_key === 'string' ? params.idempotency_key : undefined;
      let idem: IdempotencyRecord | undefined;
      if (descriptor.mutating && !descriptor.idempotentByNature) {
        if (!key) {
          throw new OwpError('IDEMPOTENCY_KEY_REQUIRED', `${name} changes state, so it needs an idempotency_key (any unique string up to 255 characters; reuse it only to retry the same request).`);
        }
        const scope = principalScope(principal);
        const hash = payloadHash(name, params);
        const existing = this.state.idempotency.get(idemKey(scope, key));
        if (existing && existing.at + IDEMPOTENCY_TTL_MS > this.now()) {
          if (existing.hash !== hash || existing.op !== name) {
            throw new OwpError('IDEMPOTENCY_KEY_REUSED', `The idempotency key "${key}" was used for a different ${existing.op} request. Use a new key for a new request.`, { op: existing.op });
          }
          if (name === 'worker.register') return this.collect(() => this.rotateWorkerToken(existing));
          if (name === 'maintainer.create') return this.collect(() => this.rotateMaintainerToken(existing));
          return { result: existing.result, events: [], notifications: [], replayOf: existing };
        }
        idem = { scope, key, op: name, hash, result: undefined, at: this.now() };
      }
      return this.collect(() => {
        const result = this.dispatch(principal, name, params);
        if (idem) {
          idem.result = redactTokens(name, result);
          const first = this.events[0];
          if (!first) throw new Error(`${name} wrote no event; every mutating operation must`);
          first.idem = idem;
          this.state.idempotency.set(idemKey(idem.scope, idem.key), idem);
        }
        return result;
      });
    } catch (error) {
      return { error: toOwpError(error), events: [], notifications: [] };
    }
  }

  /** Runs fn, collecting the events and notifications it writes. Events already applied are kept even if fn throws later. */
  private collect<T>(fn: () => T): Outcome<T> {
    this.events = [];
    this.notifications = [];
    try {
      const result = fn();
      return { result, events: this.events, notifications: this.notifications };
    } catch (error) {
      return { error: toOwpError(error), events: this.events, notifications: this.notifications };
    } finally {
      this.events = [];
      this.notifications = [];
    }
  }

  private emit<K extends JournalEventType>(type: K, refs: JournalEventRefs<K>, data: StoredEventData[K]): StoredEvent {
    // Temporary: the engine split writes drafts directly.
    const draft = { type, ...refs, data } as EventDraft;
    const event: StoredEvent = { ...draft, seq: this.state.seq + 1, at: this.now() };
    this.state.apply(event);
    this.events.push(event);
    return event;
  }

  private notify(workerId: string, name: Notification['name'], payload: Record<string, unknown>): void {
    this.notifications.push({ workerId, name, payload });
  }

  private authorize(principal: Principal, auth: string, name: string): void {
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

  private requireRepoAccess(principal: Principal, repo: string): void {
    if (principal.kind !== 'maintainer' || !scopeCovers(principal.repos, repo)) {
      throw new OwpError('FORBIDDEN', `This maintainer token does not cover ${repo}. Ask the coordinator admin for a token scoped to it.`, { repo });
    }
  }

  private dispatch(p: Principal, name: OperationName, params: Record<string, unknown>): unknown {
    switch (name) {
      case 'coordinator.info': return this.info();
      case 'session.hello': throw new OwpError('UNKNOWN_OPERATION', 'session.hello is handled by the socket binding.');
      case 'worker.register': return this.register(params as Params<'worker.register'>);
      case 'worker.status': return this.workerStatus(this.me(p));
      case 'worker.update': return this.updateWorker(this.me(p), params as Params<'worker.update'>);
      case 'offer.list': return { offers: this.offersOf(this.me(p)) };
      case 'offer.accept': return this.accept(this.me(p), params as Params<'offer.accept'>);
      case 'offer.decline': return this.decline(this.me(p), params as Params<'offer.decline'>);
      case 'task.claim': return this.claim(this.me(p), params as Params<'task.claim'>);
      case 'lease.heartbeat': return this.heartbeat(this.me(p), params as Params<'lease.heartbeat'>);
      case 'lease.release': return this.release(this.me(p), params as Params<'lease.release'>);
      case 'lease.report': return this.report(this.me(p), params as Params<'lease.report'>);
      case 'task.list': return this.listTasks(params as Params<'task.list'>);
      case 'task.get': return { task: this.state.taskView(this.task(params.task_id as string)) };
      case 'task.explain': return this.explain(params.task_id as string, params.worker_id as string | undefined);
      case 'task.create': return this.createTask(p, params as Params<'task.create'>);
      case 'task.update': return this.updateTask(p, params as Params<'task.update'>);
      case 'task.cancel': return this.cancelTask(p, params as Params<'task.cancel'>);
      case 'task.block': return this.blockTask(p, params as Params<'task.block'>);
      case 'task.unblock': return this.unblockTask(p, params as Params<'task.unblock'>);
      case 'task.complete': return this.completeTask(p, params as Params<'task.complete'>);
      case 'lease.cancel': return this.cancelLease(p, params as Params<'lease.cancel'>);
      case 'repo.configure': return this.configureRepo(p, params as Params<'repo.configure'>);
      case 'repo.get': return this.repoView(this.repo(params.repo as string));
      case 'repo.list': return { repos: [...this.state.repos.values()].map((r) => this.repoView(r)) };
      case 'worker.list': return { workers: [...this.state.workers.values()].map((w) => this.state.workerView(w)) };
      case 'worker.set_trust': return this.setTrust(params as Params<'worker.set_trust'>);
      case 'worker.revoke': return this.revokeWorker(params as Params<'worker.revoke'>);
      case 'maintainer.create': return this.createMaintainer(params as Params<'maintainer.create'>);
      case 'journal.read': throw new OwpError('UNKNOWN_OPERATION', 'journal.read is served by the runtime from the store.');
      case 'metrics.get': return this.metrics(params.repo as string | undefined);
    }
  }

  // ---- lookups -------------------------------------------------------------------------------

  private me(p: Principal): WorkerRuntime {
    if (p.kind !== 'worker') throw new OwpError('FORBIDDEN', 'This operation is for workers.');
    const w = this.state.workers.get(p.id);
    if (!w || w.record.revoked) throw new OwpError('UNAUTHENTICATED', 'This worker token was revoked. Register again or ask the maintainer.');
    return w;
  }

  private task(id: string): TaskRecord {
    const task = this.state.tasks.get(id);
    if (!task) throw new OwpError('NOT_FOUND', `No live task ${id}. It may never have existed or may be archived; list tasks to see what is open.`, { task_id: id });
    return task;
  }

  private repo(id: string): RepoRuntime {
    const repo = this.state.repos.get(id);
    if (!repo) throw new OwpError('NOT_FOUND', `No repo ${id} on this coordinator. A maintainer creates it with repo.configure.`, { repo: id });
    return repo;
  }

  private holderLease(w: WorkerRuntime, leaseId: string, epoch: number): { lease: LeaseRecord; task: TaskRecord } {
    const lease = this.state.leases.get(leaseId);
    if (!lease) {
      throw new OwpError('LEASE_EXPIRED', `Lease ${leaseId} is no longer live (expired, released, cancelled or completed). Stop work on it; if the task is still ready you may claim it again.`, { lease_id: leaseId });
    }
    if (lease.worker_id !== w.record.id) throw new OwpError('NOT_HOLDER', `Lease ${leaseId} belongs to another worker.`, { lease_id: leaseId });
    const task = this.task(lease.task_id);
    if (epoch !== task.epoch || epoch !== lease.epoch) {
      throw new OwpError('STALE_EPOCH', `Epoch ${epoch} is stale for task ${task.id} (current ${task.epoch}). This holder lost the lease; stop work on it.`, { task_id: task.id, epoch, current_epoch: task.epoch });
    }
    if (lease.expires_at <= this.now()) {
      throw new OwpError('LEASE_EXPIRED', `Lease ${leaseId} passed its deadline and is being requeued. Stop work on it.`, { lease_id: leaseId });
    }
    return { lease, task };
  }

  // ---- workers -------------------------------------------------------------------------------

  private register(params: Params<'worker.register'>): Result<'worker.register'> {
    if (this.options.registration === 'closed') {
      const invited = params.invite !== undefined && (this.options.invites ?? []).includes(params.invite);
      if (!invited) throw new OwpError('REGISTRATION_CLOSED', 'This coordinator only accepts invited workers. Ask its maintainers for an invite code.');
    }
    const token = newToken('worker');
    const { idempotency_key: _k, invite: _i, ...profile } = params;
    const record: WorkerRecord = {
      ...profile,
      id: `W-${this.state.counters.worker + 1}`,
      trust: 0,
      registered_at: this.now(),
      token_hash: hashToken(token),
    };
    this.emit('worker.registered', { worker_id: record.id }, { worker: record });
    return { worker: this.state.workerView(this.state.mustWorker(record.id)), token };
  }

  private rotateWorkerToken(existing: IdempotencyRecord): Result<'worker.register'> {
    const previous = existing.result as { worker: { id: string } };
    const w = this.state.mustWorker(previous.worker.id);
    if (w.record.revoked) throw new OwpError('UNAUTHENTICATED', 'This worker was revoked; register with a new idempotency key.');
    const token = newToken('worker');
    this.emit('worker.token_rotated', { worker_id: w.record.id }, { token_hash: hashToken(token) });
    return { worker: this.state.workerView(w), token };
  }

  private rotateMaintainerToken(existing: IdempotencyRecord): Result<'maintainer.create'> {
    const previous = existing.result as { maintainer: { id: string; name: string; repos: string[] } };
    const token = newToken('maintainer');
    const m = this.state.maintainers.get(previous.maintainer.id);
    if (!m) throw new OwpError('NOT_FOUND', 'The maintainer of this idempotency key is gone.');
    this.emit('maintainer.created', {}, { id: m.id, name: m.name, repos: m.repos, token_hash: hashToken(token) });
    return { maintainer: { id: m.id, name: m.name, repos: [...m.repos] }, token };
  }

  private workerStatus(w: WorkerRuntime): Result<'worker.status'> {
    return { worker: this.state.workerView(w), offers: this.offersOf(w), leases: this.leasesOf(w) };
  }

  offersOf(w: WorkerRuntime): Result<'offer.list'>['offers'] {
    const id = w.openOfferId;
    const offer = id ? this.state.offers.get(id) : undefined;
    return offer ? [this.state.offerView(offer)] : [];
  }

  leasesOf(w: WorkerRuntime): Result<'worker.status'>['leases'] {
    const out = [];
    for (const taskId of w.holding.keys()) {
      const task = this.state.tasks.get(taskId);
      const lease = task?.current_lease_id ? this.state.leases.get(task.current_lease_id) : undefined;
      if (lease && lease.worker_id === w.record.id) out.push(this.state.leaseView(lease));
    }
    return out;
  }

  private updateWorker(w: WorkerRuntime, params: Params<'worker.update'>): Result<'worker.update'> {
    const { idempotency_key: _k, ...changes } = params;
    this.emit('worker.updated', { worker_id: w.record.id }, { changes });
    this.markWorker(w.record.id);
    this.withdrawIfIneligible(w);
    return { worker: this.state.workerView(w) };
  }

  /** Applies a hello's profile without an idempotency key (setting values is idempotent by nature). */
  applyProfile(workerId: string, profile: Record<string, unknown>): Outcome {
    return this.collect(() => {
      const w = this.state.mustWorker(workerId);
      const changes: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(profile)) {
        if (JSON.stringify((w.record as Record<string, unknown>)[k]) !== JSON.stringify(v)) changes[k] = v;
      }
      if (Object.keys(changes).length > 0) {
        this.emit('worker.updated', { worker_id: workerId }, { changes });
        this.markWorker(workerId);
        this.withdrawIfIneligible(w);
      }
      return undefined;
    });
  }

  private withdrawIfIneligible(w: WorkerRuntime): void {
    const offerId = w.openOfferId;
    const offer = offerId ? this.state.offers.get(offerId) : undefined;
    if (!offer) return;
    const task = this.state.tasks.get(offer.task_id);
    if (!task) return;
    const reasons = this.workerReasons(task, w, { holdingTask: true, forOffer: true });
    if (reasons.length > 0) this.withdrawOffer(offer.offer_id, `worker no longer eligible: ${reasons[0]?.message}`);
  }

  private setTrust(params: Params<'worker.set_trust'>): Result<'worker.set_trust'> {
    const w = this.state.workers.get(params.worker_id);
    if (!w) throw new OwpError('NOT_FOUND', `No worker ${params.worker_id}.`);
    this.emit('worker.trust_changed', { worker_id: w.record.id }, { trust: params.trust, previous: w.record.trust });
    this.markWorker(w.record.id);
    this.withdrawIfIneligible(w);
    return { worker: this.state.workerView(w) };
  }

  private revokeWorker(params: Params<'worker.revoke'>): Result<'worker.revoke'> {
    const w = this.state.workers.get(params.worker_id);
    if (!w) throw new OwpError('NOT_FOUND', `No worker ${params.worker_id}.`);
    const reason = params.reason ?? 'worker revoked';
    for (const taskId of [...w.holding.keys()]) {
      const task = this.state.tasks.get(taskId);
      if (!task) continue;
      if (task.state === 'offered') this.withdrawOffer(task.current_offer_id as string, reason);
      else if (task.current_lease_id) this.endLeaseWithRequeue(task, 'lease.cancelled', reason, 'lease_cancelled');
    }
    this.emit('worker.revoked', { worker_id: w.record.id }, { reason });
    return { worker: this.state.workerView(w) };
  }

  private createMaintainer(params: Params<'maintainer.create'>): Result<'maintainer.create'> {
    const token = newToken('maintainer');
    const id = `M-${this.state.counters.maintainer + 1}`;
    this.emit('maintainer.created', {}, { id, name: params.name, repos: params.repos, token_hash: hashToken(token) });
    return { maintainer: { id, name: params.name, repos: [...params.repos] }, token };
  }

  /** Creates the bootstrap admin (a maintainer scoped to `*`) from a token the operator holds. */
  bootstrapAdmin(token: string): Outcome {
    return this.collect(() => {
      const hash = hashToken(token);
      if (this.state.tokenIndex.has(hash)) return undefined;
      const id = `M-${this.state.counters.maintainer + 1}`;
      this.emit('maintainer.created', {}, { id, name: 'admin', repos: ['*'], token_hash: hash });
      return undefined;
    });
  }

  /** Resolves a bearer token to a principal, or null when unknown or revoked. */
  authenticate(token: string | undefined): Principal | null {
    if (!token) return null;
    const entry = this.state.tokenIndex.get(hashToken(token));
    if (!entry) return null;
    if (entry.kind === 'worker') {
      const w = this.state.workers.get(entry.id);
      return w && !w.record.revoked ? { kind: 'worker', id: entry.id } : null;
    }
    const m = this.state.maintainers.get(entry.id);
    if (!m) return null;
    return { kind: 'maintainer', id: m.id, repos: m.repos, admin: m.repos.includes('*') };
  }

  // ---- connections -----------------------------------------------------------------------------

  connected(workerId: string): Outcome {
    return this.collect(() => {
      const w = this.state.mustWorker(workerId);
      w.sockets += 1;
      w.lastSeenAt = this.now();
      if (!w.online) {
        this.emit('worker.connected', { worker_id: workerId }, {});
        this.markWorker(workerId);
      }
      return undefined;
    });
  }

  disconnected(workerId: string): Outcome {
    return this.collect(() => {
      const w = this.state.workers.get(workerId);
      if (!w) return undefined;
      w.sockets = Math.max(0, w.sockets - 1);
      if (w.sockets === 0 && w.online) {
        if (w.openOfferId) this.withdrawOffer(w.openOfferId, 'worker disconnected');
        // Leases stay: the worker may reconnect and resume them before its heartbeat deadline.
        this.emit('worker.disconnected', { worker_id: workerId }, {});
      }
      return undefined;
    });
  }

  seen(workerId: string): void {
    const w = this.state.workers.get(workerId);
    if (w) w.lastSeenAt = this.now();
  }

  // ---- offers and leases -----------------------------------------------------------------------

  private accept(w: WorkerRuntime, params: Params<'offer.accept'>): Result<'offer.accept'> {
    const offer = this.state.offers.get(params.offer_id);
    if (!offer) throw new OwpError('OFFER_EXPIRED', `Offer ${params.offer_id} is no longer open (it expired, was withdrawn or was already answered). Wait for the next offer or claim a ready task.`, { offer_id: params.offer_id });
    if (offer.worker_id !== w.record.id) throw new OwpError('NOT_HOLDER', `Offer ${params.offer_id} was made to another worker.`);
    if (offer.deadline_at <= this.now()) throw new OwpError('OFFER_EXPIRED', `Offer ${params.offer_id} passed its deadline.`, { offer_id: offer.offer_id, deadline_at: offer.deadline_at });
    const task = this.task(offer.task_id);
    this.assertEligible(task, w, { holdingTask: true });
    return this.grantLease(task, w, 'offer', offer.offer_id);
  }

  private claim(w: WorkerRuntime, params: Params<'task.claim'>): Result<'task.claim'> {
    const task = this.task(params.task_id);
    if (task.state === 'offered' && task.current_offer_id && this.state.offers.get(task.current_offer_id)?.worker_id === w.record.id) {
      return this.accept(w, { offer_id: task.current_offer_id });
    }
    if (task.state !== 'ready') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}, not ready; only ready tasks can be claimed.`, { from: task.state, to: 'leased' });
    }
    this.assertEligible(task, w, { holdingTask: false });
    return this.grantLease(task, w, 'claim');
  }

  private grantLease(task: TaskRecord, w: WorkerRuntime, via: 'offer' | 'claim', offerId?: string): { lease: ReturnType<State['leaseView']>; task: Task } {
    const settings = this.repo(task.repo).settings;
    const now = this.now();
    const maxDeadline = now + settings.lease_max_duration_ms;
    const leaseId = `L-${this.state.counters.lease + 1}`;
    this.emit('lease.granted', { repo: task.repo, task_id: task.id, worker_id: w.record.id }, {
      lease_id: leaseId,
      epoch: task.epoch + 1,
      expires_at: Math.min(now + settings.heartbeat_timeout_ms, maxDeadline),
      max_deadline_at: maxDeadline,
      via,
      ...(offerId ? { offer_id: offerId } : {}),
    });
    const lease = this.state.leases.get(leaseId) as LeaseRecord;
    return { lease: this.state.leaseView(lease), task: this.state.taskView(task) };
  }

  private decline(w: WorkerRuntime, params: Params<'offer.decline'>): Result<'offer.decline'> {
    const offer = this.state.offers.get(params.offer_id);
    if (!offer) throw new OwpError('OFFER_EXPIRED', `Offer ${params.offer_id} is no longer open.`, { offer_id: params.offer_id });
    if (offer.worker_id !== w.record.id) throw new OwpError('NOT_HOLDER', `Offer ${params.offer_id} was made to another worker.`);
    const task = this.task(offer.task_id);
    const settings = this.repo(task.repo).settings;
    const attempts = task.attempts + 1;
    const blocked = attempts >= settings.max_attempts;
    this.emit('offer.declined', { repo: task.repo, task_id: task.id, worker_id: w.record.id }, {
      offer_id: offer.offer_id,
      attempts,
      to: blocked ? 'blocked' : 'ready',
      ...(params.reason ? { reason: params.reason } : {}),
      ...(blocked ? { blocked_reason: `blocked after ${attempts} attempts (max_attempts ${settings.max_attempts})` } : {}),
    });
    this.markPassed(task.id, w.record.id, settings.offer_timeout_ms);
    this.markWorker(w.record.id);
    this.markTask(task.id);
    return { task: this.state.taskView(task) };
  }

  private heartbeat(w: WorkerRuntime, params: Params<'lease.heartbeat'>): Result<'lease.heartbeat'> {
    const { lease } = this.holderLease(w, params.lease_id, params.epoch);
    const settings = this.repo(lease.repo).settings;
    const now = this.now();
    // Renewal is not journaled: after a restart every live lease gets a fresh heartbeat window (SPEC §5.5).
    lease.expires_at = Math.min(now + settings.heartbeat_timeout_ms, lease.max_deadline_at);
    w.lastSeenAt = now;
    return { lease: this.state.leaseView(lease) };
  }

  private release(w: WorkerRuntime, params: Params<'lease.release'>): Result<'lease.release'> {
    const { task } = this.holderLease(w, params.lease_id, params.epoch);
    this.endLeaseWithRequeue(task, 'lease.released', params.reason ?? 'released by worker', 'release', false);
    this.markWorker(w.record.id);
    return { task: this.state.taskView(task) };
  }

  private report(w: WorkerRuntime, params: Params<'lease.report'>): Result<'lease.report'> {
    const { lease, task } = this.holderLease(w, params.lease_id, params.epoch);
    const refs = { repo: task.repo, task_id: task.id, worker_id: w.record.id };
    switch (params.state) {
      case 'in_progress':
        if (task.state !== 'leased') {
          throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is already ${task.state}; in_progress is reported once, after leased.`, { from: task.state, to: 'in_progress' });
        }
        this.emit('task.started', refs, { lease_id: lease.lease_id });
        break;
      case 'pr_opened': {
        if (!params.pr) throw new OwpError('VALIDATION_FAILED', 'pr_opened needs pr: { url, gates } describing the pull request and its gate evidence.', { errors: [{ path: '/pr', message: 'required for pr_opened' }] });
        const required = this.repo(task.repo).settings.required_gates;
        const passed = new Set(params.pr.gates.filter((g) => g.passed).map((g) => g.name));
        const missing = required.filter((g) => !passed.has(g));
        if (missing.length > 0) {
          throw new OwpError('GATES_MISSING', `${task.repo} requires passing evidence for ${missing.join(', ')} before a PR counts as opened. Run the repo's gates and report their results.`, { missing, required });
        }
        this.emit('pr.opened', refs, { lease_id: lease.lease_id, pr: { ...params.pr, opened_at: params.pr.opened_at ?? this.now() } });
        this.markWorker(w.record.id);
        break;
      }
      case 'blocked': {
        const reason = params.reason?.trim();
        if (!reason) throw new OwpError('VALIDATION_FAILED', 'blocked needs a reason the maintainer can act on.', { errors: [{ path: '/reason', message: 'required for blocked' }] });
        this.emit('task.blocked', refs, { reason, by: 'worker', lease_id: lease.lease_id });
        this.markWorker(w.record.id);
        break;
      }
    }
    return { task: this.state.taskView(task) };
  }

  /** Ends a task's lease and returns it to ready, or to blocked once its attempts are used up. */
  private endLeaseWithRequeue(task: TaskRecord, type: 'lease.released' | 'lease.expired' | 'lease.cancelled', reason: string, cause: string, notifyHolder = true, extra: Record<string, unknown> = {}): void {
    const lease = this.state.leases.get(task.current_lease_id as string) as LeaseRecord;
    const settings = this.repo(task.repo).settings;
    const attempts = task.attempts + 1;
    const blocked = attempts >= settings.max_attempts;
    this.emit(type, { repo: task.repo, task_id: task.id, worker_id: lease.worker_id }, {
      lease_id: lease.lease_id,
      epoch: lease.epoch,
      reason,
      attempts,
      to: blocked ? 'blocked' : 'ready',
      ...(blocked ? { blocked_reason: `blocked after ${attempts} attempts (max_attempts ${settings.max_attempts}); last: ${reason}` } : {}),
      ...extra,
    });
    if (notifyHolder) this.notify(lease.worker_id, 'lease.cancelled', { lease_id: lease.lease_id, task_id: task.id, epoch: lease.epoch, reason, cause });
    this.markWorker(lease.worker_id);
    this.markTask(task.id);
  }

  private withdrawOffer(offerId: string, reason: string, type: 'offer.withdrawn' | 'offer.expired' = 'offer.withdrawn'): void {
    const offer = this.state.offers.get(offerId);
    if (!offer) return;
    const task = this.state.mustTask(offer.task_id);
    this.emit(type, { repo: offer.repo, task_id: offer.task_id, worker_id: offer.worker_id }, { offer_id: offerId, reason, to: 'ready' });
    this.notify(offer.worker_id, 'offer.withdrawn', { offer_id: offerId, task_id: task.id, reason });
    this.markTask(task.id);
    this.markWorker(offer.worker_id);
  }

  // ---- maintainer operations ---------------------------------------------------------------------

  private configureRepo(p: Principal, params: Params<'repo.configure'>): Result<'repo.configure'> {
    this.requireRepoAccess(p, params.repo);
    const { idempotency_key: _k, ...changes } = params;
    const current = this.state.repos.get(params.repo)?.settings ?? defaultRepoSettings(params.repo);
    // A policy's budget sets the repo's budget settings, unless the same call sets them itself.
    const settings = { ...current, ...(changes.policy?.budget ?? {}), ...changes } as RepoSettings;
    this.emit('repo.configured', { repo: params.repo }, { settings });
    const repo = this.repo(params.repo);
    this.dirtyAll = true;
    return { settings: repo.settings, budget: this.budget(repo) };
  }

  private createTask(p: Principal, params: Params<'task.create'>): Result<'task.create'> {
    this.requireRepoAccess(p, params.repo);
    this.repo(params.repo);
    const { idempotency_key: _k, ...fields } = params;
    const now = this.now();
    const task: TaskRecord = {
      body: '',
      tier: 0,
      effort: 1,
      skills: [],
      priority: 0,
      acceptance: [],
      ...fields,
      id: `T-${this.state.counters.task + 1}`,
      state: 'ready',
      attempts: 0,
      epoch: 0,
      created_at: now,
      updated_at: now,
    };
    this.emit('task.created', { repo: task.repo, task_id: task.id }, { task });
    // A new task frees nothing for others, so only it is tried: a full pass here costs every ready task × every idle worker.
    this.dirtyTasks.add(task.id);
    return { task: this.state.taskView(task) };
  }

  private maintainedTask(p: Principal, taskId: string): TaskRecord {
    const task = this.task(taskId);
    this.requireRepoAccess(p, task.repo);
    return task;
  }

  private updateTask(p: Principal, params: Params<'task.update'>): Result<'task.update'> {
    const task = this.maintainedTask(p, params.task_id);
    const { idempotency_key: _k, task_id: _t, ...changes } = params;
    const scheduling = ['area', 'tier', 'effort', 'skills'].filter((k) => k in changes);
    if (scheduling.length > 0 && task.state !== 'ready' && task.state !== 'blocked') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; ${scheduling.join(', ')} can change only while it is ready or blocked.`, { from: task.state, fields: scheduling });
    }
    if (isTerminal(task.state)) throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state} and can no longer change.`, { from: task.state });
    this.emit('task.updated', { repo: task.repo, task_id: task.id }, { changes });
    this.markTask(task.id);
    return { task: this.state.taskView(task) };
  }

  private cancelTask(p: Principal, params: Params<'task.cancel'>): Result<'task.cancel'> {
    const task = this.maintainedTask(p, params.task_id);
    if (isTerminal(task.state)) throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is already ${task.state}.`, { from: task.state, to: 'closed' });
    this.closeTask(task, params.reason ?? 'cancelled by maintainer', 'maintainer');
    return { task: this.state.taskView(task) };
  }

  /** Closes a task without a PR outcome; tells the holder of an offer or lease. */
  closeTask(task: TaskRecord, reason: string, by: 'maintainer'): void {
    const holder = this.holderOf(task);
    this.emit('task.closed', { repo: task.repo, task_id: task.id, ...(holder ? { worker_id: holder.workerId } : {}) }, { reason, by, ...(holder?.leaseId ? { lease_id: holder.leaseId } : {}) });
    this.tellHolder(holder, task.id, reason, 'task_closed');
    this.dirtyAll = true;
  }

  private holderOf(task: TaskRecord): { workerId: string; leaseId?: string; offerId?: string; epoch?: number } | undefined {
    const lease = task.current_lease_id ? this.state.leases.get(task.current_lease_id) : undefined;
    if (lease) return { workerId: lease.worker_id, leaseId: lease.lease_id, epoch: lease.epoch };
    const offer = task.current_offer_id ? this.state.offers.get(task.current_offer_id) : undefined;
    if (offer) return { workerId: offer.worker_id, offerId: offer.offer_id };
    return undefined;
  }

  private tellHolder(holder: ReturnType<Engine['holderOf']>, taskId: string, reason: string, cause: string): void {
    if (!holder) return;
    if (holder.leaseId) this.notify(holder.workerId, 'lease.cancelled', { lease_id: holder.leaseId, task_id: taskId, epoch: holder.epoch, reason, cause });
    else if (holder.offerId) this.notify(holder.workerId, 'offer.withdrawn', { offer_id: holder.offerId, task_id: taskId, reason });
    this.markWorker(holder.workerId);
  }

  private blockTask(p: Principal, params: Params<'task.block'>): Result<'task.block'> {
    const task = this.maintainedTask(p, params.task_id);
    if (!['ready', 'offered', 'leased', 'in_progress'].includes(task.state)) {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; only ready, offered, leased or in-progress tasks can be blocked.`, { from: task.state, to: 'blocked' });
    }
    const holder = this.holderOf(task);
    this.emit('task.blocked', { repo: task.repo, task_id: task.id, ...(holder ? { worker_id: holder.workerId } : {}) }, { reason: params.reason, by: 'maintainer' });
    this.tellHolder(holder, task.id, params.reason, 'task_blocked');
    this.dirtyAll = true;
    return { task: this.state.taskView(task) };
  }

  private unblockTask(p: Principal, params: Params<'task.unblock'>): Result<'task.unblock'> {
    const task = this.maintainedTask(p, params.task_id);
    if (task.state !== 'blocked') throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}, not blocked.`, { from: task.state, to: 'ready' });
    this.emit('task.unblocked', { repo: task.repo, task_id: task.id }, {});
    this.passed.delete(task.id);
    this.markTask(task.id);
    return { task: this.state.taskView(task) };
  }

  private completeTask(p: Principal, params: Params<'task.complete'>): Result<'task.complete'> {
    const task = this.maintainedTask(p, params.task_id);
    if (params.outcome === 'merged' && task.state !== 'pr_opened') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; only a task with an open PR can be merged.`, { from: task.state, to: 'merged' });
    }
    if (params.outcome === 'closed' && task.state !== 'pr_opened') {
      throw new OwpError('INVALID_TRANSITION', `Task ${task.id} is ${task.state}; task.complete records a PR outcome. Use task.cancel to close a task without a PR.`, { from: task.state, to: 'closed' });
    }
    this.recordPrOutcome(task, params.outcome, params.reason);
    return { task: this.state.taskView(task) };
  }

  /** PR merged or closed: frees the budget unit and the area lock (also used by GitHub sync). */
  recordPrOutcome(task: TaskRecord, outcome: 'merged' | 'closed', reason?: string): void {
    this.emit(outcome === 'merged' ? 'task.merged' : 'task.closed', { repo: task.repo, task_id: task.id }, { ...(reason ? { reason } : {}), by: 'maintainer', outcome });
    this.dirtyAll = true;
  }

  private cancelLease(p: Principal, params: Params<'lease.cancel'>): Result<'lease.cancel'> {
    const lease = this.state.leases.get(params.lease_id);
    if (!lease) throw new OwpError('LEASE_EXPIRED', `Lease ${params.lease_id} is not live.`, { lease_id: params.lease_id });
    const task = this.maintainedTask(p, lease.task_id);
    this.endLeaseWithRequeue(task, 'lease.cancelled', params.reason ?? 'cancelled by maintainer', 'lease_cancelled');
    return { task: this.state.taskView(task) };
  }

  // ---- reads -------------------------------------------------------------------------------------

  private listTasks(params: Params<'task.list'>): Result<'task.list'> {
    const limit = params.limit ?? 200;
    const out: Task[] = [];
    for (const task of this.state.tasks.values()) {
      if (params.repo && task.repo !== params.repo) continue;
      if (params.state && task.state !== params.state) continue;
      out.push(this.state.taskView(task));
    }
    out.sort((a, b) => b.updated_at - a.updated_at || Number(b.id.slice(2)) - Number(a.id.slice(2)));
    return { tasks: out.slice(0, limit) };
  }

  budget(repo: RepoRuntime): Budget {
    const s = repo.settings;
    const c = repo.counts;
    const liveLeases = this.state.liveLeaseCount(repo);
    const prsLastHour = this.prsLastHour(repo);
    const reserved = c.pr_opened + liveLeases + c.offered;
    return {
      open_prs: c.pr_opened,
      live_leases: liveLeases,
      open_offers: c.offered,
      max_open_prs: s.max_open_prs,
      prs_last_hour: prsLastHour,
      max_new_prs_per_hour: s.max_new_prs_per_hour,
      throttled: reserved >= s.max_open_prs || prsLastHour + liveLeases + c.offered >= s.max_new_prs_per_hour,
    };
  }

  repoView(repo: RepoRuntime): Result<'repo.get'> {
    return { settings: repo.settings, budget: this.budget(repo), locks: Object.fromEntries(repo.locks) };
  }

  /** PRs opened in the rolling hour before now. A pure read: the list is pruned only by apply. */
  private prsLastHour(repo: RepoRuntime): number {
    const since = this.now() - HOUR_MS;
    let n = 0;
    for (let i = repo.prTimes.length - 1; i >= 0 && (repo.prTimes[i] as number) > since; i -= 1) n += 1;
    return n;
  }

  metrics(repoId?: string): Metrics {
    const repo = repoId ? this.repo(repoId) : undefined;
    const stats = repo ? repo.stats : this.state.stats;
    const byState: Record<string, number> = {};
    const repos = repo ? [repo] : [...this.state.repos.values()];
    for (const r of repos) for (const [s, n] of Object.entries(r.counts)) byState[s] = (byState[s] ?? 0) + n;
    let online = 0;
    let capacity = 0;
    let used = 0;
    for (const w of this.state.workers.values()) {
      if (!w.online) continue;
      online += 1;
      capacity += w.record.capacity;
      for (const taskId of w.holding.keys()) {
        const task = this.state.tasks.get(taskId);
        if (task && LEASED_STATES.includes(task.state)) used += task.effort;
      }
    }
    const lead = [...stats.lead_times_ms].sort((a, b) => a - b);
    const quantile = (q: number): number | null => (lead.length === 0 ? null : (lead[Math.min(lead.length - 1, Math.floor(q * lead.length))] as number));
    const outcomes = stats.prs_merged + stats.prs_closed;
    return {
      tasks_by_state: byState,
      workers_online: online,
      workers_registered: this.state.workers.size,
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
      journal_seq: this.state.seq,
    };
  }

  // ---- eligibility -------------------------------------------------------------------------------

  /** Repo-level reasons a task cannot be leased now (paused, area lock, budget). */
  repoReasons(task: TaskRecord, repo: RepoRuntime, opts: { alreadyCounted: boolean }): Reasoned[] {
    const reasons: Reasoned[] = [];
    const s = repo.settings;
    if (s.paused) reasons.push({ code: 'paused', message: `${s.repo} is paused by its maintainers` });
    if (task.area !== undefined) {
      const holder = repo.locks.get(task.area);
      if (holder !== undefined && holder !== task.id) {
        reasons.push({ code: 'area_locked', message: `area ${task.area} held by ${holder}`, details: { area: task.area, held_by: holder } });
      }
    }
    const extra = opts.alreadyCounted ? 0 : 1;
    const c = repo.counts;
    const live = this.state.liveLeaseCount(repo);
    const reserved = c.pr_opened + live + c.offered;
    if (reserved + extra > s.max_open_prs) {
      reasons.push({ code: 'budget_open_prs', message: `budget ${reserved}/${s.max_open_prs} open (PRs, leases and offers)`, details: { open_prs: c.pr_opened, live_leases: live, open_offers: c.offered, max_open_prs: s.max_open_prs } });
    }
    const hourly = this.prsLastHour(repo) + live + c.offered;
    if (hourly + extra > s.max_new_prs_per_hour) {
      reasons.push({ code: 'budget_hourly', message: `hourly budget ${hourly}/${s.max_new_prs_per_hour} (PRs this hour, leases and offers)`, details: { prs_last_hour: this.prsLastHour(repo), max_new_prs_per_hour: s.max_new_prs_per_hour } });
    }
    return reasons;
  }

  /** Worker-level reasons (capacity, skills, trust, policy). */
  workerReasons(task: TaskRecord, w: WorkerRuntime, opts: { holdingTask: boolean; forOffer?: boolean }): Reasoned[] {
    const reasons: Reasoned[] = [];
    const rec = w.record;
    if (rec.revoked) reasons.push({ code: 'revoked', message: `worker ${rec.id} is revoked` });
    if (opts.forOffer && !w.online) reasons.push({ code: 'offline', message: `worker ${rec.id} is offline` });
    const free = w.free + (opts.holdingTask ? (w.holding.get(task.id) ?? 0) : 0);
    if (free < task.effort) reasons.push({ code: 'capacity', message: `needs ${task.effort} free capacity points, worker has ${free}`, details: { effort: task.effort, free } });
    const missing = task.skills.filter((s) => !rec.skills.includes(s));
    if (missing.length > 0) reasons.push({ code: 'skills', message: `missing skill ${missing.join(', ')}`, details: { missing } });
    if (rec.trust < task.tier) reasons.push({ code: 'trust', message: `tier ${task.tier} needs trust ≥ ${task.tier}, worker has ${rec.trust}`, details: { tier: task.tier, trust: rec.trust } });
    if (this.policy) {
      const repo = this.state.repos.get(task.repo);
      const refusal = repo ? this.policy({ task, worker: rec, repo: repo.settings, state: this.state }) : null;
      if (refusal) reasons.push({ ...refusal, code: refusal.code.startsWith('policy') ? refusal.code : `policy:${refusal.code}` });
    }
    return reasons;
  }

  private assertEligible(task: TaskRecord, w: WorkerRuntime, opts: { holdingTask: boolean }): void {
    const repo = this.repo(task.repo);
    const repoReasons = this.repoReasons(task, repo, { alreadyCounted: opts.holdingTask });
    const workerReasons = this.workerReasons(task, w, { holdingTask: opts.holdingTask });
    const first = repoReasons[0] ?? workerReasons[0];
    if (!first) return;
    const all = [...repoReasons, ...workerReasons];
    const details = { task_id: task.id, reasons: all };
    if (first.code === 'area_locked') throw new OwpError('AREA_LOCKED', `Task ${task.id} cannot be leased: ${first.message}. Pick a task in another area or wait.`, details);
    if (first.code.startsWith('budget')) throw new OwpError('BUDGET_EXHAUSTED', `${task.repo} is at its review budget: ${first.message}. Wait until PRs are reviewed.`, details);
    if (first.code.startsWith('policy')) throw new OwpError('POLICY_DENIED', `A policy rule of ${task.repo} refuses this: ${first.message}.`, { ...details, rule: first.details?.rule ?? first.code });
    throw new OwpError('NOT_ELIGIBLE', `You cannot take ${task.id}: ${all.map((r) => r.message).join('; ')}.`, details);
  }

  explain(taskId: string, workerId?: string): Result<'task.explain'> {
    const task = this.task(taskId);
    const repo = this.repo(task.repo);
    const verdicts = workerId ? this.policyVerdicts(task, repo, workerId) : undefined;
    const policy = verdicts ? { policy: verdicts } : {};
    if (task.state !== 'ready') {
      const reason: Reasoned = { code: `state_${task.state}`, message: `task is ${task.state}${task.blocked_reason ? `: ${task.blocked_reason}` : ''}` };
      return { task_id: task.id, state: task.state, offerable: false, reasons: [reason], eligible_workers: 0, ...policy };
    }
    const reasons = this.repoReasons(task, repo, { alreadyCounted: false });
    let eligible = 0;
    const tally = new Map<string, { count: number; reason: Reasoned }>();
    const workers = workerId ? [this.state.workers.get(workerId)].filter((w): w is WorkerRuntime => w !== undefined) : [...this.state.workers.values()];
    for (const w of workers) {
      if (w.record.revoked) continue;
      const wr = this.workerReasons(task, w, { holdingTask: false, forOffer: true });
      if (wr.length === 0) {
        eligible += 1;
        continue;
      }
      for (const r of wr) {
        const key = r.code === 'skills' ? `skills:${JSON.stringify(r.details?.missing)}` : r.code;
        const entry = tally.get(key) ?? { count: 0, reason: r };
        entry.count += 1;
        tally.set(key, entry);
      }
    }
    if (eligible === 0) {
      if (workers.length === 0) reasons.push({ code: 'no_workers', message: workerId ? `no worker ${workerId}` : 'no workers have joined the pool' });
      else {
        const top = [...tally.values()].sort((a, b) => b.count - a.count)[0];
        const why = top ? summarizeWorkerReason(task, top.reason) : 'no eligible worker';
        reasons.push({ code: 'no_eligible_worker', message: why, details: { workers_considered: workers.length, reasons: [...tally.values()].map((t) => ({ ...t.reason, workers: t.count })) } });
      }
    }
    return { task_id: task.id, state: task.state, offerable: reasons.length === 0, reasons, eligible_workers: eligible, ...policy };
  }

  /** The dry run of a repo's policy for one worker: every rule, passed or not, budget rules included. */
  private policyVerdicts(task: TaskRecord, repo: RepoRuntime, workerId: string): PolicyVerdict[] | undefined {
    const w = this.state.workers.get(workerId);
    if (!w) return undefined;
    const verdicts = this.options.explainPolicy?.({ task, worker: w.record, repo: repo.settings, state: this.state }) ?? [];
    const budget = this.repoReasons(task, repo, { alreadyCounted: ACTIVE_STATES.includes(task.state) });
    for (const [rule, code] of [['max_open_prs', 'budget_open_prs'], ['max_new_prs_per_hour', 'budget_hourly']] as const) {
      const refusal = budget.find((r) => r.code === code);
      verdicts.push({ rule, passed: !refusal, message: refusal ? refusal.message : `within ${rule} ${repo.settings[rule]}` });
    }
    return verdicts;
  }

  // ---- scheduling --------------------------------------------------------------------------------

  markTask(taskId: string): void {
    this.dirtyTasks.add(taskId);
    const task = this.state.tasks.get(taskId);
    // A task leaving an active state frees its area and budget for the rest of its repo.
    if (task && !ACTIVE_STATES.includes(task.state)) this.dirtyAll = true;
  }

  markWorker(workerId: string): void {
    this.dirtyWorkers.add(workerId);
  }

  /** Marks everything for a full scheduling pass (after recovery or a settings change). */
  markAllDirty(): void {
    this.dirtyAll = true;
  }

  hasDirty(): boolean {
    return this.dirtyAll || this.dirtyTasks.size > 0 || this.dirtyWorkers.size > 0;
  }

  private markPassed(taskId: string, workerId: string, forMs: number): void {
    let m = this.passed.get(taskId);
    if (!m) this.passed.set(taskId, (m = new Map()));
    m.set(workerId, this.now() + forMs);
  }

  private hasPassed(taskId: string, workerId: string): boolean {
    const until = this.passed.get(taskId)?.get(workerId);
    return until !== undefined && until > this.now();
  }

  private candidates(): WorkerRuntime[] {
    const out: WorkerRuntime[] = [];
    for (const w of this.state.workers.values()) {
      if (w.online && !w.record.revoked && w.openOfferId === undefined && w.free > 0) out.push(w);
    }
    return out;
  }

  /** Makes offers: each ready task, in priority then age order, to the least recently offered eligible idle worker. */
  schedule(): Outcome<number> {
    return this.collect(() => {
      if (!this.hasDirty()) return 0;
      const full = this.dirtyAll;
      const tasks = [...this.dirtyTasks];
      const workers = [...this.dirtyWorkers];
      this.dirtyAll = false;
      this.dirtyTasks.clear();
      this.dirtyWorkers.clear();
      const pool = this.candidates();
      if (pool.length === 0) return 0;
      let offers = 0;
      const poolSet = new Set(pool);
      // Within one pass a worker only gets less eligible (offers use its capacity, and it leaves the
      // pool), so a task signature no idle worker could take stays untakeable: 10,000 ready tasks of a
      // skill nobody online has cost one scan of the pool, not 10,000.
      const untakeable = new Set<string>();
      // Ready tasks grouped by signature, groups ordered by their best task (built once, when needed).
      let groups: Array<{ repo: RepoRuntime; tasks: TaskRecord[]; best: TaskRecord }> | undefined;
      const readyBySignature = (): Array<{ repo: RepoRuntime; tasks: TaskRecord[]; best: TaskRecord }> => {
        if (groups) return groups;
        const bySignature = new Map<string, { repo: RepoRuntime; tasks: TaskRecord[]; best: TaskRecord }>();
        for (const repo of this.state.repos.values()) {
          for (const taskId of repo.ready) {
            const task = this.state.tasks.get(taskId) as TaskRecord;
            const signature = schedulingSignature(task);
            const group = bySignature.get(signature);
            if (group) group.tasks.push(task);
            else bySignature.set(signature, { repo, tasks: [task], best: task });
          }
        }
        groups = [...bySignature.values()].sort((a, b) => b.best.priority - a.best.priority || a.best.created_at - b.best.created_at);
        return groups;
      };
      const tryTask = (task: TaskRecord, repo: RepoRuntime): boolean => {
        if (task.state !== 'ready') return false;
        if (this.repoReasons(task, repo, { alreadyCounted: false }).length > 0) return false;
        const signature = schedulingSignature(task);
        if (untakeable.has(signature)) return false;
        let best: WorkerRuntime | undefined;
        let skippedPassed = false;
        for (const w of poolSet) {
          if (this.hasPassed(task.id, w.record.id)) {
            skippedPassed = true;
            continue;
          }
          if (best && w.lastOfferAt >= best.lastOfferAt) continue;
          if (this.workerReasons(task, w, { holdingTask: false, forOffer: true }).length === 0) best = w;
        }
        if (!best) {
          if (!skippedPassed) untakeable.add(signature);
          return false;
        }
        this.makeOffer(task, best, repo);
        poolSet.delete(best);
        offers += 1;
        return true;
      };
      if (full) {
        const repos = [...this.state.repos.values()];
        for (let i = 0; i < repos.length && poolSet.size > 0; i += 1) {
          const repo = repos[(this.repoCursor + i) % repos.length] as RepoRuntime;
          if (repo.settings.paused || repo.ready.length === 0) continue;
          for (const taskId of [...repo.ready]) {
            if (poolSet.size === 0 || this.budget(repo).throttled) break;
            tryTask(this.state.tasks.get(taskId) as TaskRecord, repo);
          }
        }
        this.repoCursor = repos.length === 0 ? 0 : (this.repoCursor + 1) % repos.length;
        return offers;
      }
      for (const id of tasks) {
        if (poolSet.size === 0) break;
        const task = this.state.tasks.get(id);
        const repo = task ? this.state.repos.get(task.repo) : undefined;
        if (task && repo) tryTask(task, repo);
      }
      for (const id of workers) {
        const w = this.state.workers.get(id);
        if (!w || !poolSet.has(w)) continue;
        // Offer this worker the best ready task it qualifies for, across repos: one eligibility check
        // per task signature, in the order of each signature's best task.
        let bestTask: TaskRecord | undefined;
        let bestRepo: RepoRuntime | undefined;
        for (const group of readyBySignature()) {
          if (bestTask) break;
          if (group.repo.settings.paused || this.budget(group.repo).throttled) continue;
          const first = group.tasks.find((t) => t.state === 'ready' && !this.hasPassed(t.id, id));
          if (!first) continue;
          if (this.repoReasons(first, group.repo, { alreadyCounted: false }).length > 0) continue;
          if (this.workerReasons(first, w, { holdingTask: false, forOffer: true }).length > 0) continue;
          bestTask = first;
          bestRepo = group.repo;
        }
        if (bestTask && bestRepo) {
          this.makeOffer(bestTask, w, bestRepo);
          poolSet.delete(w);
          offers += 1;
        }
      }
      return offers;
    });
  }

  private makeOffer(task: TaskRecord, w: WorkerRuntime, repo: RepoRuntime): void {
    const offerId = `O-${this.state.counters.offer + 1}`;
    this.emit('offer.created', { repo: task.repo, task_id: task.id, worker_id: w.record.id }, {
      offer_id: offerId,
      deadline_at: this.now() + repo.settings.offer_timeout_ms,
    });
    const offer = this.state.offers.get(offerId);
    if (offer) this.notify(w.record.id, 'offer.created', { offer: this.state.offerView(offer) });
  }

  // ---- time ----------------------------------------------------------------------------------------

  /** Expires offers and leases whose deadline has passed, prunes idempotency keys, archives finished tasks. */
  tick(): Outcome<{ expiredOffers: number; expiredLeases: number }> {
    return this.collect(() => {
      const now = this.now();
      let expiredOffers = 0;
      let expiredLeases = 0;
      for (const offer of [...this.state.offers.values()]) {
        if (offer.deadline_at > now) continue;
        const settings = this.state.repos.get(offer.repo)?.settings;
        this.withdrawOffer(offer.offer_id, 'offer deadline passed', 'offer.expired');
        this.markPassed(offer.task_id, offer.worker_id, settings?.offer_timeout_ms ?? 30_000);
        expiredOffers += 1;
      }
      for (const lease of [...this.state.leases.values()]) {
        if (lease.expires_at > now) continue;
        const task = this.state.tasks.get(lease.task_id);
        if (!task) continue;
        const byMax = lease.expires_at >= lease.max_deadline_at;
        const reason = byMax ? 'lease reached its maximum duration' : 'no heartbeat before the deadline';
        this.endLeaseWithRequeue(task, 'lease.expired', reason, byMax ? 'max_duration' : 'heartbeat_timeout', true, { deadline_at: lease.expires_at, late_ms: now - lease.expires_at });
        expiredLeases += 1;
      }
      for (const [k, rec] of this.state.idempotency) {
        if (rec.at + IDEMPOTENCY_TTL_MS <= now) this.state.idempotency.delete(k);
      }
      // Time alone can make a task offerable again: a decline cool-down ends, or PRs leave the hourly window.
      for (const [taskId, m] of this.passed) {
        for (const [wid, until] of m) {
          if (until > now) continue;
          m.delete(wid);
          this.markTask(taskId);
        }
        if (m.size === 0) this.passed.delete(taskId);
      }
      for (const repo of this.state.repos.values()) {
        // A PR leaving the hourly window since the last sweep frees budget.
        if (repo.prTimes.some((t) => t + HOUR_MS <= now && t + HOUR_MS > this.lastTickAt)) this.dirtyAll = true;
      }
      this.lastTickAt = now;
      const archiveAfter = this.options.archiveAfterMs ?? 10 * 60_000;
      for (const task of [...this.state.tasks.values()]) {
        if (isTerminal(task.state) && task.updated_at + archiveAfter <= now) {
          this.emit('task.archived', { repo: task.repo, task_id: task.id }, { task: this.state.taskView(task) });
        }
      }
      return { expiredOffers, expiredLeases };
    });
  }

  /**
   * After recovery: every live lease gets a fresh heartbeat window (its holder needs time to
   * reconnect), capped by the lease's maximum duration. Renewals are never journaled, so this is
   * the one field recovery may move. Offers keep their deadlines: one that passed while the
   * coordinator was down expires on the first sweep, in the journal like any other.
   */
  graceAfterRecovery(): void {
    const now = this.now();
    for (const lease of this.state.leases.values()) {
      const timeout = this.state.repos.get(lease.repo)?.settings.heartbeat_timeout_ms ?? 30_000;
      lease.expires_at = Math.min(Math.max(lease.expires_at, now + timeout), lease.max_deadline_at);
    }
    for (const w of this.state.workers.values()) {
      w.online = false;
      w.sockets = 0;
    }
    this.dirtyAll = true;
  }
}

/** Everything worker eligibility reads from a task (capacity, skills, trust, repo policy by area and tier). */
function schedulingSignature(task: TaskRecord): string {
  return `${task.repo}\u0000${task.area ?? ''}\u0000${task.tier}\u0000${task.effort}\u0000${[...task.skills].sort().join(',')}`;
}

function summarizeWorkerReason(task: TaskRecord, r: Reasoned): string {
  switch (r.code) {
    case 'skills':
      return `no worker with skill ${((r.details?.missing as string[]) ?? task.skills).join(', ')}`;
    case 'capacity':
      return `no worker with ${task.effort} free capacity points`;
    case 'trust':
      return `no worker with trust ≥ ${task.tier}`;
    case 'offline':
      return 'no eligible worker is online';
    default:
      return `no eligible worker (${r.message})`;
  }
}

/** Canonical hash of an operation's payload without its idempotency key. */
export function payloadHash(name: string, params: Record<string, unknown>): string {
  const { idempotency_key: _k, ...rest } = params;
  return createHash('sha256').update(`${name}\n${canonicalJson(rest)}`).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** Secrets are never written to the journal: a stored answer keeps everything but the token. */
function redactTokens(name: string, result: unknown): unknown {
  if ((name === 'worker.register' || name === 'maintainer.create') && result && typeof result === 'object') {
    const { token: _t, ...rest } = result as Record<string, unknown>;
    return rest;
  }
  return result;
}

function toOwpError(error: unknown): OwpError {
  if (error instanceof OwpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OwpError('INTERNAL', `The coordinator failed: ${message}. Nothing was changed; retry with the same idempotency key.`);
}
