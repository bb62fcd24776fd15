/**
 * Which AI tool gets a task's prompt in this editor, and what the glue does to hand it over. The
 * tools themselves (labels, detection, command lines) are the registry in client/ai-tools.ts,
 * shared with `owp worker`; this file adds only what is particular to an editor: the `owp.aiTool`
 * setting with its `auto`, the preference order (the editor's own chat first), and the plan the
 * VS Code glue carries out. The clipboard always works, so it is the last resort.
 */
import { AI_TOOL_IDS, AI_TOOLS, detectedCommand, isToolAvailable, terminalInvocation, toolEnvNames, type AiToolId } from '../../client/ai-tools.ts';
import { childEnv } from '../../client/child-env.ts';

export const AI_TOOL_SETTINGS = ['auto', ...AI_TOOL_IDS] as const;
export type AiToolSetting = (typeof AI_TOOL_SETTINGS)[number];
export type AiTool = AiToolId;

export const AI_TOOL_LABELS: Record<AiTool, string> = Object.fromEntries(AI_TOOL_IDS.map((id) => [id, AI_TOOLS[id].label])) as Record<AiTool, string>;

/** What the editor offers, gathered by the glue (commands list, app name, PATH lookup). */
export interface ToolEnvironment {
  commands: ReadonlySet<string>;
  /** vscode.env.appName: "Visual Studio Code", "Cursor", "code-server", … */
  appName: string;
  binaryOnPath: (binary: string) => boolean;
}

export type HandoffPlan =
  | { tool: AiTool; kind: 'chat-input'; command: string; args: { query: string; isPartialQuery: true } }
  | { tool: AiTool; kind: 'chat-paste'; command: string }
  | { tool: AiTool; kind: 'terminal'; terminal: TerminalInvocation }
  | { tool: AiTool; kind: 'clipboard' };

export interface TerminalInvocation {
  name: string;
  shellPath: string;
  shellArgs: string[];
  /** The whole environment of the tool's terminal (strictEnv: nothing of the editor's own is added). */
  env: Record<string, string>;
  strictEnv: true;
}

export interface AiToolChoice {
  tool: AiTool;
  /** Set when the configured tool is not available here and another one was used. */
  unavailable?: AiTool;
}

export function isAiToolSetting(value: unknown): value is AiToolSetting {
  return typeof value === 'string' && (AI_TOOL_SETTINGS as readonly string[]).includes(value);
}

/**
 * `auto` prefers the editor's own chat (Cursor's inside Cursor, else VS Code's chat), then a
 * terminal tool on PATH, then the clipboard. An explicit choice that is not available here falls
 * back the same way and says so.
 */
export function chooseAiTool(setting: AiToolSetting, env: ToolEnvironment): AiToolChoice {
  const inCursor = /cursor/i.test(env.appName) || detectedCommand('cursor', env.commands) !== undefined;
  const autoOrder: AiTool[] = inCursor ? ['cursor', 'copilot', 'claude-code', 'aider', 'clipboard'] : ['copilot', 'claude-code', 'aider', 'clipboard'];
  const available = (tool: AiTool): boolean => isToolAvailable(tool, env);
  if (setting !== 'auto') {
    if (available(setting)) return { tool: setting };
    const fallback = autoOrder.find((t) => t !== setting && available(t)) ?? 'clipboard';
    return { tool: fallback, unavailable: setting };
  }
  return { tool: autoOrder.find(available) ?? 'clipboard' };
}

/**
 * How to hand the prompt over with the chosen tool, from its registry entry. A terminal tool runs
 * as the terminal's own process (no shell, so no quoting), interactively: a person is there.
 */
export function handoffPlan(tool: AiTool, prompt: string, commands: ReadonlySet<string>, baseEnv: NodeJS.ProcessEnv = process.env, passEnv: readonly string[] = []): HandoffPlan {
  const { handoff, label } = AI_TOOLS[tool];
  switch (handoff.kind) {
    case 'chat-input':
    case 'chat-paste': {
      const command = detectedCommand(tool, commands) ?? firstCommand(tool);
      if (!command) return { tool: 'clipboard', kind: 'clipboard' };
      return handoff.kind === 'chat-input' ? { tool, kind: 'chat-input', command, args: { query: prompt, isPartialQuery: true } } : { tool, kind: 'chat-paste', command };
    }
    case 'terminal': {
      const invocation = terminalInvocation(tool, prompt, 'interactive');
      if (!invocation) return { tool: 'clipboard', kind: 'clipboard' };
      // The tool gets its own key and settings, never the editor's GitHub or OWP tokens (client/child-env.ts).
      const env = childEnv(baseEnv, { pass: [...toolEnvNames(tool), ...passEnv] }) as Record<string, string>;
      return { tool, kind: 'terminal', terminal: { name: `OWP: ${label}`, shellPath: invocation.program, shellArgs: invocation.args, env, strictEnv: true } };
    }
    case 'clipboard':
      return { tool, kind: 'clipboard' };
  }
}

/**
 * The chat-input command is the one well-known command of VS Code's chat, so it is used even when
 * the glue did not list commands; a paste-style chat (Cursor) is used only when found, since its
 * command ids change between Cursor versions.
 */
function firstCommand(tool: AiTool): string | undefined {
  const { detect, handoff } = AI_TOOLS[tool];
  return handoff.kind === 'chat-input' && detect.kind === 'editor-command' ? detect.commands[0] : undefined;
}
