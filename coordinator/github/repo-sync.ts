/**
 * Keeps one connected repo's tasks in step with GitHub. Issues carrying the repo's label become
 * tasks, unless they are closed, locked, assigned to a person or already referenced by an open
 * PR (SWE-agent's rule); an issue closed or unlabelled upstream cancels its task (the holder
 * gets lease.cancelled); a PR merged or closed completes its task. Webhooks only say *what*
 * changed: the state is always read back from GitHub, so a forged or replayed payload cannot
 * put anything into the pool. Polling with conditional requests catches whatever webhooks miss.
 * Everything for one repo runs one step at a time.
 */
import { createHash } from 'node:crypto';
import { OwpError } from '../../protocol/errors.ts';
import { MAX_BULK_TASKS } from '../../protocol/operations.ts';
import { isTerminal } from '../../protocol/states.ts';
import type { TaskRecord } from '../state/records.ts';
import { awaitingChecks, ChecksSync } from './checks-sync.ts';
import type { GitHubIssue, GitHubPull } from './client.ts';
import { prNumberOf, type ConnectedRepo, type IntegrationContext } from './context.ts';
import { issueFields } from './issue-fields.ts';
import { RepoFilesSync } from './repo-files-sync.ts';
import { issueKey } from './sync-state.ts';
import { pollVouchComments } from './vouch-comments.ts';

/** An issue that is to become a task: its number, the link's next generation and the task's fields. */
interface NewIssueTask {
  number: number;
  generation: number;
  fields: ReturnType<RepoSync['taskFields']>;
}

const TRUSTED_AUTHORS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);

export function labelNames(issue: GitHubIssue): string[] {
  return issue.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean);
}

/** Does this PR text mention issue #n (as `#n`, `owner/name#n` or the issue's URL)? */
export function mentionsIssue(text: string, number: number, repo: ConnectedRepo, webUrl: string): boolean {
  const n = String(number);
  const url = `${webUrl}/${repo.owner}/${repo.name}/issues/${n}`.toLowerCase();
  const lower = text.toLowerCase();
  if (new RegExp(`(^|[^\\w/#&])(?:${escape(repo.owner.toLowerCase())}/${escape(repo.name.toLowerCase())})?#${n}(?![\\w])`).test(lower)) return true;
  const at = lower.indexOf(url);
  return at >= 0 && !/[0-9]/.test(lower.charAt(at + url.length));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class RepoSync {
  private queue: Promise<unknown> = Promise.resolve();
  private pollQueued = false;
  /** The open PRs as read at the start of the current poll; undefined outside a poll (then asked afresh, conditionally). */
  private openPulls: GitHubPull[] | undefined;

  private readonly checks: ChecksSync;
  private readonly files: RepoFilesSync;

  constructor(
    readonly repo: ConnectedRepo,
    private readonly ctx: IntegrationContext,
    /** The coordinator config's own settings for this repo (they win over the repo's files). */
    fromConfig: Record<string, unknown> = {},
  ) {
    this.checks = new ChecksSync(repo, ctx);
    this.files = new RepoFilesSync(repo, ctx, fromConfig);
  }

  /** A push: the contract or policy on the default branch may have changed. */
  pushed(payload: Record<string, unknown>): Promise<void> {
    return this.serial(async () => {
      await this.files.pushed(payload);
    });
  }

  /** The contract and policy from the default branch (a failure is logged; the settings in force stay). */
  private async refreshFiles(): Promise<void> {
    try {
      await this.files.refresh();
    } catch (error) {
      this.ctx.log.warn({ repo: this.repo.config.repo, err: error }, `${this.repo.config.repo}: reading .owp.yml / .owp/policy.yml from the default branch failed; the settings in force stay`);
    }
  }

  /**
   * CI moved (a webhook, or a PR was just attached): re-read the checks of the PRs waiting for
   * them (only PR `number`'s when given). A failure is logged; the next poll tries again.
   */
  checksChanged(number?: number): Promise<void> {
    return this.serial(async () => {
      for (const task of this.checks.waiting(number)) await this.refreshChecks(task);
    });
  }

  private async refreshChecks(task: TaskRecord): Promise<void> {
    try {
      await this.checks.refresh(task);
    } catch (error) {
      this.ctx.log.warn({ repo: this.repo.config.repo, task_id: task.id, err: error }, `${this.repo.config.repo} ${task.id}: reading the PR's checks failed; trying again on the next poll`);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Full reconciliation (the polling fallback). A poll already waiting absorbs this one. */
  poll(): Promise<void> {
    if (this.pollQueued) return this.queue.then(() => undefined);
    this.pollQueued = true;
    return this.serial(async () => {
      this.pollQueued = false;
      await this.reconcileAll();
    });
  }

  /** A webhook said this issue changed. */
  issueChanged(number: number): Promise<void> {
    return this.serial(async () => {
      await this.reconcileIssue(number, await this.repo.client.issue(this.repo.owner, this.repo.name, number));
    });
  }

  settled(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  private async reconcileAll(): Promise<void> {
    try {
      await this.reconcileAllSteps();
    } finally {
      this.openPulls = undefined;
    }
  }

  private async reconcileAllSteps(): Promise<void> {
    const { owner, name, client } = this.repo;
    await this.refreshFiles();
    const pulls = await client.openPulls(owner, name);
    this.openPulls = pulls.data;
    const issues = await client.openIssues(owner, name, this.repo.config.label);
    const listed = new Map<number, GitHubIssue>();
    for (const issue of issues.data) if (!issue.pull_request) listed.set(issue.number, issue);
    if (issues.changed || pulls.changed) {
      const born: NewIssueTask[] = [];
      for (const issue of listed.values()) await this.reconcileIssue(issue.number, issue, born);
      await this.createTasks(born);
    }
    // Issues whose task is live but that left the open, labelled list: closed or unlabelled.
    for (const [key, link] of Object.entries(this.ctx.state.data.issues)) {
      const number = this.numberOfKey(key);
      if (number === undefined || listed.has(number)) continue;
      const task = this.ctx.task(link.task_id);
      if (task && !isTerminal(task.state)) await this.reconcileIssue(number, await client.issue(owner, name, number));
      else if (!link.rearmed) await this.rearm(key);
    }
    for (const task of this.checks.waiting()) await this.refreshChecks(task);
    await this.readComments();
    // PRs that are no longer open: merged or closed.
    const open = new Set(pulls.data.map((p) => p.number));
    for (const task of this.ctx.tasksOf(this.repo.config.repo)) {
      if (task.state !== 'pr_opened') continue;
      const number = prNumberOf(task, this.repo, this.ctx.config.web_url);
      if (number !== undefined && !open.has(number)) await this.reconcilePull(task, await client.pull(owner, name, number));
    }
  }

  /** `/owp vouch|denounce` comments webhooks did not bring (a failure is logged; the next poll tries again). */
  private async readComments(): Promise<void> {
    try {
      await pollVouchComments(this.ctx, this.repo, this.ctx.runtime?.clock.now() ?? Date.now());
    } catch (error) {
      this.ctx.log.warn({ repo: this.repo.config.repo, err: error }, `${this.repo.config.repo}: reading comments for /owp vouch|denounce failed; trying again on the next poll`);
    }
  }

  private numberOfKey(key: string): number | undefined {
    const prefix = `${this.repo.config.repo}#`;
    return key.startsWith(prefix) ? Number(key.slice(prefix.length)) : undefined;
  }

  private async rearm(key: string): Promise<void> {
    const link = this.ctx.state.data.issues[key];
    if (!link || link.rearmed) return;
    link.rearmed = true;
    await this.ctx.state.save();
  }

  /** The live task for an issue: the linked one, else one made by hand with this issue ref (adopted). */
  private liveTaskFor(number: number): TaskRecord | undefined {
    const link = this.ctx.state.data.issues[issueKey(this.repo.config.repo, number)];
    const linked = link ? this.ctx.task(link.task_id) : undefined;
    if (linked && !isTerminal(linked.state)) return linked;
    return this.ctx.tasksOf(this.repo.config.repo).find((t) => t.issue?.number === number && !isTerminal(t.state));
  }

  /**
   * Creates the tasks a full sync found, up to MAX_BULK_TASKS per task.create_many: a backlog of
   * labelled issues becomes tasks in a few durable writes instead of one per issue. The key is the
   * payload's hash; if the coordinator stops before the links are saved, the next sync adopts the
   * tasks by their issue ref (liveTaskFor) rather than making them twice. A refused batch (one issue
   * the coordinator will not take) falls back to one task.create per issue, so the others still come in.
   */
  private async createTasks(born: NewIssueTask[]): Promise<void> {
    for (let at = 0; at < born.length; at += MAX_BULK_TASKS) {
      const batch = born.slice(at, at + MAX_BULK_TASKS);
      const tasks = batch.map((b) => ({ ...b.fields, repo: this.repo.config.repo }));
      const digest = createHash('sha256').update(JSON.stringify(tasks)).digest('hex').slice(0, 32);
      let created: Array<{ id: string }>;
      try {
        created = (await this.ctx.call('task.create_many', { tasks, idempotency_key: `github:issues:${digest}` })).tasks;
      } catch (error) {
        if (!(error instanceof OwpError) || error.code === 'UNAVAILABLE') throw error;
        this.ctx.log.warn({ repo: this.repo.config.repo, err: error }, `${this.repo.config.repo}: creating ${batch.length} tasks at once was refused (${error.message}); creating them one by one`);
        for (const b of batch) await this.createTask(b);
        continue;
      }
      batch.forEach((b, i) => {
        const task = created[i] as { id: string };
        this.ctx.state.data.issues[issueKey(this.repo.config.repo, b.number)] = { task_id: task.id, generation: b.generation };
        this.ctx.log.info({ repo: this.repo.config.repo, issue: b.number, task_id: task.id }, `${this.repo.config.repo} issue #${b.number} became ${task.id}`);
      });
      await this.ctx.state.save();
    }
  }

  private async createTask({ number, generation, fields }: NewIssueTask): Promise<void> {
    const repo = this.repo.config.repo;
    const key = issueKey(repo, number);
    const { task: created } = await this.ctx.call('task.create', { ...fields, repo, idempotency_key: `github:issue:${key}:${generation}` });
    this.ctx.state.data.issues[key] = { task_id: created.id, generation };
    await this.ctx.state.save();
    this.ctx.log.info({ repo, issue: number, task_id: created.id }, `${repo} issue #${number} became ${created.id}`);
  }

  /** Reconciles one issue; a task it needs goes to `born` when given (a full sync creates them together), else is created now. */
  private async reconcileIssue(number: number, issue: GitHubIssue | null, born?: NewIssueTask[]): Promise<void> {
    const repo = this.repo.config.repo;
    const key = issueKey(repo, number);
    const task = this.liveTaskFor(number);
    if (issue?.pull_request) return;
    const labelled = issue !== null && labelNames(issue).some((l) => l.toLowerCase() === this.repo.config.label.toLowerCase());
    if (!issue || issue.state !== 'open' || !labelled) {
      const why = !issue ? `issue #${number} no longer exists on GitHub` : issue.state !== 'open' ? `issue #${number} was closed on GitHub` : `label ${this.repo.config.label} was removed from issue #${number} on GitHub`;
      // A PR already exists (counted, or waiting for its checks): its outcome (merged or closed)
      // decides the task, not the issue, which a merged PR's "Closes #n" closes first.
      if (task && task.state !== 'pr_opened' && !awaitingChecks(task)) {
        await this.ctx.call('task.cancel', { task_id: task.id, reason: why, idempotency_key: `github:cancel:${task.id}` });
        this.ctx.log.info({ repo, task_id: task.id, why }, `${repo} ${task.id} cancelled: ${why}`);
      }
      await this.rearm(key);
      return;
    }
    if (task) {
      if (!this.ctx.state.data.issues[key]) {
        this.ctx.state.data.issues[key] = { task_id: task.id, generation: 1 };
        await this.ctx.state.save();
      }
      await this.refreshFields(task, issue);
      return;
    }
    const link = this.ctx.state.data.issues[key];
    // Its task ended (merged, PR closed, or cancelled in OWP): only unlabelling/closing and then
    // labelling/reopening the issue offers it again, so a finished issue is never re-queued by itself.
    if (link && !link.rearmed) return;
    const skip = this.skipReason(issue) ?? (await this.referencedByOpenPr(number));
    if (skip) return;
    const next: NewIssueTask = { number, generation: (link?.generation ?? 0) + 1, fields: this.taskFields(issue) };
    if (born) born.push(next);
    else await this.createTask(next);
  }

  /** Why a labelled open issue does not become a task, or undefined. */
  private skipReason(issue: GitHubIssue): string | undefined {
    if (issue.locked) return 'locked';
    if ((issue.assignees?.length ?? 0) > 0 || issue.assignee) return 'assigned to a person';
    return undefined;
  }

  private async referencedByOpenPr(number: number): Promise<string | undefined> {
    const pulls = this.openPulls ?? (await this.repo.client.openPulls(this.repo.owner, this.repo.name)).data;
    const pr = pulls.find((p) => mentionsIssue(`${p.title}\n${p.body ?? ''}`, number, this.repo, this.ctx.config.web_url));
    return pr ? `referenced by open PR #${pr.number}` : undefined;
  }

  private taskFields(issue: GitHubIssue): { title: string; body: string; issue: { number: number; url: string }; area?: string; tier: number; effort: number; skills: string[]; priority: number; acceptance: string[]; x_github: Record<string, unknown> } {
    const mode = this.repo.config.body_block;
    const readBody = mode === 'any' || (mode === 'maintainers' && TRUSTED_AUTHORS.has(issue.author_association ?? ''));
    const { fields, warnings } = issueFields(labelNames(issue), issue.body, readBody);
    if (warnings.length > 0) this.ctx.log.warn({ repo: this.repo.config.repo, issue: issue.number, warnings }, `${this.repo.config.repo} issue #${issue.number}: ${warnings.join('; ')}`);
    return {
      title: issue.title.trim().slice(0, 256) || `Issue #${issue.number}`,
      body: (issue.body ?? '').slice(0, 65536),
      issue: { number: issue.number, url: issue.html_url.slice(0, 2000) },
      ...(fields.area ? { area: fields.area } : {}),
      tier: fields.tier ?? 0,
      effort: fields.effort ?? 1,
      skills: fields.skills ?? [],
      priority: fields.priority ?? 0,
      acceptance: fields.acceptance ?? [],
      x_github: { issue: issue.number, ...(warnings.length > 0 ? { warnings: warnings.slice(0, 20) } : {}) },
    };
  }

  /** Edits upstream flow into a task that nobody is working on yet (only tasks this sync made, not adopted ones). */
  private async refreshFields(task: TaskRecord, issue: GitHubIssue): Promise<void> {
    if (task.state !== 'ready' && task.state !== 'blocked') return;
    if ((task.x_github as { issue?: unknown } | undefined)?.issue !== issue.number) return;
    const want = this.taskFields(issue);
    const changes: Record<string, unknown> = {};
    for (const k of ['title', 'body', 'area', 'tier', 'effort', 'skills', 'priority', 'acceptance'] as const) {
      if (want[k] !== undefined && JSON.stringify(want[k]) !== JSON.stringify(task[k])) changes[k] = want[k];
    }
    if (Object.keys(changes).length === 0) return;
    // Text edited after the issue was labelled is marked, not slipped in: whoever reads the task (the
    // prompt, the dashboard, the journal's task.updated) sees that the words changed since a
    // maintainer looked (SECURITY.md, "issue edits").
    const edited = (['title', 'body', 'acceptance'] as const).filter((k) => k in changes);
    if (edited.length > 0) {
      const before = ((task.x_github as { edited_after_labelling?: unknown } | undefined)?.edited_after_labelling as string[] | undefined) ?? [];
      changes.x_github = { ...(task.x_github as Record<string, unknown> | undefined), ...want.x_github, edited_after_labelling: [...new Set([...before, ...edited])] };
      this.ctx.log.warn({ repo: this.repo.config.repo, issue: issue.number, task_id: task.id, edited }, `${this.repo.config.repo} issue #${issue.number} was edited after labelling (${edited.join(', ')}); ${task.id} is marked`);
    }
    const digest = createHash('sha256').update(JSON.stringify(changes)).digest('hex').slice(0, 16);
    await this.ctx.call('task.update', { task_id: task.id, ...changes, idempotency_key: `github:update:${task.id}:${digest}` });
  }

  /** A PR that is no longer open: merged or closed on GitHub completes its task. */
  async reconcilePull(task: TaskRecord, pull: GitHubPull | null): Promise<void> {
    if (!pull || pull.state !== 'closed' || task.state !== 'pr_opened') return;
    const outcome = pull.merged_at ? 'merged' : 'closed';
    await this.ctx.call('task.complete', {
      task_id: task.id,
      outcome,
      reason: outcome === 'merged' ? `PR #${pull.number} merged on GitHub` : `PR #${pull.number} closed on GitHub without merging`,
      idempotency_key: `github:pr:${task.id}:${pull.number}:${outcome}`,
    });
    this.ctx.log.info({ repo: this.repo.config.repo, task_id: task.id, outcome, pr: pull.number }, `${this.repo.config.repo} ${task.id} ${outcome} (PR #${pull.number})`);
  }

  /** A webhook said this PR changed: complete its task if it is merged or closed. */
  pullChanged(number: number): Promise<void> {
    return this.serial(async () => {
      const task = this.ctx.tasksOf(this.repo.config.repo).find((t) => t.state === 'pr_opened' && prNumberOf(t, this.repo, this.ctx.config.web_url) === number);
      if (task) await this.reconcilePull(task, await this.repo.client.pull(this.repo.owner, this.repo.name, number));
    });
  }
}
