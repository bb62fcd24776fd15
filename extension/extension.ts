/**
 * The OWP extension's entry: activate() only composes the parts and registers them. Logic lives
 * in logic/ (no vscode import), the VS Code glue in one file per job.
 */
import * as vscode from 'vscode';
import { COMMANDS, CONTEXT_KEYS, EXTERNAL_COMMANDS, OUTPUT_CHANNEL_NAME, SETTINGS, SETTINGS_SECTION, VIEWS } from './constants.ts';
import { registerContractLanguage } from './contract-language.ts';
import { openDashboard } from './dashboard-panel.ts';
import { WorkspaceIdentityStore } from './identity-store.ts';
import { PoolSession } from './logic/pool-session.ts';
import { OffersTreeProvider } from './offers-tree.ts';
import { offersBadge } from './logic/view-models.ts';
import { watchPoolEvents } from './offer-notifier.ts';
import { watchChecks } from './checks-watch.ts';
import { watchSubmitted } from './submitted-watch.ts';
import { joinPool, leavePool, refresh, setGithubToken, setMaintainerToken, workerProfile } from './pool-commands.ts';
import type { Services } from './services.ts';
import { readSettings } from './settings.ts';
import { PoolStatusBar } from './status-bar.ts';
import { submitPr } from './submit-command.ts';
import { registerTaskDetails, showTask } from './task-details.ts';
import { CountdownTicker } from './ticker.ts';
import { acceptOffer, claimTask, declineOffer, markBlocked, openInAiTool, releaseLease, type Target } from './work-commands.ts';
import { WorkNotes } from './work-notes.ts';
import { tickWalkthrough } from './walkthrough-progress.ts';
import { WorkTreeProvider } from './work-tree.ts';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME);
  const session = new PoolSession(new WorkspaceIdentityStore(context.workspaceState, context.secrets));
  const notes = new WorkNotes(context.workspaceState);
  const services: Services = { context, session, notes, output };

  const offers = new OffersTreeProvider(session);
  const work = new WorkTreeProvider(session, notes);
  const statusBar = new PoolStatusBar(session);
  const offersView = vscode.window.createTreeView(VIEWS.offers, { treeDataProvider: offers, showCollapseAll: true });
  const workView = vscode.window.createTreeView(VIEWS.work, { treeDataProvider: work });
  const redraw = (): void => {
    offers.refresh();
    work.refresh();
    statusBar.update();
    offersView.badge = offersBadge(session.snapshot(), Date.now());
  };
  const ticker = new CountdownTicker(session, redraw);
  const onChanged = (): void => {
    void vscode.commands.executeCommand(EXTERNAL_COMMANDS.setContext, CONTEXT_KEYS.joined, session.state !== 'not-joined');
    ticker.reschedule();
    redraw();
  };
  session.on('changed', onChanged);

  const command = (id: string, handler: (services: Services, target: Target) => Promise<void>): vscode.Disposable =>
    vscode.commands.registerCommand(id, (target?: Target) => handler(services, target));

  context.subscriptions.push(
    output,
    notes,
    offers,
    work,
    statusBar,
    ticker,
    { dispose: () => session.dispose() },
    offersView,
    workView,
    notes.onDidChange(redraw),
    watchPoolEvents(session, notes, output),
    watchChecks(services),
    watchSubmitted(services),
    tickWalkthrough(services, workView),
    command(COMMANDS.joinPool, joinPool),
    command(COMMANDS.leavePool, leavePool),
    command(COMMANDS.refresh, refresh),
    command(COMMANDS.acceptOffer, acceptOffer),
    command(COMMANDS.declineOffer, declineOffer),
    command(COMMANDS.claimTask, claimTask),
    command(COMMANDS.openInAiTool, openInAiTool),
    command(COMMANDS.submitPr, submitPr),
    command(COMMANDS.releaseLease, releaseLease),
    command(COMMANDS.markBlocked, markBlocked),
    command(COMMANDS.setGithubToken, setGithubToken),
    command(COMMANDS.showTask, showTask),
    registerTaskDetails(services),
    command(COMMANDS.setMaintainerToken, setMaintainerToken),
    vscode.commands.registerCommand(COMMANDS.openDashboard, () => openDashboard(context)),
    vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => onSettingsChanged(event, services)),
  );

  registerContractLanguage(context, vscode.workspace);
  onChanged();
  resumeInBackground(services);
}

/** Reconnects this window's worker, if it joined before, without holding up startup. */
function resumeInBackground({ session, output }: Services): void {
  const settings = readSettings();
  const profile = workerProfile(settings.githubLogin, settings.skills, settings.capacity);
  const { github_login: _login, ...rest } = profile;
  session.resume(settings.coordinatorUrl, rest).then(
    (resumed) => {
      if (resumed) output.appendLine(`[${new Date().toISOString()}] reconnecting to ${settings.coordinatorUrl} as this window's worker`);
    },
    (error: unknown) => output.appendLine(`[${new Date().toISOString()}] could not resume: ${(error as Error).message}`),
  );
}

function onSettingsChanged(event: vscode.ConfigurationChangeEvent, { session }: Services): void {
  const key = (name: string): string => `${SETTINGS_SECTION}.${name}`;
  if (session.state === 'not-joined') return;
  if (event.affectsConfiguration(key(SETTINGS.skills)) || event.affectsConfiguration(key(SETTINGS.capacity)) || event.affectsConfiguration(key(SETTINGS.aiTool))) {
    const settings = readSettings();
    const { github_login: _login, ...profile } = workerProfile(settings.githubLogin, settings.skills, settings.capacity);
    session.updateProfile(profile).then(
      () => vscode.window.setStatusBarMessage('OWP: profile updated with the coordinator.', 4000),
      (error: unknown) => void vscode.window.showErrorMessage(`OWP: the coordinator refused the new skills or capacity: ${(error as Error).message}. Fix them in the OWP settings.`),
    );
  }
  if (event.affectsConfiguration(key(SETTINGS.coordinatorUrl))) {
    void vscode.window.showInformationMessage('OWP: the coordinator URL changed. Run "OWP: Join Pool" to join the pool there; this window stays connected to the old one until then.');
  }
}

export function deactivate(): void {
  // Subscriptions close the socket; leases left open expire on the coordinator's side.
}
