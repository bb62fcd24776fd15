/** "Offers & tasks": this window's offers and the pool's ready tasks, grouped by repo. */
import * as vscode from 'vscode';
import type { PoolSession } from './logic/pool-session.ts';
import { offersTree, type RepoGroupView, type TreeItemView } from './logic/view-models.ts';
import { isRepoGroup, repoTreeItem, taskTreeItem } from './tree-items.ts';

export type OffersNode = RepoGroupView | TreeItemView;

export class OffersTreeProvider implements vscode.TreeDataProvider<OffersNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  constructor(private readonly session: PoolSession) {}

  refresh(): void {
    this.changeEmitter.fire();
  }

  getTreeItem(node: OffersNode): vscode.TreeItem {
    return isRepoGroup(node) ? repoTreeItem(node) : taskTreeItem(node);
  }

  getChildren(node?: OffersNode): OffersNode[] {
    if (!node) return offersTree(this.session.snapshot(), Date.now());
    return isRepoGroup(node) ? node.items : [];
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
