/** Hands a task's prompt to the volunteer's AI tool (see logic/ai-tool.ts for the choice). */
import { access, constants } from 'node:fs/promises';
import * as vscode from 'vscode';
import { AI_TOOL_LABELS, binaryCandidates, chooseAiTool, handoffPlan, type AiTool, type AiToolSetting } from './logic/ai-tool.ts';

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
  for (const binary of ['claude', 'aider']) found.set(binary, await binaryOnPath(binary));
  const choice = chooseAiTool(setting, { commands, appName: vscode.env.appName, binaryOnPath: (b) => found.get(b) ?? false });
  if (choice.unavailable) {
    void vscode.window.showWarningMessage(`OWP: ${AI_TOOL_LABELS[choice.unavailable]} is not available in this editor, so the task went to ${AI_TOOL_LABELS[choice.tool]}. Change "owp.aiTool" to pick another tool.`);
  }
  const plan = handoffPlan(choice.tool, prompt, commands);
  try {
    switch (plan.tool) {
      case 'copilot':
        await vscode.commands.executeCommand(plan.command, plan.args);
        return 'copilot';
      case 'cursor':
        await vscode.env.clipboard.writeText(prompt);
        await vscode.commands.executeCommand(plan.command);
        void vscode.window.showInformationMessage('OWP: the task prompt is on the clipboard. Paste it into Cursor\'s chat (Ctrl+V / ⌘V) and send it.');
        return 'cursor';
      case 'claude-code':
      case 'aider': {
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
