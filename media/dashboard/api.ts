/**
 * The dashboard's HTTP calls. A small fetch wrapper with the routes spelled out, so the browser
 * bundle does not carry the schema library; the types still come from the protocol.
 */
import type { Ack, Result } from '../../protocol/operations.ts';
import type { TaskState } from '../../protocol/states.ts';
import { listAll } from '../../protocol/list-pages.ts';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined>;

export class DashboardApi {
  constructor(
    private readonly baseUrl: string,
    private token: string | undefined,
  ) {}

  get signedIn(): boolean {
    return this.token !== undefined;
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  info(): Promise<Result<'coordinator.info'>> {
    return this.get('/v1/info');
  }

  /** Every repo, page after page (PAGE-001). */
  async repos(): Promise<Result<'repo.list'>> {
    return { repos: await listAll((p) => this.get('/v1/repos', p), 'repo.list', {}) };
  }

  /** Every task in a state, page after page (PAGE-001): a busy pool has more ready tasks than one page. */
  async tasks(state: TaskState): Promise<Result<'task.list'>> {
    return { tasks: await listAll((p) => this.get('/v1/tasks', p), 'task.list', { state, limit: 1000 }) };
  }

  /** The `limit` most recently changed tasks in a state: one page, for finished tasks, of which the dashboard keeps only the newest. */
  recentTasks(state: TaskState, limit: number): Promise<Result<'task.list'>> {
    return this.get('/v1/tasks', { state, limit });
  }

  /** Every worker, page after page (PAGE-001). */
  async workers(): Promise<Result<'worker.list'>> {
    return { workers: await listAll((p) => this.get('/v1/workers', p), 'worker.list', {}) };
  }

  metrics(): Promise<Result<'metrics.get'>> {
    return this.get('/v1/metrics');
  }

  explain(taskId: string): Promise<Result<'task.explain'>> {
    return this.get(`/v1/tasks/${encodeURIComponent(taskId)}/explain`);
  }

  createTask(fields: { repo: string; title: string; body?: string; area?: string; tier?: number; effort?: number; skills?: string[] }): Promise<Result<'task.create'>> {
    return this.send('POST', '/v1/tasks', fields);
  }

  cancelLease(leaseId: string, reason: string): Promise<Result<'lease.cancel'>> {
    return this.send('POST', `/v1/leases/${encodeURIComponent(leaseId)}/cancel`, { reason });
  }

  unblockTask(taskId: string): Promise<Result<'task.unblock'>> {
    return this.send('POST', `/v1/tasks/${encodeURIComponent(taskId)}/unblock`, {});
  }

  configureRepo(repo: string, settings: { max_open_prs?: number; max_new_prs_per_hour?: number; paused?: boolean }): Promise<Result<'repo.configure'>> {
    return this.send('PUT', `${repoPath(repo)}/settings`, settings);
  }

  /** A repo's contributors as the scheduler counts them, every page (PAGE-001). */
  async standings(repo: string): Promise<Result<'policy.standings'>> {
    return { standings: await listAll((p) => this.get(`${repoPath(repo)}/standings`, { limit: p.limit, cursor: p.cursor }), 'policy.standings', { repo }) };
  }

  /** contributor.vouch or contributor.denounce (a denouncement needs its reason). */
  setStanding(repo: string, login: string, action: 'vouch' | 'denounce', reason: string | undefined): Promise<Result<'contributor.vouch'>> {
    return this.send('POST', `${repoPath(repo)}/contributors/${encodeURIComponent(login)}/${action}`, reason ? { reason } : {});
  }

  private get<T>(path: string, query: Query = {}): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const suffix = qs.toString() ? `?${qs}` : '';
    return this.request<T>(`${path}${suffix}`, { method: 'GET' });
  }

  private send<T>(method: 'POST' | 'PUT', path: string, body: Record<string, unknown>): Promise<T> {
    // One key per user action: a retry of the same click would reuse it, a new click makes a new one.
    return this.request<T>(path, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json', 'idempotency-key': newKey() } });
  }

  private async request<T>(path: string, init: RequestInit): Promise<T> {
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/json');
    if (this.token) headers.set('authorization', `Bearer ${this.token}`);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { ...init, headers, cache: 'no-store' });
    } catch (error) {
      throw new ApiError('UNAVAILABLE', `Cannot reach the coordinator (${(error as Error).message}).`);
    }
    let ack: Ack<T>;
    try {
      ack = (await res.json()) as Ack<T>;
    } catch {
      throw new ApiError('INTERNAL', `The coordinator answered HTTP ${res.status} without JSON.`);
    }
    if (!ack.ok) throw new ApiError(ack.error.code, ack.error.message);
    return ack.data;
  }
}

function repoPath(repo: string): string {
  return `/v1/repos/${repo.split('/').map(encodeURIComponent).join('/')}`;
}

function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return `dash-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dash-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
