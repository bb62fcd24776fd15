/** "My work": this window's leases with state, countdown and actions. */
import * as vscode from 'vscode';
import type { PoolSession } from './logic/pool-session.ts';
import { workItems, type TreeItemView } from './logic/view-models.ts';
import { taskTreeItem } from './tree-items.ts';
import type { WorkNotes } from './work-notes.ts';

export class WorkTreeProvider implements vscode.TreeDataProvider<TreeItemView>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  constructor(
    private readonly session: PoolSession,
    private readonly notes: WorkNotes,
  ) {}

  refresh(): void {
    this.changeEmitter.fire();
  }

  getTreeItem(node: TreeItemView): vscode.TreeItem {
    return taskTreeItem(node);
  }

  getChildren(node?: TreeItemView): TreeItemView[] {
    if (node) return [];
    return workItems(this.session.snapshot(), this.notes.all(), Date.now());
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
