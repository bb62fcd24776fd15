/** Reads and writes the `owp.*` settings. Secrets never live here (see identity-store.ts). */
import * as vscode from 'vscode';
import { DEFAULT_COORDINATOR_URL, DEFAULT_GITHUB_API_URL, SETTINGS, SETTINGS_SECTION } from './constants.ts';
import { isAiToolSetting, type AiToolSetting } from './logic/ai-tool.ts';
import type { JoinField } from './logic/join-profile.ts';
import { PUSH_MODES, type PushMode } from '../client/fork.ts';
import { userLevelSetting } from './logic/secret-binding.ts';

/** Settings that decide where secrets go or what runs: the volunteer's own level only (logic/secret-binding.ts). */
const USER_LEVEL_ONLY = ['coordinatorUrl', 'githubApiUrl', 'aiTool'] as const;
const warned = new Set<string>();

export interface OwpSettings {
  coordinatorUrl: string;
  githubLogin: string;
  skills: string[];
  capacity: number;
  aiTool: AiToolSetting;
  githubApiUrl: string;
  /** Where Submit PR pushes: upstream with push access else a fork (`auto`), or forced. */
  pushTarget: PushMode;
}

function userLevel<T>(config: vscode.WorkspaceConfiguration, key: (typeof USER_LEVEL_ONLY)[number], fallback: T): T {
  const { value, ignored } = userLevelSetting(config.inspect<T>(SETTINGS[key]), fallback);
  if (ignored !== undefined && !warned.has(key)) {
    warned.add(key);
    void vscode.window.showWarningMessage(`OWP ignores "owp.${key}" from this workspace's settings (${JSON.stringify(ignored).slice(0, 80)}): a repository's files must not decide where your tokens go or which tool runs. Set it in your user settings if you mean it.`);
  }
  return value;
}

export function readSettings(): OwpSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const aiTool = userLevel<string>(config, 'aiTool', 'auto');
  const pushTarget = config.get<string>(SETTINGS.pushTarget, 'auto');
  return {
    coordinatorUrl: userLevel<string>(config, 'coordinatorUrl', DEFAULT_COORDINATOR_URL).trim() || DEFAULT_COORDINATOR_URL,
    githubLogin: config.get<string>(SETTINGS.githubLogin, '').trim(),
    skills: config.get<string[]>(SETTINGS.skills, []),
    capacity: config.get<number>(SETTINGS.capacity, 3),
    aiTool: isAiToolSetting(aiTool) ? aiTool : 'auto',
    githubApiUrl: userLevel<string>(config, 'githubApiUrl', DEFAULT_GITHUB_API_URL).trim() || DEFAULT_GITHUB_API_URL,
    pushTarget: (PUSH_MODES as readonly string[]).includes(pushTarget) ? (pushTarget as PushMode) : 'auto',
  };
}

/** The join settings the user (or a test's settings.json) set at any level. */
export function explicitJoinFields(): Set<JoinField> {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const fields: JoinField[] = ['coordinatorUrl', 'githubLogin', 'skills', 'capacity'];
  return new Set(
    fields.filter((field) => {
      const inspected = config.inspect(SETTINGS[field]);
      // A workspace value of a user-level-only setting is ignored, so it does not count as given.
      if ((USER_LEVEL_ONLY as readonly string[]).includes(field)) return inspected?.globalValue !== undefined;
      return inspected !== undefined && (inspected.globalValue !== undefined || inspected.workspaceValue !== undefined || inspected.workspaceFolderValue !== undefined);
    }),
  );
}

/**
 * Saves a value the volunteer typed. With a folder open it goes to the workspace settings, so
 * each window (each worker) keeps its own skills and capacity; otherwise, and always for the
 * coordinator URL, the GitHub API URL and the AI tool, to the user settings.
 */
export async function saveSetting(key: keyof typeof SETTINGS, value: unknown): Promise<void> {
  const userOnly = (USER_LEVEL_ONLY as readonly string[]).includes(key);
  const target = vscode.workspace.workspaceFolders?.length && !userOnly ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update(SETTINGS[key], value, target);
}
