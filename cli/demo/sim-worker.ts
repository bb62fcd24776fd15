/**
 * A simulated volunteer for the demo. Everything but the AI is real: it joins over socket.io with
 * the same WorkerClient as the extension, heartbeats, accepts offers, checks the task out in a
 * worktree of its own clone, "works" (writes a change note in the task's area and commits), runs
 * the contract's gates, pushes, opens a PR through the GitHub-shaped server with the same code a
 * volunteer uses, and reports pr_opened with the gate evidence. `kill()` is a crash: heartbeats
 * and the connection stop mid-task and nothing is released.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease, Offer, Task } from '../../protocol/model.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { HttpClient } from '../../client/http-client.ts';
import { prepareTaskWorkspace } from '../../client/task-workspace.ts';
import { commitAll, git, push } from '../../client/git.ts';
import { missingGates, runGates } from '../../client/gates.ts';
import { openPullRequest } from '../../client/pull-request.ts';

export interface SimWorkerSpec {
  name: string;
  login: string;
  skills: string[];
  capacity: number;
  trust: number;
}

export interface SimContext {
  coordinatorUrl: string;
  admin: HttpClient;
  githubApiUrl: string;
  githubToken: string;
  remote: string;
  workDir: string;
  /** How long "thinking" and "working" take, already scaled by --speed. */
  thinkMs: number;
  workMs: (task: Task) => number;
  say: (worker: SimWorker, message: string) => void;
}

export class SimWorker {
  client: WorkerClient | undefined;
  workerId = '';
  alive = true;
  /** Tasks in hand; `working` while the volunteer is still on it (a crash then loses real work). */
  readonly active = new Map<string, { lease: Lease; task: Task; phase: 'starting' | 'working' | 'finishing' }>();
  private readonly abort = new AbortController();
  private clone = '';
  private token = '';

  constructor(
    readonly spec: SimWorkerSpec,
    private readonly ctx: SimContext,
  ) {}

  /** Joins the pool (registers) and clones the repo; `connect` then starts taking offers. */
  async register(): Promise<void> {
    const { worker, token } = await WorkerClient.register(this.ctx.coordinatorUrl, {
      github_login: this.spec.login,
      skills: this.spec.skills,
      capacity: this.spec.capacity,
      tools: ['none'],
      capabilities: { can_run_tests: true, can_open_prs: true },
    });
    this.workerId = worker.id;
    if (this.spec.trust > 0) await this.ctx.admin.call('worker.set_trust', { worker_id: worker.id, trust: this.spec.trust });
    this.clone = join(this.ctx.workDir, this.spec.login, 'hello-owp');
    await mkdir(join(this.ctx.workDir, this.spec.login), { recursive: true });
    await git(join(this.ctx.workDir, this.spec.login), ['clone', '--quiet', this.ctx.remote, this.clone]);
    this.token = token;
  }

  async connect(): Promise<void> {
    const token = this.token;
    this.client = new WorkerClient({ url: this.ctx.coordinatorUrl, token, reconnectionDelayMs: 200, reconnectionDelayMaxMs: 1000 });
    this.client.on('offer', (offer) => void this.onOffer(offer));
    this.client.on('lease.lost', ({ lease, reason }) => {
      if (this.alive) this.ctx.say(this, `lost ${lease.task_id}: ${reason}`);
      this.active.delete(lease.task_id);
    });
    await this.client.connect();
  }

  /** A crash: no more heartbeats, the socket drops, work in flight stops, nothing is released. */
  kill(): void {
    this.alive = false;
    this.abort.abort();
    this.client?.stopHeartbeats();
    this.client?.close();
  }

  /** A clean exit at the end of the demo. */
  stop(): void {
    this.alive = false;
    this.abort.abort();
    this.client?.close();
  }

  private readonly seenOffers = new Set<string>();

  private async onOffer(offer: Offer): Promise<void> {
    if (this.seenOffers.has(offer.offer_id)) return;
    this.seenOffers.add(offer.offer_id);
    await this.sleep(this.ctx.thinkMs);
    if (!this.alive || !this.client) return;
    let accepted: { lease: Lease; task: Task };
    try {
      accepted = await this.client.accept(offer.offer_id);
    } catch (error) {
      if (this.alive) this.ctx.say(this, `could not accept ${offer.task_id}: ${(error as Error).message}`);
      return;
    }
    this.active.set(accepted.task.id, { ...accepted, phase: 'starting' });
    try {
      await this.work(accepted.lease, accepted.task);
    } catch (error) {
      if (this.alive) {
        this.ctx.say(this, `${accepted.task.id} failed (${(error as Error).message}); giving it back`);
        // Holding a lease on work that failed would keep the task and its area locked until expiry.
        try {
          await this.client.release(accepted.lease.lease_id, `work failed: ${(error as Error).message}`.slice(0, 500));
        } catch {
          // The lease is already gone (expired or cancelled): nothing to give back.
        }
      }
    } finally {
      this.active.delete(accepted.task.id);
    }
  }

  private async work(lease: Lease, task: Task): Promise<void> {
    const client = this.client!;
    const workspace = await prepareTaskWorkspace({ repoDir: this.clone, task, tasksDir: join(this.ctx.workDir, this.spec.login, 'tasks') });
    this.check();
    await client.report(lease.lease_id, { state: 'in_progress' });
    this.setPhase(task.id, 'working');
    await this.sleep(this.ctx.workMs(task));
    this.check();
    this.setPhase(task.id, 'finishing');
    const areaDir = (workspace.contract.areas[task.area ?? ''] ?? ['notes/**'])[0]!.replace(/\/?\*\*.*$/, '').replace(/\/[^/]*\.[a-z]+$/, '') || 'notes';
    const dir = join(workspace.dir, areaDir);
    await mkdir(dir, { recursive: true });
    const note = [`# ${task.id} ${task.title.replace(/\s+/g, ' ')}`, '', `Resolved by @${this.spec.login} (simulated volunteer) on ${workspace.branch}.`, ''].join('\n');
    await writeFile(join(dir, `${task.id}.md`), note);
    await commitAll(workspace.dir, `${task.id}: ${task.title}`, { name: this.spec.name, email: `${this.spec.login}@example.invalid` });
    const gates = await runGates({ repoDir: workspace.dir, contract: workspace.contract, signal: this.abort.signal, timeoutMs: 60_000, checklistConfirmed: true });
    this.check();
    const missing = missingGates(gates, workspace.contract.gates);
    if (missing.length > 0) {
      await client.report(lease.lease_id, { state: 'blocked', reason: `gates failed: ${missing.join(', ')}` });
      return;
    }
    await push(workspace.dir, workspace.branch);
    this.check();
    const [owner, repo] = task.repo.split('/') as [string, string];
    const pr = await openPullRequest({
      token: this.ctx.githubToken,
      owner,
      repo,
      head: workspace.branch,
      base: workspace.base,
      task,
      contract: workspace.contract,
      apiBaseUrl: this.ctx.githubApiUrl,
      attribution: `Opened by @${this.spec.login} via OWP (demo), task ${task.id}.`,
    });
    this.check();
    await client.report(lease.lease_id, { state: 'pr_opened', pr: { url: pr.url, number: pr.number, branch: workspace.branch, gates, opened_at: Date.now() } });
  }

  private setPhase(taskId: string, phase: 'working' | 'finishing'): void {
    const entry = this.active.get(taskId);
    if (entry) entry.phase = phase;
  }

  private check(): void {
    if (!this.alive) throw new Error('worker stopped');
  }

  /** Waits, or stops waiting when the worker is killed. The abort listener goes when the wait ends: one left behind per sleep piled up on the signal (MaxListenersExceededWarning mid-demo). */
  private sleep(ms: number): Promise<void> {
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
