/** Turns view models into TreeItems. Tooltips are untrusted Markdown without HTML or commands. */
import * as vscode from 'vscode';
import { COMMANDS } from './constants.ts';
import type { RepoGroupView, TreeItemView } from './logic/view-models.ts';

export function safeMarkdown(value: string): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString(value, false);
  markdown.isTrusted = false;
  markdown.supportHtml = false;
  return markdown;
}

export function taskTreeItem(view: TreeItemView): vscode.TreeItem {
  const item = new vscode.TreeItem(view.label, vscode.TreeItemCollapsibleState.None);
  item.id = view.id;
  item.description = view.description;
  item.tooltip = safeMarkdown(view.tooltip);
  item.contextValue = view.contextValue;
  item.iconPath = new vscode.ThemeIcon(view.icon);
  // A click shows the task's details (and its issue link); the actions stay on the item's menu.
  item.command = { command: COMMANDS.showTask, title: 'Show Task Details', arguments: [view] };
  return item;
}

export function repoTreeItem(view: RepoGroupView): vscode.TreeItem {
  const item = new vscode.TreeItem(view.repo, vscode.TreeItemCollapsibleState.Expanded);
  item.id = view.id;
  item.description = view.description;
  if (view.tooltip) item.tooltip = view.tooltip;
  item.contextValue = view.contextValue;
  item.iconPath = new vscode.ThemeIcon('repo');
  return item;
}

export function isRepoGroup(node: RepoGroupView | TreeItemView): node is RepoGroupView {
  return 'items' in node;
}
