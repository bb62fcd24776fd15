/**
 * This window's worker identity: the record in workspaceState, the token in SecretStorage under a
 * key that includes a per-workspace id, so several windows are several workers.
 */
import { randomUUID } from 'node:crypto';
import type * as vscode from 'vscode';
import { STORAGE_KEYS } from './constants.ts';
import type { IdentityStore, WorkerIdentity } from './logic/pool-session.ts';

export class WorkspaceIdentityStore implements IdentityStore {
  constructor(
    private readonly workspaceState: vscode.Memento,
    private readonly secrets: vscode.SecretStorage,
  ) {}

  private async tokenKey(): Promise<string> {
    let id = this.workspaceState.get<string>(STORAGE_KEYS.workspaceId);
    if (!id) {
      id = randomUUID();
      await this.workspaceState.update(STORAGE_KEYS.workspaceId, id);
    }
    return `${STORAGE_KEYS.workerTokenPrefix}${id}`;
  }

  async load(): Promise<{ identity: WorkerIdentity; token: string } | undefined> {
    const identity = this.workspaceState.get<WorkerIdentity>(STORAGE_KEYS.identity);
    if (!identity) return undefined;
    const token = await this.secrets.get(await this.tokenKey());
    return token ? { identity, token } : undefined;
  }

  async save(identity: WorkerIdentity, token: string): Promise<void> {
    await this.secrets.store(await this.tokenKey(), token);
    await this.workspaceState.update(STORAGE_KEYS.identity, identity);
  }

  async clear(): Promise<void> {
    await this.secrets.delete(await this.tokenKey());
    await this.workspaceState.update(STORAGE_KEYS.identity, undefined);
  }
}
