/**
 * A running `owp worker`: one WorkerClient (heartbeats, reconnect, resume come from it), offers
 * shown one at a time with a countdown and taken on a keypress (or automatically), each accepted
 * task checked out in its own worktree on its branch and handed to the volunteer's AI tool.
 * Submitting is `owp submit` in the task's worktree; this process keeps the lease alive meanwhile
 * and notices when the task moves on.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Lease, Offer, Task } from '../protocol/model.ts';
import { OwpError } from '../protocol/errors.ts';
import { HttpClient } from '../client/http-client.ts';
import type { WorkerClient } from '../client/worker-client.ts';
import { buildPrompt, oneLine } from '../client/prompt.ts';
import { prepareTaskWorkspace } from '../client/task-workspace.ts';
import { gitCommonDir } from '../client/git.ts';
import { prProgress } from '../client/checks-wait.ts';
import { GITHUB_API_URL } from '../client/github-api.ts';
import { readyWhenCounted, sayProgress } from './checks-report.ts';
import { includesRepo } from '../client/clone-repos.ts';
import { formatCapacity } from '../protocol/vocabulary.ts';
import { planHandoff, runHandoff, type ToolName } from './handoff.ts';
import { formatDuration, type Output } from './output.ts';
import { readState, updateState, type HeldTask, type WorkerState } from './worker-state.ts';

export interface SessionOptions {
  client: WorkerClient;
  out: Output;
  state: WorkerState;
  stateFile: string;
  repoDir: string;
  /** The repos this clone can work on (its origin and upstream): a task of any other is refused. */
  repos: string[];
  tool: ToolName;
  autoAccept: boolean;
  tasksDir?: string;
  /** Keys come from a terminal in raw mode; otherwise lines on stdin (a, d, q). */
  input?: NodeJS.ReadStream;
}

export const FINISH_CLI = 'When the gates pass, commit your work and stop. The volunteer then runs `owp submit` in this folder: it runs the gates again, pushes the branch and opens the pull request as them. Do not push, open a pull request, or merge yourself.';

export class WorkerSession {
  private readonly queue: Offer[] = [];
  private deciding: Offer | undefined;
  private readonly http: HttpClient;
  private ticker: NodeJS.Timeout | undefined;
  private stopResolve: (() => void) | undefined;
  private readonly busy = new Set<string>();
  private handingOff = false;
  private stopped = false;
  private cleanupInput: (() => void) | undefined;

  constructor(private readonly o: SessionOptions) {
    this.http = new HttpClient({ baseUrl: o.state.coordinator, token: o.state.token });
  }

  /** Runs until `stop()` (q, Ctrl-C, SIGTERM). */
  async run(): Promise<void> {
    const { client, out } = this.o;
    client.on('state', (s) => {
      out.event('connection', { state: s });
      if (s === 'reconnecting') out.warn('Connection lost; reconnecting (your leases stay yours until their heartbeat timeout)…');
      this.refresh();
    });
    client.on('connect.error', (e) => {
      if (e.code === 'UNAUTHENTICATED') out.error(`${e.message}`);
    });
    client.on('hello', () => {
      out.event('connected', { worker_id: client.worker?.id });
      this.refresh();
    });
    client.on('offer', (offer) => this.onOffer(offer));
    client.on('lease.granted', ({ lease, task }) => void this.onGranted(lease, task));
    client.on('offer.withdrawn', (p) => {
      const i = this.queue.findIndex((o) => o.offer_id === p.offer_id);
      if (i >= 0) this.queue.splice(i, 1);
      if (this.deciding?.offer_id === p.offer_id) this.deciding = undefined;
      out.line('dim', `Offer ${p.offer_id} for ${p.task_id} withdrawn: ${p.reason}`, { offer_id: p.offer_id, task_id: p.task_id });
      out.event('offer.withdrawn', p);
      this.next();
    });
    client.on('lease.lost', ({ lease, reason, code }) => void this.onLeaseLost(lease, reason, code));
    client.on('pr.checks', (p) => sayProgress(out, p.task_id, prProgress({ state: 'leased', pr: p.pr, checks: p.checks })));
    client.on('pr.counted', (p) => void this.onCounted(p.task_id, p.lease_id));

    const hello = await client.connect();
    const me = hello.worker;
    if (!me) throw new OwpError('UNAUTHENTICATED', 'The coordinator did not recognise this token as a worker. Delete the state file and join again.');
    out.success(`Connected to ${this.o.state.coordinator} as ${me.id} (@${me.github_login}) · skills ${me.skills.join(', ') || 'none'} · capacity ${me.capacity}`, { worker: me });
    // The client's leases, not the answer's list: a lease granted or ended while the hello was in
    // flight is counted as the client counted it (client/worker-client.ts).
    await this.reconcile([...client.leases.values()]);
    this.listenForKeys();
    this.ticker = setInterval(() => this.refresh(), 1000);
    this.refresh();
    for (const offer of [...client.offers.values()]) this.onOffer(offer);
    await new Promise<void>((resolve) => (this.stopResolve = resolve));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    this.cleanupInput?.();
    this.stopResolve?.();
  }

  /** Drops tasks from the state file that the coordinator no longer leases to us, saying what became of them. */
  private async reconcile(leases: Lease[]): Promise<void> {
    const live = new Map(leases.map((l) => [l.lease_id, l]));
    const state = (await readState(this.o.stateFile)) ?? this.o.state;
    for (const held of Object.values(state.tasks)) {
      if (live.has(held.lease_id)) {
        this.o.out.info(`Resumed ${held.task_id} (${held.branch}) in ${held.dir}`, { task_id: held.task_id });
        this.http.call('task.get', { task_id: held.task_id }).then(({ task }) => this.efforts.set(task.id, task.effort), () => undefined);
        continue;
      }
      await this.settle(held, 'the coordinator no longer holds this lease');
    }
    for (const lease of leases) {
      if (!includesRepo(this.o.repos, lease.repo)) {
        await this.refuseLease(lease.lease_id, lease.task_id, lease.repo);
        continue;
      }
      if (!state.tasks[lease.task_id] && !this.busy.has(lease.task_id)) this.o.out.warn(`The coordinator holds lease ${lease.lease_id} on ${lease.task_id} for this worker, but this clone has no record of it. Run \`owp release --task ${lease.task_id}\` or wait for it to expire.`);
    }
  }

  private onOffer(offer: Offer): void {
    if (this.queue.some((o) => o.offer_id === offer.offer_id) || this.deciding?.offer_id === offer.offer_id) return;
    const t = offer.task;
    if (!includesRepo(this.o.repos, t.repo)) {
      void this.refuseOffer(offer);
      return;
    }
    this.o.out.line('step', `Offer ${offer.offer_id}: ${t.id} "${oneLine(t.title, 80)}" · ${t.repo} · area ${t.area ?? '-'} · effort ${t.effort} · tier ${t.tier}`, { offer });
    this.o.out.event('offer', { offer });
    this.queue.push(offer);
    this.next();
  }

  private next(): void {
    if (this.deciding) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.deadline_at <= now) this.queue.shift();
    const offer = this.queue.shift();
    if (!offer) {
      this.refresh();
      return;
    }
    this.deciding = offer;
    if (this.o.autoAccept) void this.accept(offer);
    this.refresh();
  }

  private async accept(offer: Offer): Promise<void> {
    const { client, out } = this.o;
    try {
      const { lease, task } = await client.accept(offer.offer_id);
      out.success(`Accepted ${task.id}: lease ${lease.lease_id}, epoch ${lease.epoch}, heartbeat every ${formatDuration(lease.heartbeat_interval_ms)}`, { lease, task_id: task.id });
      out.event('accepted', { lease, task });
      this.efforts.set(task.id, task.effort);
      if (this.deciding?.offer_id === offer.offer_id) this.deciding = undefined;
      this.next();
      await this.startTask(lease, task);
    } catch (error) {
      out.error(`Could not accept ${offer.offer_id}: ${(error as Error).message}`, { offer_id: offer.offer_id });
      if (this.deciding?.offer_id === offer.offer_id) this.deciding = undefined;
      this.next();
    }
  }

  /** A lease the coordinator granted directly (--auto-accept to a coordinator with direct leases): started as an accepted one. */
  private async onGranted(lease: Lease, task: Task): Promise<void> {
    const { out } = this.o;
    out.success(`Granted ${task.id}: lease ${lease.lease_id}, epoch ${lease.epoch}, heartbeat every ${formatDuration(lease.heartbeat_interval_ms)}`, { lease, task_id: task.id });
    out.event('granted', { lease, task });
    this.efforts.set(task.id, task.effort);
    await this.startTask(lease, task);
  }

  /**
   * A coordinator that ignores the declared repos (an older one) offered a task this clone cannot
   * work on: branching it from this clone's default branch would build on the wrong code.
   */
  private async refuseOffer(offer: Offer): Promise<void> {
    const { out } = this.o;
    const why = `${offer.task_id} is in ${offer.task.repo}, and this clone works on ${this.o.repos.join(', ')}`;
    out.warn(`Declined offer ${offer.offer_id}: ${why}.`, { offer_id: offer.offer_id, task_id: offer.task_id, repo: offer.task.repo });
    out.event('offer.refused', { offer_id: offer.offer_id, task_id: offer.task_id, repo: offer.task.repo, repos: this.o.repos });
    try {
      await this.o.client.decline(offer.offer_id, `wrong repository: ${why}`);
    } catch (error) {
      out.warn(`Could not decline ${offer.offer_id}: ${(error as Error).message}`);
    }
  }

  /** A lease on a task of another repo (held before this clone declared its repos) goes back to the pool. */
  private async refuseLease(leaseId: string, taskId: string, repo: string): Promise<void> {
    const { out } = this.o;
    const why = `${taskId} is in ${repo}, and this clone works on ${this.o.repos.join(', ')}`;
    try {
      await this.o.client.release(leaseId, `wrong repository: ${why}`);
      out.warn(`Released ${taskId} (lease ${leaseId}): ${why}.`, { task_id: taskId, lease_id: leaseId, repo });
      out.event('lease.refused', { task_id: taskId, lease_id: leaseId, repo, repos: this.o.repos });
    } catch (error) {
      out.warn(`Could not release ${taskId} of ${repo} (${(error as Error).message}); run \`owp release --task ${taskId}\` from a clone of ${repo}, or let its lease expire.`);
    }
  }

  private async decline(offer: Offer): Promise<void> {
    this.deciding = undefined;
    try {
      await this.o.client.decline(offer.offer_id, 'declined by the volunteer');
      this.o.out.info(`Declined ${offer.task_id}`, { offer_id: offer.offer_id });
    } catch (error) {
      this.o.out.warn(`Could not decline ${offer.offer_id}: ${(error as Error).message}`);
    }
    this.next();
  }

  private async startTask(lease: Lease, task: Task): Promise<void> {
    const { out } = this.o;
    if (!includesRepo(this.o.repos, task.repo)) {
      await this.refuseLease(lease.lease_id, task.id, task.repo);
      return;
    }
    this.busy.add(task.id);
    this.refresh();
    try {
      out.spin(`${task.id}: fetching and creating the task branch…`);
      const workspace = await prepareTaskWorkspace({ repoDir: this.o.repoDir, task, ...(this.o.tasksDir ? { tasksDir: this.o.tasksDir } : {}) });
      out.stopSpinner();
      const held: HeldTask = {
        task_id: task.id,
        lease_id: lease.lease_id,
        epoch: lease.epoch,
        repo: task.repo,
        title: task.title,
        branch: workspace.branch,
        base: workspace.base,
        dir: workspace.dir,
        accepted_at: Date.now(),
        ...(task.issue ? { issue: task.issue } : {}),
      };
      const prompt = buildPrompt({ task, contract: workspace.contract, branch: workspace.branch, finish: FINISH_CLI });
      const promptDir = join(await gitCommonDir(this.o.repoDir), 'owp-prompts');
      await mkdir(promptDir, { recursive: true });
      held.prompt_file = join(promptDir, `${task.id}.md`);
      await writeFile(held.prompt_file, prompt, { mode: 0o600 });
      await updateState(this.o.stateFile, (s) => {
        s.tasks[task.id] = held;
      });
      out.success(`${task.id}: branch ${workspace.branch} from ${workspace.base} in ${workspace.dir}`, { task_id: task.id, branch: workspace.branch, dir: workspace.dir });
      out.event('workspace', { task_id: task.id, branch: workspace.branch, base: workspace.base, dir: workspace.dir, prompt_file: held.prompt_file });
      await this.o.client.report(lease.lease_id, { state: 'in_progress' });
      await this.handOff(held, prompt);
    } catch (error) {
      out.stopSpinner();
      const message = error instanceof OwpError ? `${error.code}: ${error.message}` : (error as Error).message;
      out.error(`${task.id}: could not start: ${message}. The lease is still yours: fix the problem and run \`owp release --task ${task.id}\` to give it back.`, { task_id: task.id });
    } finally {
      this.busy.delete(task.id);
      this.refresh();
    }
  }

  private async handOff(held: HeldTask, prompt: string): Promise<void> {
    const { out } = this.o;
    const interactive = Boolean(this.o.input?.isTTY) && out.tty && !this.handingOff;
    const plan = planHandoff(this.o.tool, prompt, interactive);
    if (!plan.command) {
      out.info(`${held.task_id}: ${plan.fallback}; here is the prompt (also in ${held.prompt_file}):`, { task_id: held.task_id, prompt_file: held.prompt_file });
      out.block(`${out.colors.dim('─'.repeat(60))}\n${prompt}\n${out.colors.dim('─'.repeat(60))}`);
      out.event('prompt', { task_id: held.task_id, prompt_file: held.prompt_file, prompt });
    } else {
      out.line('step', `${held.task_id}: handing the task to ${plan.tool} in ${held.dir}${interactive ? ' (exit it to come back here)' : ''}`, { task_id: held.task_id, tool: plan.tool });
      out.event('handoff.started', { task_id: held.task_id, tool: plan.tool, command: plan.command });
      if (interactive) {
        this.handingOff = true;
        this.suspendKeys();
        out.pause();
      }
      const code = await runHandoff(plan, held.dir, (chunk) => out.event('handoff.output', { task_id: held.task_id, chunk }));
      if (interactive) {
        out.resume();
        this.resumeKeys();
        this.handingOff = false;
      }
      out.event('handoff.finished', { task_id: held.task_id, exit_code: code });
      if (code === 0) out.success(`${held.task_id}: ${plan.tool} finished`);
      else out.warn(`${held.task_id}: ${plan.tool} exited with code ${code}`);
    }
    out.info(`${held.task_id}: when the work is done: cd ${held.dir} && owp submit   (or \`owp release --task ${held.task_id}\` to give it back)`);
  }

  /** The PR counts on CI: say so, take the draft out of draft (with $GITHUB_TOKEN), forget the task. */
  private async onCounted(taskId: string, leaseId: string): Promise<void> {
    const { out } = this.o;
    try {
      const { task } = await this.http.call('task.get', { task_id: taskId });
      const progress = prProgress(task);
      sayProgress(out, taskId, progress);
      await readyWhenCounted(out, task, progress, { token: process.env.GITHUB_TOKEN ?? process.env.GH_TOKEN, apiBaseUrl: process.env.OWP_GITHUB_API_URL ?? GITHUB_API_URL });
    } catch (error) {
      out.warn(`${taskId}: the PR counts; could not read it back (${(error as Error).message}).`);
    }
    await updateState(this.o.stateFile, (s) => {
      if (s.tasks[taskId]?.lease_id === leaseId) delete s.tasks[taskId];
    });
    this.refresh();
  }

  /** A lease ended: say whether the task went on (PR reported) or was lost, and forget it. */
  private async onLeaseLost(lease: Lease, reason: string, code?: string): Promise<void> {
    const state = await readState(this.o.stateFile);
    const held = state?.tasks[lease.task_id];
    if (held && held.lease_id === lease.lease_id) await this.settle(held, reason, code);
    else await this.settle({ task_id: lease.task_id, lease_id: lease.lease_id } as HeldTask, reason, code, false);
    this.refresh();
  }

  private async settle(held: HeldTask, reason: string, code?: string, inState = true): Promise<void> {
    const { out } = this.o;
    let task: Task | undefined;
    try {
      task = (await this.http.call('task.get', { task_id: held.task_id })).task;
    } catch {
      // The coordinator may be unreachable right now; report what we know.
    }
    if (task && (task.state === 'pr_opened' || task.state === 'merged') && task.pr) {
      out.success(`${held.task_id}: PR reported: ${task.pr.url}`, { task_id: held.task_id, pr: task.pr });
      out.event('task.done', { task_id: held.task_id, state: task.state, pr: task.pr });
    } else {
      out.warn(`${held.task_id}: lease ${held.lease_id} ended (${code ?? 'ended'}: ${reason})${task ? `; the task is now ${task.state}` : ''}. Stop working on it.`, { task_id: held.task_id, code });
      out.event('lease.lost', { task_id: held.task_id, lease_id: held.lease_id, reason, code, task_state: task?.state });
    }
    if (inState) {
      await updateState(this.o.stateFile, (s) => {
        if (s.tasks[held.task_id]?.lease_id === held.lease_id) delete s.tasks[held.task_id];
      });
    }
  }

  private refresh(): void {
    if (this.stopped) return;
    const { client, out } = this.o;
    if (this.deciding && this.deciding.deadline_at <= Date.now()) {
      this.deciding = undefined;
      this.next();
      return;
    }
    const c = out.colors;
    const conn = client.connectionState();
    const dot = conn === 'connected' ? c.green('●') : conn === 'disconnected' ? c.red('●') : c.yellow('●');
    const worker = client.worker;
    const leased = [...client.leases.values()].reduce((sum, l) => sum + (this.taskEffort(l.task_id) ?? 0), 0);
    const offered = [...client.offers.values()].filter((o) => o.deadline_at > Date.now()).reduce((sum, o) => sum + o.task.effort, 0);
    const parts = [`${dot} ${worker?.id ?? '…'} ${conn}`, `capacity ${worker ? formatCapacity({ capacity: worker.capacity, leased, offered }) : '?'}`];
    const held = [...client.leases.values()].map((l) => `${l.task_id}${this.busy.has(l.task_id) ? ' starting' : ''}`);
    if (held.length) parts.push(`working on ${held.join(', ')}`);
    if (this.deciding) {
      const left = Math.max(0, Math.ceil((this.deciding.deadline_at - Date.now()) / 1000));
      const keys = this.o.autoAccept ? 'accepting…' : `${c.bold('a')} accept · ${c.bold('d')} decline`;
      parts.push(`${c.yellow('offer')} ${this.deciding.task_id} "${oneLine(this.deciding.task.title, 40)}" ${keys} · ${left} s`);
    } else if (!held.length) {
      parts.push(c.dim('waiting for offers'));
    }
    parts.push(c.dim('q quit'));
    out.status(parts.join(c.dim('  │  ')));
  }

  private readonly efforts = new Map<string, number>();
  private taskEffort(taskId: string): number | undefined {
    return this.efforts.get(taskId);
  }

  private keyHandler = (key: string): void => {
    const k = key.trim().toLowerCase();
    if (k === '\u0003' || k === 'q' || k === 'quit') {
      this.stop();
      return;
    }
    const offer = this.deciding;
    if (!offer) return;
    if (k === 'a' || k === 'y' || k === 'accept') void this.accept(offer);
    else if (k === 'd' || k === 'n' || k === 'decline') void this.decline(offer);
  };

  private listenForKeys(): void {
    const input = this.o.input;
    if (!input) return;
    if (input.isTTY) {
      input.setRawMode(true);
      input.setEncoding('utf8');
      input.on('data', this.keyHandler);
      input.resume();
      this.cleanupInput = () => {
        input.off('data', this.keyHandler);
        input.setRawMode(false);
        releaseInput(input);
      };
    } else {
      const rl = createInterface({ input });
      rl.on('line', this.keyHandler);
      this.cleanupInput = () => {
        rl.close();
        releaseInput(input);
      };
    }
  }

  private suspendKeys(): void {
    const input = this.o.input;
    if (input?.isTTY) {
      input.off('data', this.keyHandler);
      input.setRawMode(false);
      input.pause();
    }
  }

  private resumeKeys(): void {
    const input = this.o.input;
    if (input?.isTTY) {
      input.setRawMode(true);
      input.on('data', this.keyHandler);
      input.resume();
    }
  }
}

/** Stops reading stdin for good: a paused pipe or terminal still holds the event loop open. */
function releaseInput(input: NodeJS.ReadStream): void {
  input.pause();
  (input as NodeJS.ReadStream & { unref?: () => void }).unref?.();
}
