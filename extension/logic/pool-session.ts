/**
 * One editor window's membership in the pool: its identity (worker id + token, kept per
 * workspace by the IdentityStore the glue passes in), its WorkerClient connection, and what it
 * knows — offers, leases, the tasks behind them, and the ready tasks it may claim. Views read
 * `snapshot()`; `changed` fires whenever something they show may differ. What it reads over HTTP
 * (tasks, budgets, submitted PRs) lives in PoolKnowledge (pool-knowledge.ts); this owns the
 * identity, the connection and the actions. No vscode import.
 */
import { EventEmitter } from 'node:events';
import { OwpError } from '../../protocol/errors.ts';
import type { Budget, Lease, Offer, SubmittedPr, Task, Worker } from '../../protocol/model.ts';
import type { NotificationPayload, Params, Result } from '../../protocol/operations.ts';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient, type ConnectionState, type WorkerClientOptions, type WorkerProfile } from '../../client/worker-client.ts';
import type { SubmittedNotice } from '../../client/submitted-prs.ts';
import { PoolKnowledge } from './pool-knowledge.ts';

export interface WorkerIdentity {
  workerId: string;
  coordinatorUrl: string;
  githubLogin: string;
  /** False after "Leave pool": the identity is kept (trust earned stays) but not reconnected on start. */
  active: boolean;
}

/** Persists this window's identity; the token goes to secret storage, never to settings. */
export interface IdentityStore {
  load(): Promise<{ identity: WorkerIdentity; token: string } | undefined>;
  save(identity: WorkerIdentity, token: string): Promise<void>;
  clear(): Promise<void>;
}

export type SessionState = 'not-joined' | ConnectionState;

export interface PoolSnapshot {
  state: SessionState;
  coordinatorUrl: string | undefined;
  worker: Worker | undefined;
  offers: Offer[];
  leases: Lease[];
  /** Tasks by id: those behind offers and leases, and the listed ready tasks. */
  tasks: ReadonlyMap<string, Task>;
  /** Ready tasks this worker could claim, as last listed. */
  listed: Task[];
  /** Each repo's review budget, as last listed with the tasks. */
  budgets: ReadonlyMap<string, Budget>;
  /** PRs this worker opened, open or decided, over the coordinator's window (`worker.prs`), newest first. */
  submitted: readonly SubmittedPr[];
}

export interface PoolSessionEvents {
  changed: [];
  offer: [Offer];
  'offer.withdrawn': [{ offer_id: string; task_id: string; reason: string }];
  'lease.lost': [{ lease: Lease; reason: string; code?: string }];
  /** The coordinator refused this window's token: the identity was cleared. */
  'token.rejected': [OwpError];
  /** A background problem a person should hear about (listing failed, …). */
  problem: [string];
  /** The PR attached to a lease waits for CI checks; `before` is the task as it was known until now. */
  'pr.checks': [{ payload: NotificationPayload<'pr.checks_updated'>; before: Task | undefined }];
  /** The PR counts (its required checks passed); the lease ended. */
  'pr.counted': [NotificationPayload<'pr.counted'>];
  /** A submitted PR was merged or closed, or this worker's trust changed (between two reads of `worker.prs`). */
  submitted: [SubmittedNotice];
}

export interface PoolSessionOptions {
  /** Extra WorkerClient options (tests shorten reconnection delays). */
  client?: Partial<Omit<WorkerClientOptions, 'url' | 'token'>>;
  /** How long join() waits for the first hello before it returns with the client still connecting. */
  connectWaitMs?: number;
  /** Debounce for re-listing tasks after `tasks.changed`. */
  relistDelayMs?: number;
}

export class PoolSession extends EventEmitter<PoolSessionEvents> {
  private client: WorkerClient | undefined;
  private http: HttpClient | undefined;
  private identity: WorkerIdentity | undefined;
  private readonly known: PoolKnowledge;
  private profile: Partial<Omit<WorkerProfile, 'github_login'>> = {};
  private joining = false;

  constructor(
    private readonly store: IdentityStore,
    private readonly options: PoolSessionOptions = {},
  ) {
    super();
    this.known = new PoolKnowledge(
      {
        http: () => this.http,
        client: () => this.client,
        changed: () => this.emit('changed'),
        submitted: (notice) => this.emit('submitted', notice),
        problem: (text) => this.emit('problem', text),
      },
      options.relistDelayMs,
    );
  }

  get state(): SessionState {
    return this.client ? this.client.connectionState() : 'not-joined';
  }

  get workerId(): string | undefined {
    return this.identity?.workerId;
  }

  snapshot(): PoolSnapshot {
    const client = this.client;
    return {
      state: this.state,
      coordinatorUrl: this.identity?.coordinatorUrl,
      worker: client?.worker,
      offers: client ? [...client.offers.values()] : [],
      leases: client ? [...client.leases.values()] : [],
      tasks: this.known.tasks,
      listed: this.known.listed,
      budgets: this.known.budgets,
      submitted: this.known.submitted?.prs ?? [],
    };
  }

  /** The stored identity for this window, if it was made for this coordinator. */
  async storedIdentity(coordinatorUrl: string): Promise<WorkerIdentity | undefined> {
    const stored = await this.store.load();
    return stored && sameUrl(stored.identity.coordinatorUrl, coordinatorUrl) ? stored.identity : undefined;
  }

  /**
   * Reconnects with the stored identity, if there is one for this coordinator. Does not wait for
   * the coordinator: a window that starts while it is down keeps retrying in the background.
   */
  async resume(coordinatorUrl: string, profile: Partial<Omit<WorkerProfile, 'github_login'>>): Promise<boolean> {
    if (this.client) return true;
    const stored = await this.store.load();
    if (!stored || !stored.identity.active || !sameUrl(stored.identity.coordinatorUrl, coordinatorUrl)) return false;
    this.profile = profile;
    this.start(stored.identity, stored.token);
    return true;
  }

  /**
   * Joins: reuses this window's worker when it has one for this coordinator (sending the new
   * profile), else registers a new worker. Resolves once registered; the socket may still be
   * connecting. Throws OwpError with a message a person can act on.
   */
  async join(coordinatorUrl: string, profile: WorkerProfile): Promise<Worker | undefined> {
    this.profile = { skills: profile.skills, capacity: profile.capacity, tools: profile.tools, capabilities: profile.capabilities };
    const stored = await this.store.load();
    if (stored && sameUrl(stored.identity.coordinatorUrl, coordinatorUrl) && stored.identity.githubLogin === profile.github_login) {
      this.stop();
      const identity = { ...stored.identity, active: true };
      await this.store.save(identity, stored.token);
      // A rejected token is handled right here (by registering afresh), not by forgetting it in the background.
      this.joining = true;
      this.start(identity, stored.token);
      try {
        await this.waitForHello();
        return this.client?.worker;
      } catch (error) {
        // A token the coordinator forgot (revoked, new data dir) means: register afresh.
        if (!(error instanceof OwpError && error.code === 'UNAUTHENTICATED')) throw error;
      } finally {
        this.joining = false;
      }
    }
    this.stop();
    const { worker, token } = await WorkerClient.register(coordinatorUrl, profile);
    const identity: WorkerIdentity = { workerId: worker.id, coordinatorUrl, githubLogin: worker.github_login, active: true };
    await this.store.save(identity, token);
    this.start(identity, token);
    await this.waitForHello().catch((error: unknown) => {
      if (error instanceof OwpError && error.code === 'UNAUTHENTICATED') throw error;
    });
    return this.client?.worker ?? worker;
  }

  private async waitForHello(): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (client.connectionState() === 'connected') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, this.options.connectWaitMs ?? 10_000);
      timer.unref?.();
      function done(): void {
        clearTimeout(timer);
        client?.off('hello', onHello);
        client?.off('connect.error', onError);
        resolve();
      }
      const onHello = (): void => done();
      const onError = (error: OwpError): void => {
        if (error.code !== 'UNAUTHENTICATED' && error.code !== 'VERSION_UNSUPPORTED') return;
        clearTimeout(timer);
        client.off('hello', onHello);
        client.off('connect.error', onError);
        reject(error);
      };
      client.on('hello', onHello);
      client.on('connect.error', onError);
    });
  }

  private start(identity: WorkerIdentity, token: string): void {
    this.identity = identity;
    this.http = new HttpClient({ baseUrl: identity.coordinatorUrl, token });
    const client = new WorkerClient({ url: identity.coordinatorUrl, token, profile: this.profile, subscribeTasks: true, ...this.options.client });
    this.client = client;
    client.on('state', () => this.emit('changed'));
    client.on('hello', (hello) => {
      for (const offer of hello.offers) this.known.tasks.set(offer.task.id, offer.task);
      void this.known.fetchMissingTasks();
      this.known.scheduleRelist(0);
      this.emit('changed');
    });
    client.on('offer', (offer) => {
      this.known.tasks.set(offer.task.id, offer.task);
      this.emit('offer', offer);
      this.emit('changed');
    });
    client.on('offer.withdrawn', (payload) => {
      this.emit('offer.withdrawn', payload);
      this.emit('changed');
    });
    client.on('lease.lost', (lost) => {
      this.emit('lease.lost', lost);
      this.known.scheduleRelist();
      this.emit('changed');
    });
    client.on('lease.renewed', () => this.emit('changed'));
    client.on('pr.checks', (payload) => {
      const before = this.known.tasks.get(payload.task_id);
      if (before) this.known.tasks.set(payload.task_id, { ...before, pr: payload.pr, checks: payload.checks });
      this.emit('pr.checks', { payload, before });
      this.emit('changed');
    });
    client.on('pr.counted', (payload) => {
      const before = this.known.tasks.get(payload.task_id);
      if (before) this.known.tasks.set(payload.task_id, { ...before, state: 'pr_opened', pr: payload.pr, checks: payload.checks });
      this.emit('pr.counted', payload);
      this.known.scheduleRelist();
      this.emit('changed');
    });
    client.on('tasks.changed', () => this.known.scheduleRelist());
    client.on('connect.error', (error) => {
      if (error.code !== 'UNAUTHENTICATED' || this.client !== client || this.joining) return;
      this.stop();
      void this.store.clear().then(() => {
        this.emit('token.rejected', error);
        this.emit('changed');
      });
    });
    client.socket.connect();
    this.emit('changed');
  }

  private stop(): void {
    this.known.forgetListing();
    this.client?.removeAllListeners();
    this.client?.close();
    this.client = undefined;
    this.http = undefined;
  }

  /**
   * Leaves the pool: releases leases when asked (a lease not released simply expires), then
   * disconnects. The identity is kept, inactive, so joining again is the same worker.
   */
  async leave(options: { release: boolean; reason?: string }): Promise<void> {
    const client = this.client;
    if (client && options.release) {
      for (const lease of [...client.leases.values()]) {
        await client.release(lease.lease_id, options.reason ?? 'The volunteer left the pool.');
      }
    }
    this.stop();
    const stored = await this.store.load();
    if (stored) await this.store.save({ ...stored.identity, active: false }, stored.token);
    this.identity = undefined;
    this.emit('changed');
  }

  private mustClient(): WorkerClient {
    if (!this.client) throw new OwpError('UNAUTHENTICATED', 'This window has not joined the pool yet. Run "OWP: Join Pool" first.');
    return this.client;
  }

  async accept(offerId: string): Promise<Result<'offer.accept'>> {
    const result = await this.mustClient().accept(offerId);
    this.known.tasks.set(result.task.id, result.task);
    this.emit('changed');
    return result;
  }

  async decline(offerId: string, reason?: string): Promise<void> {
    await this.mustClient().decline(offerId, reason);
    this.emit('changed');
  }

  async claim(taskId: string): Promise<Result<'task.claim'>> {
    const result = await this.mustClient().claim(taskId);
    this.known.tasks.set(result.task.id, result.task);
    this.known.listed = this.known.listed.filter((t) => t.id !== taskId);
    this.emit('changed');
    return result;
  }

  async release(leaseId: string, reason?: string): Promise<void> {
    const { task } = await this.mustClient().release(leaseId, reason);
    this.known.tasks.set(task.id, task);
    this.known.scheduleRelist();
    this.emit('changed');
  }

  async report(leaseId: string, report: Omit<Params<'lease.report'>, 'lease_id' | 'epoch' | 'idempotency_key'>): Promise<Task> {
    const { task } = await this.mustClient().report(leaseId, report);
    this.known.tasks.set(task.id, task);
    this.emit('changed');
    return task;
  }

  lease(leaseId: string): Lease | undefined {
    return this.client?.leases.get(leaseId);
  }

  leaseForTask(taskId: string): Lease | undefined {
    return [...(this.client?.leases.values() ?? [])].find((l) => l.task_id === taskId);
  }

  offer(offerId: string): Offer | undefined {
    return this.client?.offers.get(offerId);
  }

  task(taskId: string): Task | undefined {
    return this.known.tasks.get(taskId);
  }

  fetchTask(taskId: string): Promise<Task> {
    return this.known.fetchTask(taskId);
  }

  /** A repo's settings (required gates, budget) as the coordinator has them. */
  repoSettings(repo: string): Promise<Result<'repo.get'>['settings']> {
    return this.known.repoSettings(repo);
  }

  /** Sends profile changes (skills, capacity, tools) to the coordinator now and on every reconnect. */
  async updateProfile(profile: Partial<Omit<WorkerProfile, 'github_login'>>): Promise<void> {
    this.profile = { ...this.profile, ...profile };
    const client = this.client;
    if (!client) return;
    client.setProfile(this.profile);
    if (client.connectionState() !== 'connected') return;
    const { worker } = await client.request('worker.update', profile as Params<'worker.update'>);
    client.worker = worker;
    this.emit('changed');
  }

  /** Lists ready tasks and the repos' budgets, reads the submitted PRs, and fetches the tasks behind our leases. */
  refresh(): Promise<void> {
    return this.known.refresh();
  }

  dispose(): void {
    this.stop();
    this.removeAllListeners();
  }
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
