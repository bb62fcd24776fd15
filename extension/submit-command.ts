/**
 * Submit PR: in a trusted workspace only, run the contract's gates (progress notification, output
 * in the "OWP" channel), then push, open the PR as the volunteer and report pr_opened with the
 * evidence. The order lives in logic/submit-flow.ts; this file supplies the real steps.
 */
import * as vscode from 'vscode';
import { loadContract } from '../client/contract.ts';
import { runGates } from '../client/gates.ts';
import { openPullRequest } from '../client/pull-request.ts';
import type { PullRequestInfo } from '../protocol/model.ts';
import { EXTERNAL_COMMANDS } from './constants.ts';
import { commitAll, findRepository, pushBranch, remoteNameFor, uncommittedPaths } from './git-workspace.ts';
import { githubToken } from './github-auth.ts';
import { AI_TOOL_LABELS } from './logic/ai-tool.ts';
import { plainText } from './logic/markdown.ts';
import { describeError } from './logic/messages.ts';
import { gateFailureMessage, submitPullRequest } from './logic/submit-flow.ts';
import type { Services } from './services.ts';
import { readSettings } from './settings.ts';
import { openInAiTool, type Target } from './work-commands.ts';

/** PRs opened but not yet recorded by the coordinator, by lease id, so "Retry report" can finish. */
const pendingReports = new Map<string, PullRequestInfo>();

export async function submitPr(services: Services, target: Target): Promise<void> {
  const { session, notes, output } = services;
  if (session.state === 'not-joined') {
    void vscode.window.showWarningMessage('OWP: join the pool first (OWP: Join Pool).');
    return;
  }
  const leases = session.snapshot().leases;
  const lease = typeof target === 'string' ? session.lease(target) ?? session.leaseForTask(target) : target?.leaseId ? session.lease(target.leaseId) : leases.length === 1 ? leases[0] : undefined;
  if (!lease) {
    void vscode.window.showInformationMessage(leases.length === 0 ? 'OWP: this window holds no tasks to submit.' : 'OWP: choose the task to submit in My work (Submit PR on its row).');
    return;
  }
  const pending = pendingReports.get(lease.lease_id);
  if (pending) {
    await finishReport(services, lease.lease_id, pending);
    return;
  }
  if (!vscode.workspace.isTrusted) {
    const manage = 'Manage Workspace Trust';
    const choice = await vscode.window.showWarningMessage(
      'OWP runs the repo\'s setup, test and lint commands before a PR, and does that only in a trusted workspace. Trust this folder, then run Submit PR again.',
      manage,
    );
    if (choice === manage) await vscode.commands.executeCommand(EXTERNAL_COMMANDS.manageTrust);
    return;
  }
  const note = notes.get(lease.task_id);
  if (!note.branch) {
    const start = 'Open in AI Tool';
    const choice = await vscode.window.showWarningMessage(`OWP: ${lease.task_id} has no branch yet. Start it first: OWP makes the branch and hands the task to your AI tool.`, start);
    if (choice === start) await openInAiTool(services, lease.lease_id);
    return;
  }
  if (note.busy) {
    void vscode.window.showInformationMessage(`OWP: ${lease.task_id} is already being submitted (${note.busy}).`);
    return;
  }
  const branch = note.branch;
  const settings = readSettings();
  try {
    const task = session.task(lease.task_id) ?? (await session.fetchTask(lease.task_id));
    const repository = await findRepository(task.repo, note.checkoutPath);
    if (!repository) {
      void vscode.window.showErrorMessage(`OWP: the checkout of ${task.repo} for ${task.id} is not open (was at ${note.checkoutPath ?? 'an unknown path'}). Open it in this window and try again.`);
      return;
    }
    await repository.status();
    if (repository.state.HEAD?.name !== branch) {
      void vscode.window.showErrorMessage(`OWP: ${repository.rootUri.fsPath} is on ${repository.state.HEAD?.name ?? 'a detached HEAD'}, not on the task branch ${branch}. Check out ${branch} and Submit PR again.`);
      return;
    }
    const dir = repository.rootUri.fsPath;
    const { contract } = await loadContract(dir);

    let checklistConfirmed: boolean | undefined;
    if (contract.pr.checklist.length > 0) {
      const picked = await vscode.window.showQuickPick(
        contract.pr.checklist.map((item) => ({ label: plainText(item, 200), picked: true })),
        { title: `OWP: confirm the checklist for ${task.id}`, placeHolder: 'Untick anything that is not true; press Enter to confirm', canPickMany: true, ignoreFocusOut: true },
      );
      if (!picked) return;
      checklistConfirmed = picked.length === contract.pr.checklist.length;
      if (!checklistConfirmed && contract.gates.includes('checklist')) {
        void vscode.window.showWarningMessage('OWP: this repo requires every checklist item before a PR. Finish the open items, then Submit PR again; the task stays yours.');
        return;
      }
    }

    const changed = uncommittedPaths(repository);
    if (changed.length > 0) {
      const commit = 'Commit and submit';
      const choice = await vscode.window.showInformationMessage(
        `OWP: ${changed.length} file${changed.length === 1 ? ' is' : 's are'} not committed. Commit ${changed.length === 1 ? 'it' : 'them'} to ${branch} as “OWP ${task.id}: ${plainText(task.title, 60)}” and submit?`,
        { modal: true },
        commit,
      );
      if (choice !== commit) return;
      await commitAll(repository, `OWP ${task.id}: ${plainText(task.title, 200)}`);
      await repository.status();
    }
    if (note.baseCommit && repository.state.HEAD?.commit === note.baseCommit) {
      void vscode.window.showWarningMessage(`OWP: ${branch} has no commits yet, so there is nothing to submit. Let your AI tool make the change (Open in AI Tool), then Submit PR again.`);
      return;
    }

    const token = await githubToken(services.context.secrets, settings.githubApiUrl);
    if (!token) {
      void vscode.window.showWarningMessage('OWP: no GitHub sign-in, so no PR was opened. Nothing was pushed; the task stays yours.');
      return;
    }
    const repoSettings = await session.repoSettings(task.repo).catch(() => undefined);
    const requiredGates = [...new Set([...contract.gates, ...(repoSettings?.required_gates ?? [])])];
    const remote = remoteNameFor(repository, task.repo);
    const [owner, name] = task.repo.split('/') as [string, string];
    const tool = settings.aiTool === 'auto' ? 'their AI tool' : AI_TOOL_LABELS[settings.aiTool];

    output.appendLine(`\n=== ${new Date().toISOString()} Submit PR for ${task.id} (${task.repo}) on ${branch} in ${dir}`);
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `OWP: submitting ${task.id}`, cancellable: true },
      async (progress, cancellation) => {
        const abort = new AbortController();
        cancellation.onCancellationRequested(() => abort.abort());
        const step = (label: string): void => {
          notes.setBusy(task.id, label);
          progress.report({ message: label });
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
                signal: abort.signal,
                ...(checklistConfirmed !== undefined ? { checklistConfirmed } : {}),
                onGateStart: (gate, commands) => {
                  step(`gate ${gate}: ${commands.join(' && ')}`);
                  output.appendLine(`--- gate ${gate}: ${commands.join(' && ')}`);
                },
                onOutput: (_gate, chunk) => output.append(chunk),
                onGateEnd: (evidence) => output.appendLine(`--- gate ${evidence.name}: ${evidence.passed ? 'passed' : 'FAILED'}${evidence.exit_code !== undefined ? ` (exit ${evidence.exit_code})` : ''}`),
              });
            },
            push: async () => {
              step(`pushing ${branch} to ${remote}`);
              output.appendLine(`--- push ${branch} to ${remote}`);
              await pushBranch(repository, remote, branch);
            },
            openPullRequest: async () => {
              step('opening the pull request');
              output.appendLine(`--- open PR ${owner}/${name} ${branch} → ${note.base ?? 'main'} via ${settings.githubApiUrl}`);
              return openPullRequest({
                token,
                owner,
                repo: name,
                head: branch,
                base: note.base ?? 'main',
                task,
                contract,
                ...(checklistConfirmed !== undefined ? { checklistConfirmed } : {}),
                attribution: `Opened by @${session.snapshot().worker?.github_login ?? settings.githubLogin} with ${tool} via OWP (task ${task.id}).`,
                apiBaseUrl: settings.githubApiUrl,
                userAgent: 'owp-vscode/0.1',
              });
            },
            report: async (pr) => {
              step('recording the PR with the coordinator');
              await session.report(lease.lease_id, { state: 'pr_opened', pr });
            },
          });
        } finally {
          notes.setBusy(task.id, undefined);
        }
      },
    );

    const showOutput = 'Show output';
    switch (outcome.step) {
      case 'gates': {
        output.appendLine(`=== gates did not pass: ${gateFailureMessage(outcome)}`);
        const choice = await vscode.window.showErrorMessage(`OWP: ${task.id} was not submitted: ${gateFailureMessage(outcome)}. Nothing was pushed; the task stays in progress. Fix it and Submit PR again.`, showOutput);
        if (choice === showOutput) output.show(true);
        return;
      }
      case 'push': {
        output.appendLine(`=== push failed: ${outcome.error.message}`);
        const choice = await vscode.window.showErrorMessage(`OWP: the gates passed but pushing ${branch} to ${remote} was refused (${outcome.error.message}). No PR was opened; the task stays in progress. Check your access to ${task.repo} and Submit PR again.`, showOutput);
        if (choice === showOutput) output.show(true);
        return;
      }
      case 'pull-request': {
        output.appendLine(`=== opening the PR failed: ${outcome.error.message}`);
        void vscode.window.showErrorMessage(`OWP: ${branch} is pushed, but the PR was not opened: ${outcome.error.message} The task stays in progress; Submit PR again to retry.`);
        return;
      }
      case 'report': {
        pendingReports.set(lease.lease_id, outcome.pr);
        await notes.update(task.id, { prUrl: outcome.pr.url });
        await reportFailed(services, lease.lease_id, outcome.pr, outcome.error);
        return;
      }
      case 'done': {
        await notes.forget(task.id);
        output.appendLine(`=== PR opened: ${outcome.pr.url}`);
        const open = 'Open PR';
        const choice = await vscode.window.showInformationMessage(`OWP: PR opened for ${task.id} (draft) and recorded with the pool: ${outcome.pr.url}`, open);
        if (choice === open) await vscode.env.openExternal(vscode.Uri.parse(outcome.pr.url));
        return;
      }
    }
  } catch (error) {
    notes.setBusy(lease.task_id, undefined);
    void vscode.window.showErrorMessage(`OWP: Submit PR stopped: ${describeError(error, 'Submitting')} The task stays in progress.`);
  }
}

async function reportFailed(services: Services, leaseId: string, pr: PullRequestInfo, error: Error): Promise<void> {
  const retry = 'Retry report';
  const choice = await vscode.window.showErrorMessage(
    `OWP: the PR is open (${pr.url}) but the pool has not recorded it: ${describeError(error)} Retry so the task counts as done.`,
    retry,
  );
  if (choice === retry) await finishReport(services, leaseId, pr);
}

async function finishReport(services: Services, leaseId: string, pr: PullRequestInfo): Promise<void> {
  const lease = services.session.lease(leaseId);
  try {
    await services.session.report(leaseId, { state: 'pr_opened', pr });
    pendingReports.delete(leaseId);
    if (lease) await services.notes.forget(lease.task_id);
    void vscode.window.showInformationMessage(`OWP: the pool recorded the PR ${pr.url}.`);
  } catch (error) {
    await reportFailed(services, leaseId, pr, error as Error);
  }
}
