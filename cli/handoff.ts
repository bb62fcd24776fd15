/**
 * Hands a task's prompt to the volunteer's AI tool in the task's worktree: Claude Code (`claude`)
 * or Aider (`aider --message-file`). On a terminal the tool gets the terminal and the volunteer
 * can steer it; without one it runs headless. When the tool is not installed, or the volunteer
 * chose `none`, the prompt is printed (and is in a file) for them to paste anywhere.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const TOOLS = ['claude-code', 'aider', 'none'] as const;
export type ToolName = (typeof TOOLS)[number];

export function isToolName(value: string): value is ToolName {
  return (TOOLS as readonly string[]).includes(value);
}

const EXECUTABLE: Record<Exclude<ToolName, 'none'>, string> = { 'claude-code': 'claude', aider: 'aider' };

/** The absolute path of a program on PATH, or undefined. */
export function findOnPath(program: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export interface HandoffPlan {
  tool: ToolName;
  /** Undefined when the prompt is to be printed instead. */
  command?: string;
  args: string[];
  interactive: boolean;
  /** Why the prompt is printed instead of handed over. */
  fallback?: string;
}

export function planHandoff(tool: ToolName, promptFile: string, prompt: string, interactive: boolean): HandoffPlan {
  if (tool === 'none') return { tool, args: [], interactive, fallback: 'no AI tool chosen (--tool none)' };
  const program = EXECUTABLE[tool];
  const command = findOnPath(program);
  if (!command) return { tool, args: [], interactive, fallback: `\`${program}\` is not on PATH; install ${tool === 'aider' ? 'Aider' : 'Claude Code'} or pass --tool none` };
  if (tool === 'claude-code') {
    // Interactive: the prompt starts a session the volunteer can watch and steer.
    // Headless: print mode, allowed to edit files in the worktree but asking nothing.
    return { tool, command, args: interactive ? [prompt] : ['-p', '--permission-mode', 'acceptEdits', prompt], interactive };
  }
  return { tool, command, args: ['--message-file', promptFile], interactive };
}

/** Runs the tool in the worktree; resolves with its exit code. */
export function runHandoff(plan: HandoffPlan, cwd: string, onOutput?: (chunk: string) => void): Promise<number> {
  const command = plan.command;
  if (!command) return Promise.resolve(0);
  return new Promise((resolve) => {
    const child = spawn(command, plan.args, {
      cwd,
      stdio: plan.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    if (!plan.interactive) {
      child.stdout?.on('data', (d: Buffer) => onOutput?.(d.toString('utf8')));
      child.stderr?.on('data', (d: Buffer) => onOutput?.(d.toString('utf8')));
    }
    child.on('error', (error) => {
      onOutput?.(`${error.message}\n`);
      resolve(127);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}
