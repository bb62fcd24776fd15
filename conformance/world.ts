/**
 * The isolated world each conformance test runs in, set up through maintainer operations only:
 * repos in a namespace of its own per run (`owp-conformance-<run>/…`) with short timeouts, tasks
 * that need a skill unique to the test (so no other test's or real worker can take them), and
 * freshly registered synthetic workers. Everything a test opens is closed or cancelled after it.
 */
import { randomUUID } from 'node:crypto';
import type { Offer, Task } from '../protocol/model.ts';
import type { OperationName, Result } from '../protocol/operations.ts';
import { expectOk } from './expect.ts';
import { WireHttp, WireSocket, type HttpAck, type WireAck } from './wire.ts';

/**
 * The kit's GitHub-shaped server (capability `github-sync`): the coordinator under test syncs
 * `repo` from it, by its own configuration; the kit writes issues and PRs there as people would.
 */
export interface KitGitHub {
  readonly repo: string;
  /** The label that makes an issue a task on the coordinator under test. */
  readonly label: string;
  addIssue(title: string, body: string): number;
  /** Opens a PR as `login` from `head`; returns its html URL, as a worker would report it. */
  openPull(login: string, head: string, title: string, body: string): string;
}

export interface RunContext {
  readonly url: string;
  readonly adminToken: string;
  readonly namespace: string;
  readonly info: Result<'coordinator.info'>;
  /** An invite code for coordinators with closed registration. */
  readonly invite?: string;
  readonly timeoutMs: number;
  counter: number;
  /** Every repo the run created, paused at the end. */
  readonly repos: string[];
  readonly github?: KitGitHub;
}

/**
 * The settings a test repo gets unless it asks otherwise: deadlines short enough that leftovers
 * clear in seconds, long enough that a loaded machine does not expire an offer or lease between
 * two steps of a test. Tests of expiry set 1000 ms themselves.
 */
export const FAST_SETTINGS = {
  offer_timeout_ms: 5000,
  heartbeat_timeout_ms: 10_000,
  max_open_prs: 50,
  max_new_prs_per_hour: 50,
  max_attempts: 3,
  required_gates: ['tests'],
} as const;

export const PASSING_GATES = [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0 }];

export class KitWorker {
  private readonly taken = new Set<string>();

  constructor(
    readonly world: World,
    readonly id: string,
    readonly token: string,
    readonly login: string,
    public socket: WireSocket,
  ) {}

  /** An operation over this worker's socket. */
  call(name: string, params: Record<string, unknown> = {}): Promise<WireAck> {
    return this.socket.call(name, params);
  }

  async ok<N extends OperationName>(name: N, params: Record<string, unknown> = {}): Promise<Result<N>> {
    return expectOk<Result<N>>(await this.call(name, params), `${name} by ${this.id}`);
  }

  /** The same operation over HTTP with this worker's token. */
  http(name: OperationName, params: Record<string, unknown> = {}): Promise<HttpAck> {
    return this.world.http.call(name, params, this.token);
  }

  /** The next offer pushed to this worker (offer.created) that this test has not taken yet, optionally for one task. */
  async nextOffer(taskId?: string, timeoutMs = 5000): Promise<Offer> {
    const payload = await this.socket.waitFor('offer.created', (p) => {
      const offer = p.offer as Offer;
      return !this.taken.has(offer.offer_id) && (taskId === undefined || offer.task_id === taskId);
    }, timeoutMs);
    const offer = payload.offer as Offer;
    this.taken.add(offer.offer_id);
    return offer;
  }

  async accept(offer: Offer): Promise<Result<'offer.accept'>> {
    return this.ok('offer.accept', { offer_id: offer.offer_id });
  }

  async claim(taskId: string): Promise<Result<'task.claim'>> {
    return this.ok('task.claim', { task_id: taskId });
  }

  /** Opens a new socket with this worker's token and says hello (the old one stays as it is). */
  async reconnect(helloExtra: Record<string, unknown> = {}): Promise<Result<'session.hello'>> {
    this.socket = await WireSocket.open(this.world.run.url, this.token, this.world.run.timeoutMs);
    this.world.track(this.socket);
    return expectOk<Result<'session.hello'>>(await this.socket.hello(helloExtra), `hello of ${this.id}`);
  }
}

export interface WorkerOptions {
  skills?: string[];
  capacity?: number;
  trust?: number;
  /** Connect and say hello (default true); false leaves the worker registered but offline. */
  connect?: boolean;
  extra?: Record<string, unknown>;
}

export class World {
  readonly http: WireHttp;
  /** A skill no other test uses: tasks of this test need it, so only this test's workers qualify. */
  readonly skill: string;
  private readonly sockets: WireSocket[] = [];
  private readonly tasks: string[] = [];
  private readonly repos: string[] = [];

  constructor(readonly run: RunContext) {
    this.http = new WireHttp(run.url, run.timeoutMs);
    this.skill = `cf-${run.namespace.slice(-6)}-${this.next()}`;
  }

  get info(): Result<'coordinator.info'> {
    return this.run.info;
  }

  private next(): number {
    this.run.counter += 1;
    return this.run.counter;
  }

  track(socket: WireSocket): WireSocket {
    this.sockets.push(socket);
    return socket;
  }

  /** A maintainer operation with the admin token over HTTP; throws with the refusal. */
  async admin<N extends OperationName>(name: N, params: Record<string, unknown>): Promise<Result<N>> {
    return expectOk<Result<N>>(await this.http.call(name, params, this.run.adminToken), `${name} (admin)`);
  }

  adminRaw(name: OperationName, params: Record<string, unknown>): Promise<HttpAck> {
    return this.http.call(name, params, this.run.adminToken);
  }

  /** Creates a repo in the run's namespace with fast timings; returns its `owner/name`. */
  async repo(settings: Record<string, unknown> = {}): Promise<string> {
    const repo = `${this.run.namespace}/r${this.next()}`;
    await this.admin('repo.configure', { repo, ...FAST_SETTINGS, ...settings });
    this.run.repos.push(repo);
    this.repos.push(repo);
    return repo;
  }

  /** Creates a ready task that needs this test's skill (unless `skills` says otherwise). */
  async task(repo: string, fields: Record<string, unknown> = {}): Promise<Task> {
    const { task } = await this.admin('task.create', { repo, title: `conformance task ${this.next()}`, skills: [this.skill], effort: 1, ...fields });
    this.tasks.push(task.id);
    return task;
  }

  async getTask(taskId: string): Promise<Task> {
    return (await this.admin('task.get', { task_id: taskId })).task;
  }

  /** A task this test did not create (one synced from an issue) that cleanup must end too. */
  adopt(taskId: string): void {
    this.tasks.push(taskId);
  }

  /** Registers a new worker (with this test's skill), sets its trust, and connects it with hello. */
  async worker(options: WorkerOptions = {}): Promise<KitWorker> {
    const login = `cf${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const { worker, token } = await this.register({
      github_login: login,
      skills: options.skills ?? [this.skill],
      capacity: options.capacity ?? 3,
      tools: ['none'],
      capabilities: { can_run_tests: true, can_open_prs: true },
      ...(options.extra ?? {}),
    });
    if (options.trust !== undefined && options.trust !== 0) await this.admin('worker.set_trust', { worker_id: worker.id, trust: options.trust });
    const socket = options.connect === false ? undefined : await this.connect(token);
    const kit = new KitWorker(this, worker.id, token, login, socket as WireSocket);
    return kit;
  }

  async register(params: Record<string, unknown>): Promise<Result<'worker.register'>> {
    const withInvite = this.run.invite ? { invite: this.run.invite, ...params } : params;
    // A coordinator may limit registrations per address (SHOULD, RATE-001; the reference lets 200
    // through at once, then one every 10 s, about what a whole run registers): the kit waits as told
    // when the wait fits in a test, so a limited coordinator is not failed for its limit.
    for (let attempt = 0; ; attempt += 1) {
      const ack = await this.http.call('worker.register', withInvite);
      const wait = !ack.ok && ack.error.code === 'RATE_LIMITED' ? Number((ack.error.details as { retry_after_ms?: unknown } | undefined)?.retry_after_ms) : NaN;
      if (attempt >= 3 || !(wait > 0 && wait <= 12_000)) return expectOk<Result<'worker.register'>>(ack, 'worker.register');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Opens a socket with a token and completes hello. */
  async connect(token: string, helloExtra: Record<string, unknown> = {}): Promise<WireSocket> {
    const socket = this.track(await WireSocket.open(this.run.url, token, this.run.timeoutMs));
    expectOk(await socket.hello(helloExtra), 'session.hello');
    return socket;
  }

  /** Opens a socket without saying hello. */
  async rawSocket(token?: string): Promise<WireSocket> {
    return this.track(await WireSocket.open(this.run.url, token, this.run.timeoutMs));
  }

  /** A maintainer token scoped to the given repos. */
  async maintainer(repos: string[]): Promise<string> {
    return (await this.admin('maintainer.create', { name: `conformance ${this.next()}`, repos })).token;
  }

  async journal(afterSeq: number, repo?: string): Promise<Result<'journal.read'>['events']> {
    const events: Result<'journal.read'>['events'] = [];
    let cursor = afterSeq;
    for (let page = 0; page < 50; page += 1) {
      const result = await this.admin('journal.read', { after_seq: cursor, limit: 1000, ...(repo ? { repo } : {}) });
      events.push(...result.events);
      if (result.events.length < 1000) break;
      cursor = (result.events.at(-1) as { seq: number }).seq;
    }
    return events;
  }

  /** The journal's current last sequence number. */
  async journalHead(): Promise<number> {
    return (await this.admin('metrics.get', {})).journal_seq;
  }

  /** Polls until fn returns a truthy value; fails with `what` after timeoutMs. */
  async until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
      await sleep(50);
    }
  }

  async untilState(taskId: string, state: string, timeoutMs = 5000): Promise<Task> {
    let last = '';
    return this.until(async () => {
      const task = await this.getTask(taskId);
      last = task.state;
      return task.state === state ? task : undefined;
    }, `task ${taskId} is ${state} (last seen ${last || '?'})`, timeoutMs);
  }

  /** Closes the test's sockets and cancels the unfinished tasks in its repos (including any a refused payload should not have created). */
  async cleanup(): Promise<void> {
    for (const s of this.sockets) s.close();
    const ids = new Set(this.tasks);
    for (const repo of this.repos) {
      const ack = await this.adminRaw('task.list', { repo, limit: 1000 }).catch(() => undefined);
      if (ack?.ok) for (const t of (ack.data as { tasks: Task[] }).tasks) ids.add(t.id);
    }
    for (const id of ids) {
      const ack = await this.adminRaw('task.get', { task_id: id }).catch(() => undefined);
      const state = ack?.ok ? (ack.data as { task: Task }).task.state : undefined;
      if (state === 'pr_opened') await this.adminRaw('task.complete', { task_id: id, outcome: 'closed', reason: 'conformance cleanup' }).catch(() => undefined);
      else if (state && state !== 'merged' && state !== 'closed') await this.adminRaw('task.cancel', { task_id: id, reason: 'conformance cleanup' }).catch(() => undefined);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
