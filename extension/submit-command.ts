/**
 * Submit PR: the VS Code side of logic/submit-steps.ts, which holds the whole flow (checks,
 * contract from the default branch, gates, push, PR, report, messages). Here are only the
 * editor's parts: notifications and dialogs, the checklist quick pick, the checkout through VS
 * Code's Git, the GitHub sign-in, the progress notification and opening the PR's page.
 */
import * as vscode from 'vscode';
import type { Approvals } from '../client/command-approval.ts';
import { EXTERNAL_COMMANDS, STORAGE_KEYS } from './constants.ts';
import { commitAll, findRepository, pushBranch, remoteNameFor, uncommittedPaths } from './git-workspace.ts';
import { githubToken } from './github-auth.ts';
import { repoVisibility, scopesForVisibility } from './logic/repo-visibility.ts';
import { Submitter, type Checkout, type Notice, type SubmitIO } from './logic/submit-steps.ts';
import type { Repository } from './git-api.ts';
import type { Services } from './services.ts';
import { readSettings } from './settings.ts';
import { openInAiTool, type Target } from './work-commands.ts';

let submitter: Submitter | undefined;

export async function submitPr(services: Services, target: Target): Promise<void> {
  submitter ??= new Submitter(editorIO(services));
  await submitter.submit(target);
}

function editorIO(services: Services): SubmitIO {
  const { session, notes, output, context } = services;
  return {
    session,
    notes,
    get settings() {
      return readSettings();
    },
    output: { append: (text) => output.append(text), appendLine: (text) => output.appendLine(text), show: () => output.show(true) },
    tell,
    workspaceTrusted: () => vscode.workspace.isTrusted,
    manageTrust: async () => void (await vscode.commands.executeCommand(EXTERNAL_COMMANDS.manageTrust)),
    openInAiTool: (leaseId) => openInAiTool(services, leaseId),
    commandApprovals: {
      get: () => context.globalState.get<Approvals>(STORAGE_KEYS.approvedCommands),
      save: async (approvals) => void (await context.globalState.update(STORAGE_KEYS.approvedCommands, approvals)),
    },
    approveCommands: async (repo, hash, lines) => {
      const run = 'Run them';
      const choice = await vscode.window.showWarningMessage(
        `OWP: ${repo}'s contract runs these commands on your machine before the PR. They are new to you or changed since you approved them.`,
        { modal: true, detail: `${lines.join('\n')}\n\n(commands ${hash})` },
        run,
      );
      return choice === run;
    },
    confirmChecklist: async (taskId, items) => {
      const picked = await vscode.window.showQuickPick(
        items.map((label) => ({ label, picked: true })),
        { title: `OWP: confirm the checklist for ${taskId}`, placeHolder: 'Untick anything that is not true; press Enter to confirm', canPickMany: true, ignoreFocusOut: true },
      );
      return picked?.length;
    },
    findCheckout: async (repo, hintPath) => {
      const repository = await findRepository(repo, hintPath);
      return repository ? checkoutOf(repository, remoteNameFor(repository, repo)) : undefined;
    },
    githubToken: async (repo) => {
      const apiUrl = readSettings().githubApiUrl;
      return githubToken(context.secrets, apiUrl, scopesForVisibility(await repoVisibility(apiUrl, repo)));
    },
    withProgress: (title, work) =>
      Promise.resolve(
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, cancellation) => {
          const abort = new AbortController();
          cancellation.onCancellationRequested(() => abort.abort());
          return work((message) => progress.report({ message }), abort.signal);
        }),
      ),
    openExternal: async (url) => void (await vscode.env.openExternal(vscode.Uri.parse(url))),
  };
}

function checkoutOf(repository: Repository, remote: string): Checkout {
  return {
    dir: repository.rootUri.fsPath,
    remote,
    refresh: () => repository.status(),
    head: () => ({ branch: repository.state.HEAD?.name, commit: repository.state.HEAD?.commit }),
    uncommittedPaths: () => uncommittedPaths(repository),
    commitAll: (message) => commitAll(repository, message),
    push: (to, branch) => pushBranch(repository, to, branch),
  };
}

async function tell(notice: Notice): Promise<string | undefined> {
  const options: vscode.MessageOptions = { modal: notice.modal ?? false };
  const actions = notice.actions ?? [];
  switch (notice.level) {
    case 'error':
      return vscode.window.showErrorMessage(notice.text, options, ...actions);
    case 'warning':
      return vscode.window.showWarningMessage(notice.text, options, ...actions);
    case 'info':
      return vscode.window.showInformationMessage(notice.text, options, ...actions);
  }
}
