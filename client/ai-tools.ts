/**
 * The AI tools a task's prompt can be handed to, in one table for every front end: the VS Code
 * extension (`owp.aiTool`) and `owp worker --tool`. Each entry says what the tool is called, how
 * to tell whether this machine or editor has it, and how the prompt reaches it. The front ends
 * only carry it out (VS Code: chat commands, clipboard, integrated terminals; the CLI: a child
 * process). A new tool is one entry here, plus its glue where its hand-off kind is new.
 *
 * Terminal invocations follow each tool's documented command line:
 * - Claude Code: `claude "PROMPT"` starts an interactive session with the prompt as its first
 *   message; `claude -p "PROMPT"` is print mode (answer and exit), here allowed to edit files in
 *   the worktree without asking (`--permission-mode acceptEdits`) since nobody is there to answer.
 * - Aider: `aider --message "PROMPT"` sends one message, applies the reply and exits, in a
 *   terminal or not (Aider has no "first message, then stay in chat" flag).
 * The prompt is one argv element: no shell ever parses it.
 */
import { accessSync, constants } from 'node:fs';

export const AI_TOOL_IDS = ['copilot', 'cursor', 'claude-code', 'aider', 'clipboard'] as const;
export type AiToolId = (typeof AI_TOOL_IDS)[number];

/** How to tell that a tool is there. */
export type AiToolDetection =
  /** An editor command exists (any of these; the first present one is the most specific). */
  | { kind: 'editor-command'; commands: readonly string[] }
  /** A program is on PATH. */
  | { kind: 'binary'; binary: string }
  | { kind: 'always' };

/** Whether a terminal tool runs with a person at the keyboard or headless. */
export type TerminalMode = 'interactive' | 'headless';

/** How the prompt reaches the tool. */
export type AiToolHandoff =
  /** Open the editor's chat with the prompt typed into its input, not sent (the volunteer sends it). */
  | { kind: 'chat-input' }
  /** Open the editor's chat; the prompt goes on the clipboard to be pasted (the command takes no text). */
  | { kind: 'chat-paste' }
  /** Run the program with these arguments in the task's folder. */
  | {
      kind: 'terminal';
      args: (prompt: string, mode: TerminalMode) => string[];
      /**
       * What the program needs from the volunteer's environment besides the allow-list
       * (client/child-env.ts): its own key and settings, never GitHub or OWP tokens.
       */
      env: readonly string[];
    }
  /** Copy the prompt (and show it) for any tool at all. */
  | { kind: 'clipboard' };

export interface AiToolDescriptor {
  id: AiToolId;
  /** How the tool is named in messages ("handed to Claude Code"). */
  label: string;
  detect: AiToolDetection;
  handoff: AiToolHandoff;
}

export const AI_TOOLS: { readonly [K in AiToolId]: AiToolDescriptor & { id: K } } = {
  copilot: {
    id: 'copilot',
    label: 'Copilot Chat',
    detect: { kind: 'editor-command', commands: ['workbench.action.chat.open'] },
    handoff: { kind: 'chat-input' },
  },
  cursor: {
    id: 'cursor',
    label: 'Cursor',
    // Cursor's chat/composer commands, most specific first; detected, never assumed.
    detect: { kind: 'editor-command', commands: ['composer.startComposerPrompt', 'composer.newAgentChat', 'aichat.newchataction'] },
    handoff: { kind: 'chat-paste' },
  },
  'claude-code': {
    id: 'claude-code',
    label: 'Claude Code',
    detect: { kind: 'binary', binary: 'claude' },
    handoff: {
      kind: 'terminal',
      args: (prompt, mode) => (mode === 'interactive' ? [prompt] : ['-p', '--permission-mode', 'acceptEdits', prompt]),
      env: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_*', 'CLAUDE_*', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'],
    },
  },
  aider: {
    id: 'aider',
    label: 'Aider',
    detect: { kind: 'binary', binary: 'aider' },
    handoff: {
      kind: 'terminal',
      args: (prompt) => ['--message', prompt],
      env: ['OPENAI_API_KEY', 'OPENAI_API_BASE', 'ANTHROPIC_API_KEY', 'OPENROUTER_API_KEY', 'GEMINI_API_KEY', 'DEEPSEEK_API_KEY', 'AIDER_*', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'],
    },
  },
  clipboard: {
    id: 'clipboard',
    label: 'the clipboard',
    detect: { kind: 'always' },
    handoff: { kind: 'clipboard' },
  },
};

export function isAiToolId(value: unknown): value is AiToolId {
  return typeof value === 'string' && (AI_TOOL_IDS as readonly string[]).includes(value);
}

/** The tools that run as a program in a terminal (what `owp worker --tool` can start). */
export function terminalTools(): AiToolId[] {
  return AI_TOOL_IDS.filter((id) => AI_TOOLS[id].handoff.kind === 'terminal');
}

/** The variables a terminal tool gets besides the allow-list; [] for tools that are not programs. */
export function toolEnvNames(id: AiToolId): readonly string[] {
  const handoff = AI_TOOLS[id].handoff;
  return handoff.kind === 'terminal' ? handoff.env : [];
}

/** What a front end knows about its surroundings, to check a tool's detection against. */
export interface ToolSurroundings {
  /** Editor commands that exist (empty outside an editor). */
  commands: ReadonlySet<string>;
  binaryOnPath: (binary: string) => boolean;
}

/** The editor command a tool's detection found, most specific first. */
export function detectedCommand(id: AiToolId, commands: ReadonlySet<string>): string | undefined {
  const detect = AI_TOOLS[id].detect;
  return detect.kind === 'editor-command' ? detect.commands.find((c) => commands.has(c)) : undefined;
}

export function isToolAvailable(id: AiToolId, where: ToolSurroundings): boolean {
  const detect = AI_TOOLS[id].detect;
  switch (detect.kind) {
    case 'editor-command':
      return detectedCommand(id, where.commands) !== undefined;
    case 'binary':
      return where.binaryOnPath(detect.binary);
    case 'always':
      return true;
  }
}

export interface TerminalInvocation {
  tool: AiToolId;
  /** The program, looked up on PATH by whoever starts it. */
  program: string;
  args: string[];
}

/** The command line that hands `prompt` to a terminal tool; undefined for tools that are not programs. */
export function terminalInvocation(id: AiToolId, prompt: string, mode: TerminalMode): TerminalInvocation | undefined {
  const { detect, handoff } = AI_TOOLS[id];
  if (handoff.kind !== 'terminal' || detect.kind !== 'binary') return undefined;
  return { tool: id, program: detect.binary, args: handoff.args(prompt, mode) };
}

/** Where a binary would be on PATH, in lookup order (Windows adds the PATHEXT extensions). */
export function binaryCandidates(binary: string, pathVariable: string, platform: NodeJS.Platform, pathExt = '.EXE;.CMD;.BAT'): string[] {
  const separator = platform === 'win32' ? ';' : ':';
  const slash = platform === 'win32' ? '\\' : '/';
  const extensions = platform === 'win32' ? ['', ...pathExt.split(';').filter(Boolean).map((e) => e.toLowerCase())] : [''];
  return pathVariable
    .split(separator)
    .filter(Boolean)
    .flatMap((dir) => extensions.map((ext) => `${dir.replace(/[\\/]+$/, '')}${slash}${binary}${ext}`));
}

/** The first executable candidate for a program on PATH, or undefined. */
export function findOnPath(program: string, pathVariable = process.env.PATH ?? '', platform: NodeJS.Platform = process.platform, pathExt = process.env.PATHEXT): string | undefined {
  for (const candidate of binaryCandidates(program, pathVariable, platform, pathExt)) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
