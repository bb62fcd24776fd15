/**
 * A click on a task in the sidebar: its details (title, issue link, facts, the text and
 * acceptance criteria) in a Markdown preview of a read-only virtual document, so nothing asks to
 * be saved when it is closed. The text is the tooltip's escaped Markdown: no links but the issue's
 * http(s) URL, no HTML.
 */
import * as vscode from 'vscode';
import { EXTERNAL_COMMANDS, TASK_DETAILS_SCHEME } from './constants.ts';
import { taskDetailsMarkdown } from './logic/view-models.ts';
import type { Services } from './services.ts';
import type { Target } from './work-commands.ts';

export class TaskDetailsProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly services: Pick<Services, 'session'>) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const taskId = uri.path.replace(/^\/|\.md$/g, '');
    const { session } = this.services;
    const task = session.task(taskId) ?? (await session.fetchTask(taskId));
    return taskDetailsMarkdown(task);
  }
}

export function registerTaskDetails(services: Services): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(TASK_DETAILS_SCHEME, new TaskDetailsProvider(services));
}

export async function showTask(_services: Services, target: Target): Promise<void> {
  const taskId = typeof target === 'string' ? target : target?.taskId;
  if (!taskId) return;
  const uri = vscode.Uri.from({ scheme: TASK_DETAILS_SCHEME, path: `/${taskId}.md` });
  try {
    await vscode.commands.executeCommand(EXTERNAL_COMMANDS.markdownPreview, uri);
  } catch {
    // Without the built-in Markdown extension, the document itself.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  }
}
