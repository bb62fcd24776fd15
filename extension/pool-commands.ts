/** Join pool, Leave pool, Refresh, and the secrets a volunteer or maintainer may save. */
import * as vscode from 'vscode';
import type { WorkerProfile } from '../client/worker-client.ts';
import { COMMANDS, EXTERNAL_COMMANDS, SETTINGS_SECTION, STORAGE_KEYS } from './constants.ts';
import { promptForToken, signedInLogin } from './github-auth.ts';
import { coordinatorUrlProblem, githubLoginProblem, missingJoinFields, parseCapacity, parseSkills, type JoinField } from './logic/join-profile.ts';
import { describeError } from './logic/messages.ts';
import { encodeBound } from './logic/secret-binding.ts';
import type { Services } from './services.ts';
import { explicitJoinFields, readSettings, saveSetting } from './settings.ts';

/** The profile sent at join and in every hello; skills and capacity come from settings. */
export function workerProfile(githubLogin: string, skills: string[], capacity: number): WorkerProfile {
  const tool = readSettings().aiTool;
  return {
    github_login: githubLogin,
    skills,
    capacity,
    tools: [tool === 'auto' ? 'vscode' : tool],
    capabilities: { can_run_tests: vscode.workspace.isTrusted, can_open_prs: true },
  };
}

/** An input box validator from a parser that answers `{ problem }` for bad input. */
function problemOf(parse: (text: string) => object | { problem: string }): (text: string) => string | undefined {
  return (text) => {
    const parsed = parse(text);
    return 'problem' in parsed ? parsed.problem : undefined;
  };
}

async function ask(field: JoinField, step: number, steps: number, prefill: string): Promise<string | undefined> {
  const title = `OWP: Join pool (${step}/${steps})`;
  switch (field) {
    case 'coordinatorUrl':
      return vscode.window.showInputBox({ title, prompt: 'Coordinator URL: the pool you join (ask the project, or keep the local default).', value: prefill, ignoreFocusOut: true, validateInput: coordinatorUrlProblem });
    case 'githubLogin':
      return vscode.window.showInputBox({ title, prompt: 'Your GitHub login: PRs are opened as you, with your own account.', value: prefill, placeHolder: 'octocat', ignoreFocusOut: true, validateInput: githubLoginProblem });
    case 'skills':
      return vscode.window.showInputBox({ title, prompt: 'Your skills, comma-separated: you get only tasks these cover (e.g. docs, tests, ts, python).', value: prefill, ignoreFocusOut: true, validateInput: problemOf(parseSkills) });
    case 'capacity':
      return vscode.window.showInputBox({ title, prompt: 'Capacity in effort points: how much work this window takes at once (a small docs fix is 1).', value: prefill, ignoreFocusOut: true, validateInput: problemOf(parseCapacity) });
  }
}

/** Asks only for what settings do not already say, saves the answers, then registers and connects. */
export async function joinPool(services: Services): Promise<void> {
  const settings = readSettings();
  const missing = missingJoinFields(settings, explicitJoinFields());
  const values = { coordinatorUrl: settings.coordinatorUrl, githubLogin: settings.githubLogin, skills: settings.skills, capacity: settings.capacity };
  let step = 0;
  for (const field of missing) {
    step += 1;
    let prefill = '';
    if (field === 'coordinatorUrl') prefill = values.coordinatorUrl;
    if (field === 'githubLogin') prefill = values.githubLogin || (await signedInLogin(settings.githubApiUrl)) || '';
    if (field === 'skills') prefill = (values.skills.length ? values.skills : ['docs', 'tests']).join(', ');
    if (field === 'capacity') prefill = String(values.capacity || 3);
    const answer = await ask(field, step, missing.length, prefill);
    if (answer === undefined) {
      void vscode.window.showInformationMessage('OWP: joining was cancelled; nothing was changed. Run "OWP: Join Pool" when you are ready.');
      return;
    }
    if (field === 'coordinatorUrl') values.coordinatorUrl = answer.trim().replace(/\/+$/, '');
    if (field === 'githubLogin') values.githubLogin = answer.trim();
    if (field === 'skills') values.skills = (parseSkills(answer) as { skills: string[] }).skills;
    if (field === 'capacity') values.capacity = (parseCapacity(answer) as { capacity: number }).capacity;
  }
  for (const field of missing) await saveSetting(field, values[field]);
  const profile = workerProfile(values.githubLogin, values.skills, values.capacity);
  try {
    const worker = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `OWP: joining the pool at ${values.coordinatorUrl}…` },
      () => services.session.join(values.coordinatorUrl, profile),
    );
    const who = worker ? `${worker.id} (${worker.github_login})` : values.githubLogin;
    void vscode.window.showInformationMessage(`OWP: joined the pool at ${values.coordinatorUrl} as ${who}. Offers appear as notifications and in Offers & tasks.`);
  } catch (error) {
    const retry = 'Retry';
    const open = 'Open Settings';
    const choice = await vscode.window.showErrorMessage(`OWP: could not join the pool. ${describeError(error, 'Joining')}`, retry, open);
    if (choice === retry) await vscode.commands.executeCommand(COMMANDS.joinPool);
    if (choice === open) await vscode.commands.executeCommand(EXTERNAL_COMMANDS.openSettings, SETTINGS_SECTION);
  }
}

export async function leavePool(services: Services): Promise<void> {
  const { session } = services;
  if (session.state === 'not-joined') {
    void vscode.window.showInformationMessage('OWP: this window is not in the pool.');
    return;
  }
  const leases = session.snapshot().leases;
  let release = false;
  if (leases.length > 0) {
    const releaseAndLeave = 'Release and leave';
    const choice = await vscode.window.showWarningMessage(
      `Leave the OWP pool? This window holds ${leases.length} task${leases.length === 1 ? '' : 's'} (${leases.map((l) => l.task_id).join(', ')}); leaving releases them back to the pool.`,
      { modal: true },
      releaseAndLeave,
    );
    if (choice !== releaseAndLeave) return;
    release = true;
  }
  try {
    await session.leave({ release });
    for (const lease of leases) await services.notes.forget(lease.task_id);
    void vscode.window.showInformationMessage('OWP: you left the pool. Run "OWP: Join Pool" to come back as the same volunteer.');
  } catch (error) {
    void vscode.window.showErrorMessage(`OWP: leaving did not complete: ${describeError(error)} You are still in the pool; try again.`);
  }
}

export async function refresh(services: Services): Promise<void> {
  if (services.session.state === 'not-joined') return;
  try {
    await services.session.refresh();
  } catch (error) {
    void vscode.window.showErrorMessage(`OWP: could not refresh: ${describeError(error)}`);
  }
}

export async function setGithubToken(services: Services): Promise<void> {
  const token = await promptForToken(services.context.secrets, readSettings().githubApiUrl);
  if (token) void vscode.window.showInformationMessage('OWP: GitHub token saved in secret storage. Submit PR uses it to open PRs as you.');
}

export async function setMaintainerToken(services: Services): Promise<void> {
  const token = await vscode.window.showInputBox({
    title: 'OWP: maintainer token',
    prompt: `The maintainer token ${readSettings().coordinatorUrl} gave you; the dashboard sends it only there. Leave empty to remove it.`,
    password: true,
    ignoreFocusOut: true,
  });
  if (token === undefined) return;
  // Bound to the coordinator it was given for: the dashboard sends it nowhere else.
  if (token.trim()) await services.context.secrets.store(STORAGE_KEYS.maintainerToken, encodeBound(token.trim(), readSettings().coordinatorUrl));
  else await services.context.secrets.delete(STORAGE_KEYS.maintainerToken);
  void vscode.window.showInformationMessage(token.trim() ? 'OWP: maintainer token saved in secret storage.' : 'OWP: maintainer token removed.');
}
