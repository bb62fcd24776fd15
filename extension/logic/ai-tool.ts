/**
 * Which AI tool gets a task's prompt, decided from what this editor actually offers: the commands
 * that exist (Copilot / built-in chat, Cursor's composer), the binaries on PATH (claude, aider),
 * and the volunteer's `owp.aiTool` setting. The clipboard always works, so it is the last resort.
 */
import { CURSOR_CHAT_COMMANDS, EXTERNAL_COMMANDS } from '../constants.ts';

export const AI_TOOL_SETTINGS = ['auto', 'copilot', 'cursor', 'claude-code', 'aider', 'clipboard'] as const;
export type AiToolSetting = (typeof AI_TOOL_SETTINGS)[number];
export type AiTool = Exclude<AiToolSetting, 'auto'>;

export const AI_TOOL_LABELS: Record<AiTool, string> = {
  copilot: 'Copilot Chat',
  cursor: 'Cursor',
  'claude-code': 'Claude Code',
  aider: 'Aider',
  clipboard: 'the clipboard',
};

/** What the editor offers, gathered by the glue (commands list, app name, PATH lookup). */
export interface ToolEnvironment {
  commands: ReadonlySet<string>;
  /** vscode.env.appName: "Visual Studio Code", "Cursor", "code-server", … */
  appName: string;
  binaryOnPath: (binary: string) => boolean;
}

export type HandoffPlan =
  | { tool: 'copilot'; command: string; args: { query: string; isPartialQuery: true } }
  | { tool: 'cursor'; command: string }
  | { tool: 'claude-code' | 'aider'; terminal: TerminalInvocation }
  | { tool: 'clipboard' };

export interface TerminalInvocation {
  name: string;
  shellPath: string;
  shellArgs: string[];
}

export interface AiToolChoice {
  tool: AiTool;
  /** Set when the configured tool is not available here and another one was used. */
  unavailable?: AiTool;
}

export function isAiToolSetting(value: unknown): value is AiToolSetting {
  return typeof value === 'string' && (AI_TOOL_SETTINGS as readonly string[]).includes(value);
}

export function cursorChatCommand(commands: ReadonlySet<string>): string | undefined {
  return CURSOR_CHAT_COMMANDS.find((c) => commands.has(c));
}

function available(tool: AiTool, env: ToolEnvironment): boolean {
  switch (tool) {
    case 'copilot':
      return env.commands.has(EXTERNAL_COMMANDS.chatOpen);
    case 'cursor':
      return cursorChatCommand(env.commands) !== undefined;
    case 'claude-code':
      return env.binaryOnPath('claude');
    case 'aider':
      return env.binaryOnPath('aider');
    case 'clipboard':
      return true;
  }
}

/**
 * `auto` prefers the editor's own chat (Cursor's inside Cursor, else VS Code's chat), then a
 * terminal tool on PATH, then the clipboard. An explicit choice that is not available here falls
 * back the same way and says so.
 */
export function chooseAiTool(setting: AiToolSetting, env: ToolEnvironment): AiToolChoice {
  const inCursor = /cursor/i.test(env.appName) || cursorChatCommand(env.commands) !== undefined;
  const autoOrder: AiTool[] = inCursor ? ['cursor', 'copilot', 'claude-code', 'aider', 'clipboard'] : ['copilot', 'claude-code', 'aider', 'clipboard'];
  if (setting !== 'auto') {
    if (available(setting, env)) return { tool: setting };
    const fallback = autoOrder.find((t) => t !== setting && available(t, env)) ?? 'clipboard';
    return { tool: fallback, unavailable: setting };
  }
  return { tool: autoOrder.find((t) => available(t, env)) ?? 'clipboard' };
}

/** How to hand the prompt over with the chosen tool. Terminal tools run directly, no shell quoting. */
export function handoffPlan(tool: AiTool, prompt: string, commands: ReadonlySet<string>): HandoffPlan {
  switch (tool) {
    case 'copilot':
      return { tool, command: EXTERNAL_COMMANDS.chatOpen, args: { query: prompt, isPartialQuery: true } };
    case 'cursor': {
      const command = cursorChatCommand(commands);
      return command ? { tool, command } : { tool: 'clipboard' };
    }
    case 'claude-code':
      return { tool, terminal: { name: 'OWP: Claude Code', shellPath: 'claude', shellArgs: [prompt] } };
    case 'aider':
      return { tool, terminal: { name: 'OWP: Aider', shellPath: 'aider', shellArgs: ['--message', prompt] } };
    case 'clipboard':
      return { tool };
  }
}

/** Where a binary would be on PATH, for the glue to check with the file system. */
export function binaryCandidates(binary: string, pathVariable: string, platform: NodeJS.Platform, pathExt = '.EXE;.CMD;.BAT'): string[] {
  const separator = platform === 'win32' ? ';' : ':';
  const slash = platform === 'win32' ? '\\' : '/';
  const extensions = platform === 'win32' ? ['', ...pathExt.split(';').filter(Boolean).map((e) => e.toLowerCase())] : [''];
  return pathVariable
    .split(separator)
    .filter(Boolean)
    .flatMap((dir) => extensions.map((ext) => `${dir.replace(/[\\/]+$/, '')}${slash}${binary}${ext}`));
}
