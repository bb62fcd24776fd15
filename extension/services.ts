/** What the command handlers share; built once in activate(). */
import type * as vscode from 'vscode';
import type { PoolSession } from './logic/pool-session.ts';
import type { WorkNotes } from './work-notes.ts';

export interface Services {
  context: vscode.ExtensionContext;
  session: PoolSession;
  notes: WorkNotes;
  output: vscode.OutputChannel;
}
