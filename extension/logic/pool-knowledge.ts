/**
 * What one editor window knows of the pool besides its live connection: the tasks behind its
 * offers and leases and the ready tasks it may claim, each repo's review budget, and the PRs it
 * submitted with its trust. All of it is read over HTTP and refreshed on a debounce after the
 * coordinator says tasks changed; PoolSession owns the connection and tells this when to look.
 * No vscode import.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { Budget, Task } from '../../protocol/model.ts';
import type { Result } from '../../protocol/operations.ts';
import { listAll } from '../../protocol/list-pages.ts';
import type { HttpClient } from '../../client/http-client.ts';
import type { WorkerClient } from '../../client/worker-client.ts';
import { readSubmitted, submittedNotices, type SubmittedNotice, type SubmittedRead } from '../../client/submitted-prs.ts';

/** The session this knowledge belongs to: its current connection, and where news goes. */
export interface KnowledgeHost {
  /** The current connection; undefined before joining and after leaving. A read made for an older one is dropped. */
  http(): HttpClient | undefined;
  client(): WorkerClient | undefined;
  changed(): void;
  submitted(notice: SubmittedNotice): void;
  problem(text: string): void;
}

export class PoolKnowledge {
  /** Tasks by id: those behind offers and leases, and the listed ready tasks. */
  readonly tasks = new Map<string, Task>();
  /** Ready tasks this worker could claim, as last listed. */
  listed: Task[] = [];
  readonly budgets = new Map<string, Budget>();
  submitted: SubmittedRead | undefined;
  private relistTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: KnowledgeHost,
    private readonly relistDelayMs = 500,
  ) {}

  /** The connection ended: what was listed for it is no longer shown (known tasks stay, for titles). */
  forgetListing(): void {
    clearTimeout(this.relistTimer);
    this.relistTimer = undefined;
    this.listed = [];
    this.submitted = undefined;
  }

  private mustHttp(): HttpClient {
    const http = this.host.http();
    if (!http) throw new OwpError('UNAUTHENTICATED', 'This window has not joined the pool yet.');
    return http;
  }

  async fetchTask(taskId: string): Promise<Task> {
    const { task } = await this.mustHttp().call('task.get', { task_id: taskId });
    this.tasks.set(task.id, task);
    return task;
  }

  /** A repo's settings (required gates, budget) as the coordinator has them. */
  async repoSettings(repo: string): Promise<Result<'repo.get'>['settings']> {
    const { settings } = await this.mustHttp().call('repo.get', { repo });
    return settings;
  }

  /** Lists ready tasks and the repos' budgets, reads the submitted PRs, and fetches the tasks behind our leases. */
  async refresh(): Promise<void> {
    const http = this.host.http();
    if (!http) return;
    const [{ tasks }, repos] = await Promise.all([
      http.call('task.list', { state: 'ready', limit: 200 }),
      // The budget is shown, not needed: a coordinator that refuses the read leaves the last one.
      listAll((p) => http.call('repo.list', p), 'repo.list', {}).then((list) => ({ repos: list }), () => undefined),
    ]);
    for (const task of tasks) this.tasks.set(task.id, task);
    this.listed = tasks;
    if (repos) {
      this.budgets.clear();
      for (const r of repos.repos) this.budgets.set(r.settings.repo, r.budget);
    }
    await this.readSubmitted();
    await this.fetchMissingTasks();
    this.host.changed();
  }

  /**
   * Re-reads this worker's PRs and trust (`worker.prs`) and announces what changed since the last
   * read. A coordinator without the operation (older than SPEC WORKER-004) leaves the group empty.
   */
  private async readSubmitted(): Promise<void> {
    const http = this.host.http();
    if (!http) return;
    let read: SubmittedRead;
    try {
      read = await readSubmitted((params) => http.call('worker.prs', params));
    } catch (error) {
      if (error instanceof OwpError && (error.code === 'NOT_FOUND' || error.code === 'VALIDATION_FAILED')) return;
      throw error;
    }
    if (this.host.http() !== http) return;
    const before = this.submitted;
    this.submitted = read;
    const client = this.host.client();
    if (client?.worker && client.worker.trust !== read.trust) client.worker = { ...client.worker, trust: read.trust };
    for (const notice of submittedNotices(before, read)) this.host.submitted(notice);
  }

  /** Refreshes after `delayMs`; calls meanwhile fold into that one. */
  scheduleRelist(delayMs = this.relistDelayMs): void {
    if (this.relistTimer) return;
    this.relistTimer = setTimeout(() => {
      this.relistTimer = undefined;
      this.refresh().catch((error: unknown) => this.host.problem(`Could not list the pool's tasks: ${(error as Error).message}`));
    }, delayMs);
    this.relistTimer.unref?.();
  }

  /** Fetches the tasks behind our leases that are unknown, or known only as they were listed (ready). */
  async fetchMissingTasks(): Promise<void> {
    const client = this.host.client();
    if (!client) return;
    const missing = [...client.leases.values()].map((l) => l.task_id).filter((id) => !this.tasks.has(id) || this.tasks.get(id)?.state === 'ready');
    for (const id of missing) {
      try {
        await this.fetchTask(id);
      } catch {
        // Shown without a title until the next refresh; not worth an error of its own.
      }
    }
    if (missing.length > 0) this.host.changed();
  }
}
