/**
 * Submit PR, step by step, without VS Code: pick the lease; check the workspace may run commands
 * (trust), the task has a branch and is not already being submitted; find its checkout on that
 * branch; read the contract from the default branch; confirm the checklist; commit what is left;
 * then, under a cancellable progress, run the gates, push, open the PR and report it
 * (submit-flow.ts keeps that order); and say how it ended. Everything the editor provides
 * (messages, the checklist pick, git through VS Code's Git, the token, progress) comes in
 * through `SubmitIO`, so the whole flow runs in plain `node --test`.
 */
import type { Lease, PullRequestInfo, RepoSettings, Task } from '../../protocol/model.ts';
import type { RepoContract } from '../../client/contract.ts';
import { commandsHash, describeCommands, isApproved, withApproval, type Approvals } from '../../client/command-approval.ts';
import { defaultBranch } from '../../client/git.ts';
import { runGates } from '../../client/gates.ts';
import { openPullRequest } from '../../client/pull-request.ts';
import { ForkError, type PushMode } from '../../client/fork.ts';
import { volunteerOctokit } from '../../client/github-api.ts';
import { PushError } from '../../client/branch-push.ts';
import { publishBranch, type Published } from '../../client/publish.ts';
import { baseContract } from '../../client/task-workspace.ts';
import { AI_TOOL_LABELS, type AiToolSetting } from './ai-tool.ts';
import { plainText } from './markdown.ts';
import { describeError } from './messages.ts';
import { submittedTail } from './checks-items.ts';
import { gateFailureMessage, submitPullRequest, type SubmitOutcome } from './submit-flow.ts';
import type { TreeItemView } from './view-models.ts';

/** A message for the volunteer, with buttons; `tell` resolves with the button pressed, if any. */
export interface Notice {
  level: 'info' | 'warning' | 'error';
  text: string;
  actions?: string[];
  /** Waits for an answer (a dialog) instead of a toast. */
  modal?: boolean;
}

/** A task's checkout as the editor's Git sees it. */
export interface Checkout {
  dir: string;
  /** Re-reads HEAD and the working tree. */
  refresh(): Promise<void>;
  head(): { branch: string | undefined; commit: string | undefined };
  uncommittedPaths(): string[];
  commitAll(message: string): Promise<void>;
  /** The git remote that is the task's repo (usually `origin`). */
  remote: string;
  push(remote: string, branch: string): Promise<void>;
}

export interface SubmitNote {
  branch?: string;
  /** A PR opened but not yet recorded by the pool. */
  prUrl?: string;
  base?: string;
  baseCommit?: string;
  checkoutPath?: string;
  busy?: string;
}

export interface SubmitIO {
  session: {
    readonly state: string;
    snapshot(): { leases: Lease[]; worker?: { github_login: string } | undefined };
    lease(leaseId: string): Lease | undefined;
    leaseForTask(taskId: string): Lease | undefined;
    task(taskId: string): Task | undefined;
    fetchTask(taskId: string): Promise<Task>;
    repoSettings(repo: string): Promise<RepoSettings>;
    report(leaseId: string, report: { state: 'pr_opened'; pr: PullRequestInfo }): Promise<unknown>;
  };
  notes: {
    get(taskId: string): SubmitNote;
    update(taskId: string, patch: { prUrl: string }): Promise<void>;
    forget(taskId: string): Promise<void>;
    setBusy(taskId: string, label: string | undefined): void;
  };
  settings: { githubApiUrl: string; githubLogin: string; aiTool: AiToolSetting; pushTarget: PushMode };
  output: { append(text: string): void; appendLine(text: string): void; show(): void };
  tell(notice: Notice): Promise<string | undefined>;
  workspaceTrusted(): boolean;
  manageTrust(): Promise<void>;
  openInAiTool(leaseId: string): Promise<void>;
  /** Contract commands the volunteer approved, per repository (client/command-approval.ts). */
  commandApprovals: { get(): Approvals | undefined; save(approvals: Approvals): Promise<void> };
  /** Shows the commands (new or changed since approved) and asks before they first run. */
  approveCommands(repo: string, hash: string, lines: string[]): Promise<boolean>;
  /** The checklist items as picks, all ticked; resolves with how many stay ticked, or undefined if dismissed. */
  confirmChecklist(taskId: string, items: string[]): Promise<number | undefined>;
  findCheckout(repo: string, hintPath: string | undefined): Promise<Checkout | undefined>;
  /** The volunteer's token for opening `repo`'s PR (a sign-in asks for the narrowest scope that repo needs). */
  githubToken(repo: string): Promise<string | undefined>;
  /** Runs `work` under a cancellable progress notification; `signal` aborts when cancelled. */
  withProgress<T>(title: string, work: (report: (message: string) => void, signal: AbortSignal) => Promise<T>): Promise<T>;
  openExternal(url: string): Promise<void>;
}

export type SubmitTarget = Pick<TreeItemView, 'leaseId'> | string | undefined;

/** Everything the run needs once the checks passed. */
interface Prepared {
  lease: Lease;
  task: Task;
  branch: string;
  base: string | undefined;
  checkout: Checkout;
  contract: RepoContract;
  checklistConfirmed: boolean | undefined;
  token: string;
}

export class Submitter {
  /** PRs opened but not yet recorded by the coordinator, by lease id, so "Retry report" can finish. */
  private readonly pendingReports = new Map<string, PullRequestInfo>();

  constructor(private readonly io: SubmitIO) {}

  async submit(target: SubmitTarget): Promise<void> {
    const { io } = this;
    if (io.session.state === 'not-joined') {
      void io.tell({ level: 'warning', text: 'OWP: join the pool first (OWP: Join Pool).' });
      return;
    }
    const lease = this.pickLease(target);
    if (!lease) return;
    const pending = this.pendingReports.get(lease.lease_id);
    if (pending) return this.finishReport(lease.lease_id, pending);
    if (!(await this.mayStart(lease))) return;
    try {
      const prepared = await this.prepare(lease);
      if (prepared) await this.tellOutcome(prepared, await this.run(prepared));
    } catch (error) {
      io.notes.setBusy(lease.task_id, undefined);
      void io.tell({ level: 'error', text: `OWP: Submit PR stopped: ${describeError(error, 'Submitting')} The task stays in progress.` });
    }
  }

  private pickLease(target: SubmitTarget): Lease | undefined {
    const { session } = this.io;
    const leases = session.snapshot().leases;
    const lease = typeof target === 'string' ? session.lease(target) ?? session.leaseForTask(target) : target?.leaseId ? session.lease(target.leaseId) : leases.length === 1 ? leases[0] : undefined;
    if (!lease) void this.io.tell({ level: 'info', text: leases.length === 0 ? 'OWP: this window holds no tasks to submit.' : 'OWP: choose the task to submit in My work (Submit PR on its row).' });
    return lease;
  }

  /** Trust (the gates run the repo's commands), a branch to submit, and no submission already running. */
  private async mayStart(lease: Lease): Promise<boolean> {
    const { io } = this;
    if (!io.workspaceTrusted()) {
      const manage = 'Manage Workspace Trust';
      const choice = await io.tell({ level: 'warning', text: 'OWP runs the repo\'s setup, test and lint commands before a PR, and does that only in a trusted workspace. Trust this folder, then run Submit PR again.', actions: [manage] });
      if (choice === manage) await io.manageTrust();
      return false;
    }
    const note = io.notes.get(lease.task_id);
    if (!note.branch) {
      const start = 'Open in AI Tool';
      const choice = await io.tell({ level: 'warning', text: `OWP: ${lease.task_id} has no branch yet. Start it first: OWP makes the branch and hands the task to your AI tool.`, actions: [start] });
      if (choice === start) await io.openInAiTool(lease.lease_id);
      return false;
    }
    if (note.busy) {
      void io.tell({ level: 'info', text: `OWP: ${lease.task_id} is already being submitted (${note.busy}).` });
      return false;
    }
    return true;
  }

  /** Checkout on the branch, the contract from the default branch, checklist, commit, token. */
  private async prepare(lease: Lease): Promise<Prepared | undefined> {
    const { io } = this;
    const note = io.notes.get(lease.task_id);
    const branch = note.branch as string;
    const task = io.session.task(lease.task_id) ?? (await io.session.fetchTask(lease.task_id));
    const checkout = await io.findCheckout(task.repo, note.checkoutPath);
    if (!checkout) {
      void io.tell({ level: 'error', text: `OWP: the checkout of ${task.repo} for ${task.id} is not open (was at ${note.checkoutPath ?? 'an unknown path'}). Open it in this window and try again.` });
      return undefined;
    }
    await checkout.refresh();
    const head = checkout.head();
    if (head.branch !== branch) {
      void io.tell({ level: 'error', text: `OWP: ${checkout.dir} is on ${head.branch ?? 'a detached HEAD'}, not on the task branch ${branch}. Check out ${branch} and Submit PR again.` });
      return undefined;
    }
    const dir = checkout.dir;
    // The gates come from the contract the maintainers merged on the default branch, never from the
    // task branch's own .owp.yml, which the AI tool may have edited (a hostile issue could ask it to).
    // Never the working tree's copy, not even as a fallback: without a known base there is no submit.
    const base = note.base ?? (await defaultBranch(dir).catch(() => undefined));
    if (!base || base === branch) {
      void io.tell({ level: 'error', text: `OWP: cannot tell the default branch of ${dir}, where the repository's .owp.yml is read from (never from your working tree). Run \`git remote set-head origin --auto\` and Submit PR again; the task stays yours.` });
      return undefined;
    }
    const contract = await baseContract(dir, base);

    let checklistConfirmed: boolean | undefined;
    if (contract.pr.checklist.length > 0) {
      const ticked = await io.confirmChecklist(task.id, contract.pr.checklist.map((item) => plainText(item, 200)));
      if (ticked === undefined) return undefined;
      checklistConfirmed = ticked === contract.pr.checklist.length;
      if (!checklistConfirmed && contract.gates.includes('checklist')) {
        void io.tell({ level: 'warning', text: 'OWP: this repo requires every checklist item before a PR. Finish the open items, then Submit PR again; the task stays yours.' });
        return undefined;
      }
    }

    // The repository's commands run on this machine: shown before they first run, and again when
    // they change, remembered per repository and command hash.
    const hash = commandsHash(contract);
    if (!isApproved(io.commandApprovals.get(), task.repo, hash)) {
      if (!(await io.approveCommands(task.repo, hash, describeCommands(contract)))) {
        void io.tell({ level: 'info', text: `OWP: nothing ran. Submit PR again when you have read ${task.repo}'s commands; the task stays yours.` });
        return undefined;
      }
      await io.commandApprovals.save(withApproval(io.commandApprovals.get(), task.repo, hash));
    }

    const changed = checkout.uncommittedPaths();
    if (changed.length > 0) {
      const commit = 'Commit and submit';
      const choice = await io.tell({
        level: 'info',
        modal: true,
        text: `OWP: ${changed.length} file${changed.length === 1 ? ' is' : 's are'} not committed. Commit ${changed.length === 1 ? 'it' : 'them'} to ${branch} as “OWP ${task.id}: ${plainText(task.title, 60)}” and submit?`,
        actions: [commit],
      });
      if (choice !== commit) return undefined;
      await checkout.commitAll(`OWP ${task.id}: ${plainText(task.title, 200)}`);
      await checkout.refresh();
    }
    if (note.baseCommit && checkout.head().commit === note.baseCommit) {
      void io.tell({ level: 'warning', text: `OWP: ${branch} has no commits yet, so there is nothing to submit. Let your AI tool make the change (Open in AI Tool), then Submit PR again.` });
      return undefined;
    }

    const token = await io.githubToken(task.repo);
    if (!token) {
      void io.tell({ level: 'warning', text: 'OWP: no GitHub sign-in, so no PR was opened. Nothing was pushed; the task stays yours.' });
      return undefined;
    }
    return { lease, task, branch, base: note.base, checkout, contract, checklistConfirmed, token };
  }

  /** Gates, push, PR, report: the order of submit-flow.ts, with progress and the output channel. */
  private async run(p: Prepared): Promise<SubmitOutcome> {
    const { io } = this;
    const { task, branch, checkout, contract, checklistConfirmed } = p;
    const repoSettings = await io.session.repoSettings(task.repo).catch(() => undefined);
    const requiredGates = [...new Set([...contract.gates, ...(repoSettings?.required_gates ?? [])])];
    const [owner, name] = task.repo.split('/') as [string, string];
    const tool = io.settings.aiTool === 'auto' ? 'their AI tool' : AI_TOOL_LABELS[io.settings.aiTool];
    const { remote, dir } = checkout;
    const confirmed = checklistConfirmed !== undefined ? { checklistConfirmed } : {};
    let published: Published | undefined;

    io.output.appendLine(`\n=== ${new Date().toISOString()} Submit PR for ${task.id} (${task.repo}) on ${branch} in ${dir}`);
    return io.withProgress(`OWP: submitting ${task.id}`, async (report, signal) => {
      const step = (label: string): void => {
        io.notes.setBusy(task.id, label);
        report(label);
      };
      try {
        return await submitPullRequest({
          branch,
          requiredGates,
          runGates: () => {
            step('running gates');
            return runGates({
              repoDir: dir,
              contract,
              signal,
              ...confirmed,
              onGateStart: (gate, commands) => {
                step(`gate ${gate}: ${commands.join(' && ')}`);
                io.output.appendLine(`--- gate ${gate}: ${commands.join(' && ')}`);
              },
              onOutput: (_gate, chunk) => io.output.append(chunk),
              onGateEnd: (evidence) => io.output.appendLine(`--- gate ${evidence.name}: ${evidence.passed ? 'passed' : 'FAILED'}${evidence.exit_code !== undefined ? ` (exit ${evidence.exit_code})` : ''}`),
            });
          },
          push: async () => {
            // Upstream through VS Code's Git (the volunteer's own credentials); a fork with their token.
            published = await publishBranch({
              octokit: volunteerOctokit({ token: p.token, apiBaseUrl: io.settings.githubApiUrl, userAgent: 'owp-vscode/0.1' }),
              token: p.token,
              upstream: { owner, repo: name },
              mode: io.settings.pushTarget,
              dir,
              branch,
              pushUpstream: () => checkout.push(remote, branch),
              waiting: { signal },
              onProgress: (message) => {
                step(message);
                io.output.appendLine(`--- ${message}`);
              },
            });
          },
          openPullRequest: async () => {
            const head = published?.head ?? branch;
            const base = p.base ?? published?.target.base ?? 'main';
            step('opening the pull request');
            io.output.appendLine(`--- open PR ${owner}/${name} ${head} → ${base} via ${io.settings.githubApiUrl}`);
            return openPullRequest({
              token: p.token,
              owner,
              repo: name,
              head,
              base,
              task,
              contract,
              ...confirmed,
              attribution: `Opened by @${io.session.snapshot().worker?.github_login ?? io.settings.githubLogin} with ${tool} via OWP (task ${task.id}).`,
              apiBaseUrl: io.settings.githubApiUrl,
              userAgent: 'owp-vscode/0.1',
            });
          },
          report: async (pr) => {
            step('recording the PR with the coordinator');
            await io.session.report(p.lease.lease_id, { state: 'pr_opened', pr });
          },
        });
      } finally {
        io.notes.setBusy(task.id, undefined);
      }
    });
  }

  /** What the volunteer is told at the end: which step stopped it and what to do, or the PR. */
  private async tellOutcome(p: Prepared, outcome: SubmitOutcome): Promise<void> {
    const { io } = this;
    const { task, branch, lease } = p;
    const showOutput = 'Show output';
    switch (outcome.step) {
      case 'gates': {
        io.output.appendLine(`=== gates did not pass: ${gateFailureMessage(outcome)}`);
        const choice = await io.tell({ level: 'error', text: `OWP: ${task.id} was not submitted: ${gateFailureMessage(outcome)}. Nothing was pushed; the task stays in progress. Fix it and Submit PR again.`, actions: [showOutput] });
        if (choice === showOutput) io.output.show();
        return;
      }
      case 'push': {
        io.output.appendLine(`=== push failed: ${outcome.error.message}`);
        // The fork flow's errors say what happened and what to do; a plain git push's need the context.
        const said = outcome.error instanceof ForkError || outcome.error instanceof PushError ? outcome.error.message : `Pushing ${branch} to ${p.checkout.remote} was refused (${outcome.error.message}). Check your access to ${task.repo} and Submit PR again.`;
        const choice = await io.tell({ level: 'error', text: `OWP: the gates passed, but the push did not: ${said} No PR was opened; the task stays in progress.`, actions: [showOutput] });
        if (choice === showOutput) io.output.show();
        return;
      }
      case 'pull-request': {
        io.output.appendLine(`=== opening the PR failed: ${outcome.error.message}`);
        void io.tell({ level: 'error', text: `OWP: ${branch} is pushed, but the PR was not opened: ${outcome.error.message} The task stays in progress; Submit PR again to retry.` });
        return;
      }
      case 'report': {
        this.pendingReports.set(lease.lease_id, outcome.pr);
        await io.notes.update(task.id, { prUrl: outcome.pr.url });
        await this.reportFailed(lease.lease_id, outcome.pr, outcome.error);
        return;
      }
      case 'done': {
        // A PR waiting for CI keeps its notes: a fix is submitted again from the same checkout.
        const now = io.session.task(task.id);
        if (now?.checks && (now.state === 'leased' || now.state === 'in_progress')) await io.notes.update(task.id, { prUrl: outcome.pr.url });
        else await io.notes.forget(task.id);
        io.output.appendLine(`=== PR opened: ${outcome.pr.url}`);
        const open = 'Open PR';
        const choice = await io.tell({ level: 'info', text: `OWP: PR opened for ${task.id} (draft) and recorded with the pool: ${outcome.pr.url}.${submittedTail(now)}`, actions: [open] });
        if (choice === open) await io.openExternal(outcome.pr.url);
        return;
      }
    }
  }

  private async reportFailed(leaseId: string, pr: PullRequestInfo, error: Error): Promise<void> {
    const retry = 'Retry report';
    const choice = await this.io.tell({ level: 'error', text: `OWP: the PR is open (${pr.url}) but the pool has not recorded it: ${describeError(error)} Retry so the task counts as done.`, actions: [retry] });
    if (choice === retry) await this.finishReport(leaseId, pr);
  }

  /** Records a PR that is already open; the gates and the push are not run again. */
  private async finishReport(leaseId: string, pr: PullRequestInfo): Promise<void> {
    const { io } = this;
    const lease = io.session.lease(leaseId);
    try {
      await io.session.report(leaseId, { state: 'pr_opened', pr });
      this.pendingReports.delete(leaseId);
      if (lease) await io.notes.forget(lease.task_id);
      void io.tell({ level: 'info', text: `OWP: the pool recorded the PR ${pr.url}.` });
    } catch (error) {
      await this.reportFailed(leaseId, pr, error as Error);
    }
  }
}
