/**
 * Hands a task's prompt to the volunteer's AI tool in the task's worktree, with the command line
 * the tool registry (client/ai-tools.ts) gives: Claude Code (`claude`) or Aider (`aider
 * --message`). On a terminal the tool gets the terminal and the volunteer can steer it; without
 * one it runs headless. When the tool is not installed, or the volunteer chose `none`, the prompt
 * is printed (and is in a file) for them to paste anywhere.
 */
import { spawn } from 'node:child_process';
import { AI_TOOLS, findOnPath, terminalInvocation, terminalTools, toolEnvNames, type AiToolId } from '../client/ai-tools.ts';
import { childEnv } from '../client/child-env.ts';

/** `--tool`: every tool that runs as a program, or `none` (print the prompt). */
export const TOOLS = [...terminalTools(), 'none'] as const;
export type ToolName = AiToolId | 'none';

export function isToolName(value: string): value is ToolName {
  return (TOOLS as readonly string[]).includes(value);
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

export function planHandoff(tool: ToolName, prompt: string, interactive: boolean): HandoffPlan {
  if (tool === 'none') return { tool, args: [], interactive, fallback: 'no AI tool chosen (--tool none)' };
  const invocation = terminalInvocation(tool, prompt, interactive ? 'interactive' : 'headless');
  if (!invocation) return { tool, args: [], interactive, fallback: `${AI_TOOLS[tool].label} does not run in a terminal; pass --tool ${terminalTools().join(', --tool ')} or --tool none` };
  const command = findOnPath(invocation.program);
  if (!command) return { tool, args: [], interactive, fallback: `\`${invocation.program}\` is not on PATH; install ${AI_TOOLS[tool].label} or pass --tool none` };
  return { tool, command, args: invocation.args, interactive };
}

/** Runs the tool in the worktree; resolves with its exit code. */
export function runHandoff(plan: HandoffPlan, cwd: string, onOutput?: (chunk: string) => void): Promise<number> {
  const command = plan.command;
  if (!command) return Promise.resolve(0);
  return new Promise((resolve) => {
    const child = spawn(command, plan.args, {
      cwd,
      stdio: plan.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      // The tool's own settings and key, not the volunteer's GitHub or OWP tokens (client/child-env.ts).
      env: childEnv(process.env, { pass: plan.tool === 'none' ? [] : toolEnvNames(plan.tool) }),
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
