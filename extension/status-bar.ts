/** The status bar item: connection state, free capacity, the running lease's time left. */
import * as vscode from 'vscode';
import { EXTERNAL_COMMANDS, STATUS_BAR_ITEM } from './constants.ts';
import type { PoolSession } from './logic/pool-session.ts';
import { statusBarView } from './logic/view-models.ts';

export class PoolStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(STATUS_BAR_ITEM, vscode.StatusBarAlignment.Left, 50);

  constructor(private readonly session: PoolSession) {
    this.item.name = 'OWP';
    this.item.command = EXTERNAL_COMMANDS.showView;
    this.update();
    this.item.show();
  }

  update(): void {
    const view = statusBarView(this.session.snapshot(), Date.now());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
