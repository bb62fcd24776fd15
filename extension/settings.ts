/** Reads and writes the `owp.*` settings. Secrets never live here (see identity-store.ts). */
import * as vscode from 'vscode';
import { DEFAULT_COORDINATOR_URL, DEFAULT_GITHUB_API_URL, SETTINGS, SETTINGS_SECTION } from './constants.ts';
import { isAiToolSetting, type AiToolSetting } from './logic/ai-tool.ts';
import type { JoinField } from './logic/join-profile.ts';
import { PUSH_MODES, type PushMode } from '../client/fork.ts';

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

export function readSettings(): OwpSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const aiTool = config.get<string>(SETTINGS.aiTool, 'auto');
  const pushTarget = config.get<string>(SETTINGS.pushTarget, 'auto');
  return {
    coordinatorUrl: config.get<string>(SETTINGS.coordinatorUrl, DEFAULT_COORDINATOR_URL).trim() || DEFAULT_COORDINATOR_URL,
    githubLogin: config.get<string>(SETTINGS.githubLogin, '').trim(),
    skills: config.get<string[]>(SETTINGS.skills, []),
    capacity: config.get<number>(SETTINGS.capacity, 3),
    aiTool: isAiToolSetting(aiTool) ? aiTool : 'auto',
    githubApiUrl: config.get<string>(SETTINGS.githubApiUrl, DEFAULT_GITHUB_API_URL).trim() || DEFAULT_GITHUB_API_URL,
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
      return inspected !== undefined && (inspected.globalValue !== undefined || inspected.workspaceValue !== undefined || inspected.workspaceFolderValue !== undefined);
    }),
  );
}

/**
 * Saves a value the volunteer typed. With a folder open it goes to the workspace settings, so
 * each window (each worker) keeps its own skills and capacity; otherwise to the user settings.
 */
export async function saveSetting(key: keyof typeof SETTINGS, value: unknown): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update(SETTINGS[key], value, target);
}
