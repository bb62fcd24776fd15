/** "My work": this window's leases with state, countdown and actions. */
import * as vscode from 'vscode';
import type { PoolSession } from './logic/pool-session.ts';
import { workItems, type TreeItemView } from './logic/view-models.ts';
import { taskTreeItem } from './tree-items.ts';
import { checkItems, checksDescription, type CheckItemView } from './logic/checks-items.ts';
import type { WorkNotes } from './work-notes.ts';
import { SUBMITTED_GROUP_ID, submittedGroup, submittedItems, type SubmittedItemView } from './logic/submitted-items.ts';

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
    const item = taskTreeItem(node);
    if (node.id === SUBMITTED_GROUP_ID) {
      item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
      item.command = undefined;
      return item;
    }
    const url = (node as CheckItemView | SubmittedItemView).url;
    if (url) item.command = { title: node.id.startsWith('submitted:') ? 'Open PR' : 'Open check', command: 'vscode.open', arguments: [vscode.Uri.parse(url)] };
    if (this.isLease(node)) {
      // A submitted PR's required CI checks hang under its task (issue 15).
      const task = this.session.snapshot().tasks.get(node.taskId);
      const waiting = checksDescription(task);
      if (waiting) {
        item.description = `${node.description} · ${waiting}`;
        item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
        // VS Code keeps an item's collapse state by id: the same id that had no children would show
        // collapsed, hiding the checks. An id of its own makes the waiting row open with them shown.
        item.id = `${node.id}#checks`;
      }
    }
    return item;
  }

  getChildren(node?: TreeItemView): TreeItemView[] {
    const snapshot = this.session.snapshot();
    if (node?.id === SUBMITTED_GROUP_ID) return submittedItems(snapshot.submitted);
    if (node) return this.isLease(node) && node.leaseId ? checkItems(snapshot.tasks.get(node.taskId), node.leaseId) : [];
    // Leases first, then the PRs they became (issue 16): a submitted PR stays in view until it is decided.
    const group = submittedGroup(snapshot.submitted);
    return [...workItems(snapshot, this.notes.all(), Date.now()), ...(group ? [group] : [])];
  }

  private isLease(node: TreeItemView): boolean {
    return node.id.startsWith('lease:');
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
