/** What this window knows about the tasks it works on (branch, checkout, base), per workspace. */
import * as vscode from 'vscode';
import { STORAGE_KEYS } from './constants.ts';
import type { WorkNote } from './logic/view-models.ts';

export interface StoredWorkNote extends WorkNote {
  /** The default branch the task branch was made from (the PR's base). */
  base?: string;
  /** HEAD when the branch was made: Submit refuses a branch with nothing new. */
  baseCommit?: string;
}

export class WorkNotes implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  /** Busy labels are per window session, not persisted: a reload ends the run that set them. */
  private readonly busy = new Map<string, string>();

  constructor(private readonly workspaceState: vscode.Memento) {}

  private stored(): Record<string, StoredWorkNote> {
    return this.workspaceState.get<Record<string, StoredWorkNote>>(STORAGE_KEYS.workNotes) ?? {};
  }

  all(): Record<string, StoredWorkNote> {
    const notes = { ...this.stored() };
    for (const [taskId, label] of this.busy) notes[taskId] = { ...notes[taskId], busy: label };
    return notes;
  }

  get(taskId: string): StoredWorkNote {
    return this.all()[taskId] ?? {};
  }

  async update(taskId: string, patch: Partial<StoredWorkNote>): Promise<void> {
    const notes = this.stored();
    notes[taskId] = { ...notes[taskId], ...patch };
    delete notes[taskId].busy;
    await this.workspaceState.update(STORAGE_KEYS.workNotes, notes);
    this.changeEmitter.fire();
  }

  async forget(taskId: string): Promise<void> {
    const notes = this.stored();
    delete notes[taskId];
    this.busy.delete(taskId);
    await this.workspaceState.update(STORAGE_KEYS.workNotes, notes);
    this.changeEmitter.fire();
  }

  setBusy(taskId: string, label: string | undefined): void {
    if (label) this.busy.set(taskId, label);
    else this.busy.delete(taskId);
    this.changeEmitter.fire();
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
