/**
 * Hands a task's prompt to the volunteer's AI tool: the VS Code side of the plan that
 * logic/ai-tool.ts makes from the tool registry (client/ai-tools.ts): chat commands, the
 * clipboard, integrated terminals.
 */
import { access, constants } from 'node:fs/promises';
import * as vscode from 'vscode';
import { AI_TOOLS, binaryCandidates } from '../client/ai-tools.ts';
import { AI_TOOL_LABELS, chooseAiTool, handoffPlan, type AiTool, type AiToolSetting } from './logic/ai-tool.ts';

async function binaryOnPath(binary: string): Promise<boolean> {
  for (const candidate of binaryCandidates(binary, process.env.PATH ?? '', process.platform, process.env.PATHEXT)) {
    try {
      await access(candidate, constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export async function handOffPrompt(prompt: string, setting: AiToolSetting, cwd: string | undefined): Promise<AiTool> {
  const commands = new Set(await vscode.commands.getCommands(true));
  const found = new Map<string, boolean>();
  for (const { detect } of Object.values(AI_TOOLS)) if (detect.kind === 'binary') found.set(detect.binary, await binaryOnPath(detect.binary));
  const choice = chooseAiTool(setting, { commands, appName: vscode.env.appName, binaryOnPath: (b) => found.get(b) ?? false });
  if (choice.unavailable) {
    void vscode.window.showWarningMessage(`OWP: ${AI_TOOL_LABELS[choice.unavailable]} is not available in this editor, so the task went to ${AI_TOOL_LABELS[choice.tool]}. Change "owp.aiTool" to pick another tool.`);
  }
  const plan = handoffPlan(choice.tool, prompt, commands);
  try {
    switch (plan.kind) {
      case 'chat-input':
        await vscode.commands.executeCommand(plan.command, plan.args);
        return plan.tool;
      case 'chat-paste':
        await vscode.env.clipboard.writeText(prompt);
        await vscode.commands.executeCommand(plan.command);
        void vscode.window.showInformationMessage(`OWP: the task prompt is on the clipboard. Paste it into ${AI_TOOL_LABELS[plan.tool]}'s chat (Ctrl+V / ⌘V) and send it.`);
        return plan.tool;
      case 'terminal': {
        const terminal = vscode.window.createTerminal({ ...plan.terminal, ...(cwd ? { cwd } : {}) });
        terminal.show();
        return plan.tool;
      }
      case 'clipboard':
        await toClipboardAndDocument(prompt);
        return 'clipboard';
    }
  } catch (error) {
    await toClipboardAndDocument(prompt);
    void vscode.window.showWarningMessage(`OWP: could not open ${AI_TOOL_LABELS[plan.tool]} (${(error as Error).message}). The prompt is on the clipboard and open as a document instead.`);
    return 'clipboard';
  }
}

async function toClipboardAndDocument(prompt: string): Promise<void> {
  await vscode.env.clipboard.writeText(prompt);
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: prompt });
  await vscode.window.showTextDocument(document, { preview: false });
  void vscode.window.showInformationMessage('OWP: the task prompt is on the clipboard and open as a document. Paste it into your AI tool.');
}
