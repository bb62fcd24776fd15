/**
 * Accept / Decline an offer, Claim a task, start or resume work (checkout, branch, report
 * in_progress, hand to the AI tool), Release, Mark blocked.
 */
import * as vscode from 'vscode';
import { branchName } from '../protocol/branch-name.ts';
import { defaultBranch } from '../client/git.ts';
import { baseContract } from '../client/task-workspace.ts';
import { buildPrompt } from '../client/prompt.ts';
import type { Lease, Task } from '../protocol/model.ts';
import { handOffPrompt } from './ai-handoff.ts';
import { COMMANDS } from './constants.ts';
import { checkoutTaskBranch, cloneRepository, findRepository, remoteNameFor } from './git-workspace.ts';
import type { Repository } from './git-api.ts';
import { AI_TOOL_LABELS } from './logic/ai-tool.ts';
import { plainText } from './logic/markdown.ts';
import { describeError } from './logic/messages.ts';
import { taskFacts, type TreeItemView } from './logic/view-models.ts';
import { formatRemaining } from './logic/time-format.ts';
import type { Services } from './services.ts';
import { readSettings } from './settings.ts';

/** A command's argument: a tree node, an id string (from a notification or a test), or nothing. */
export type Target = TreeItemView | string | undefined;

const FINISH = 'When the gates pass, stop and tell the volunteer the work is ready. They click **Submit PR** in the OWP sidebar (My work), which runs the gates again, pushes the branch and opens the pull request as themselves. Do not push, open a pull request or merge yourself.';

function notJoined(services: Services): boolean {
  if (services.session.state !== 'not-joined') return false;
  void vscode.window.showWarningMessage('OWP: join the pool first (OWP: Join Pool).', 'Join pool').then((c) => {
    if (c) void vscode.commands.executeCommand(COMMANDS.joinPool);
  });
  return true;
}

async function pickOffer(services: Services, target: Target): Promise<string | undefined> {
  if (typeof target === 'string') return target;
  if (target?.offerId) return target.offerId;
  const offers = services.session.snapshot().offers;
  if (offers.length === 0) {
    void vscode.window.showInformationMessage('OWP: no open offers right now. New offers arrive as notifications.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    offers.map((o) => ({ label: `${o.task.id} ${plainText(o.task.title, 100)}`, description: `${o.repo} · ${taskFacts(o.task)} · ${formatRemaining(o.deadline_at - Date.now())} left`, offerId: o.offer_id })),
    { title: 'OWP: choose an offer' },
  );
  return picked?.offerId;
}

async function pickLease(services: Services, target: Target, title: string): Promise<Lease | undefined> {
  const { session } = services;
  if (typeof target === 'string') return session.lease(target) ?? session.leaseForTask(target);
  if (target?.leaseId) return session.lease(target.leaseId);
  const leases = session.snapshot().leases;
  if (leases.length === 0) {
    void vscode.window.showInformationMessage('OWP: this window holds no tasks. Accept an offer or claim a task in Offers & tasks.');
    return undefined;
  }
  if (leases.length === 1) return leases[0];
  const picked = await vscode.window.showQuickPick(
    leases.map((l) => ({ label: `${l.task_id} ${plainText(session.task(l.task_id)?.title ?? '', 100)}`, description: l.repo, lease: l })),
    { title },
  );
  return picked?.lease;
}

export async function acceptOffer(services: Services, target: Target): Promise<void> {
  if (notJoined(services)) return;
  const offerId = await pickOffer(services, target);
  if (!offerId) return;
  let lease: Lease;
  try {
    ({ lease } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `OWP: accepting offer ${offerId}…` }, () => services.session.accept(offerId)));
  } catch (error) {
    void vscode.window.showErrorMessage(`OWP: ${describeError(error, 'Accepting')}`);
    return;
  }
  await startWork(services, lease.lease_id);
}

export async function declineOffer(services: Services, target: Target): Promise<void> {
  if (notJoined(services)) return;
  const offerId = await pickOffer(services, target);
  if (!offerId) return;
  try {
    await services.session.decline(offerId, 'Declined in the editor.');
    void vscode.window.setStatusBarMessage('OWP: offer declined; it goes to another volunteer.', 5000);
  } catch (error) {
    void vscode.window.showErrorMessage(`OWP: ${describeError(error, 'Declining')}`);
  }
}

export async function claimTask(services: Services, target: Target): Promise<void> {
  if (notJoined(services)) return;
  let taskId = typeof target === 'string' ? target : target?.taskId;
  if (!taskId) {
    const listed = services.session.snapshot().listed;
    const picked = await vscode.window.showQuickPick(
      listed.map((t) => ({ label: `${t.id} ${plainText(t.title, 100)}`, description: `${t.repo} · ${taskFacts(t)}`, taskId: t.id })),
      { title: 'OWP: claim a ready task', placeHolder: listed.length ? undefined : 'No ready tasks right now' },
    );
    taskId = picked?.taskId;
  }
  if (!taskId) return;
  const id = taskId;
  let lease: Lease;
  try {
    ({ lease } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `OWP: claiming ${id}…` }, () => services.session.claim(id)));
  } catch (error) {
    void vscode.window.showErrorMessage(`OWP: ${describeError(error, 'Claiming')}`);
    return;
  }
  await startWork(services, lease.lease_id);
}

export async function openInAiTool(services: Services, target: Target): Promise<void> {
  if (notJoined(services)) return;
  const lease = await pickLease(services, target, 'OWP: open which task in your AI tool?');
  if (lease) await startWork(services, lease.lease_id);
}

async function taskOf(services: Services, taskId: string): Promise<Task> {
  return services.session.task(taskId) ?? services.session.fetchTask(taskId);
}

/** The checkout for a task: the open repo with a matching remote, or a clone the volunteer agrees to. */
async function checkoutFor(services: Services, task: Task): Promise<Repository | undefined> {
  const note = services.notes.get(task.id);
  const found = await findRepository(task.repo, note.checkoutPath);
  if (found) return found;
  const clone = `Clone ${task.repo}`;
  const choice = await vscode.window.showWarningMessage(
    `OWP: ${task.repo} is not open in this window. Clone it to work on ${task.id}, or open your clone of it in this window and run "Open in AI Tool" from My work. The task stays yours meanwhile.`,
    clone,
  );
  if (choice !== clone) return undefined;
  const parent = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Clone here', title: `Where should ${task.repo} be cloned?` });
  const parentUri = parent?.[0];
  if (!parentUri) return undefined;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `OWP: cloning ${task.repo}…` }, () => cloneRepository(task.repo, readSettings().githubApiUrl, parentUri));
}

/**
 * Starts (or resumes) work on a held task: checkout and branch, then `in_progress`, then the AI
 * tool. Each step can fail on its own; the task stays leased and the message says how to go on.
 */
export async function startWork(services: Services, leaseId: string): Promise<void> {
  const { session, notes } = services;
  const lease = session.lease(leaseId);
  if (!lease) return;
  if (!vscode.workspace.isTrusted) {
    // The AI tool runs in this folder and reads its files (tool settings, hooks, instructions): a
    // folder the volunteer has not trusted gets neither the tool nor the repository's commands.
    const manage = 'Manage Workspace Trust';
    const choice = await vscode.window.showWarningMessage(`OWP: this window is in Restricted Mode, so OWP does not hand ${lease.task_id} to your AI tool or run the repository's commands here. Trust this folder if you mean to work in it; the task stays yours meanwhile.`, manage);
    if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
    return;
  }
  try {
    const task = await taskOf(services, lease.task_id);
    const repository = await checkoutFor(services, task);
    if (!repository) return;
    const dir = repository.rootUri.fsPath;
    const prompt = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `OWP: preparing ${task.id}…` }, async (progress) => {
      // The contract (branch template, areas, gate commands in the prompt) comes from the default
      // branch as the maintainers merged it, never from the working tree, which an AI tool may have
      // edited on an earlier task (client/task-workspace.ts baseContract).
      progress.report({ message: 'reading .owp.yml from the default branch' });
      const remote = remoteNameFor(repository, task.repo);
      const contract = await baseContract(dir, await defaultBranch(dir, remote), remote);
      const branch = branchName(contract.branch, { task_id: task.id, title: task.title, ...(task.issue ? { issue_number: task.issue.number } : {}) });
      progress.report({ message: `checking out ${branch}` });
      const made = await checkoutTaskBranch(repository, branch, remoteNameFor(repository, task.repo));
      await notes.update(task.id, { branch, checkoutPath: dir, base: made.base, ...(made.created ? { baseCommit: made.baseCommit } : {}) });
      const current = session.lease(leaseId);
      if (current && session.task(task.id)?.state === 'leased') {
        progress.report({ message: 'telling the coordinator work started' });
        await session.report(leaseId, { state: 'in_progress' });
      }
      return buildPrompt({ task, contract, branch, finish: FINISH });
    });
    const tool = await handOffPrompt(prompt, readSettings().aiTool, dir);
    services.output.appendLine(`[${new Date().toISOString()}] ${task.id}: handed to ${AI_TOOL_LABELS[tool]} on branch ${notes.get(task.id).branch ?? '?'} in ${dir}`);
  } catch (error) {
    const retry = 'Retry';
    const release = 'Release task';
    const choice = await vscode.window.showErrorMessage(`OWP: could not start ${lease.task_id}: ${describeError(error, 'Starting')} The task is still yours.`, retry, release);
    if (choice === retry) await startWork(services, leaseId);
    if (choice === release) await releaseLease(services, leaseId);
  }
}

export async function releaseLease(services: Services, target: Target): Promise<void> {
  if (notJoined(services)) return;
  const lease = await pickLease(services, target, 'OWP: release which task?');
  if (!lease) return;
  const releaseIt = 'Release';
  const choice = await vscode.window.showWarningMessage(
    `Release ${lease.task_id}? It goes back to the pool for another volunteer (this counts as an attempt). Your local branch stays.`,
    { modal: true },
    releaseIt,
  );
  if (choice !== releaseIt) return;
  try {
    await services.session.release(lease.lease_id, 'Released by the volunteer.');
    await services.notes.forget(lease.task_id);
    void vscode.window.showInformationMessage(`OWP: released ${lease.task_id}; it is back in the pool.`);
  } catch (error) {
    void vscode.window.showErrorMessage(`OWP: ${describeError(error, 'Releasing')}`);
  }
}

export async function markBlocked(services: Services, target: Target): Promise<void> {
  if (notJoined(services)) return;
  const lease = await pickLease(services, target, 'OWP: which task is blocked?');
  if (!lease) return;
  const reason = await vscode.window.showInputBox({
    title: `OWP: mark ${lease.task_id} blocked`,
    prompt: 'Why is it blocked? Maintainers read this to unblock it (e.g. "needs a design decision on the API").',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim().length < 3 ? 'Say briefly what blocks the task.' : v.length > 2000 ? 'At most 2000 characters.' : undefined),
  });
  if (!reason) return;
  try {
    await services.session.report(lease.lease_id, { state: 'blocked', reason: reason.trim() });
    await services.notes.forget(lease.task_id);
    void vscode.window.showInformationMessage(`OWP: ${lease.task_id} is marked blocked; maintainers see your reason. It is no longer yours.`);
  } catch (error) {
    void vscode.window.showErrorMessage(`OWP: ${describeError(error, 'Marking blocked')}`);
  }
}
