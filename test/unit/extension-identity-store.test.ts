import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { WorkspaceIdentityStore } from '../../extension/identity-store.ts';

/** workspaceState: one per workspace (window). */
class Memento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return this.values.has(key) ? (structuredClone(this.values.get(key)) as T) : fallback;
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, structuredClone(value));
  }
}

/** SecretStorage: one per extension, shared by every window of the editor. */
class Secrets {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

const identity = (workerId: string) => ({ workerId, coordinatorUrl: 'http://127.0.0.1:8787', githubLogin: 'alice', active: true });

describe('extension identity store', () => {
  test('two windows sharing one secret storage keep two worker tokens; settings never see them', async () => {
    const secrets = new Secrets();
    const a = new WorkspaceIdentityStore(new Memento() as unknown as vscode.Memento, secrets as unknown as vscode.SecretStorage);
    const bState = new Memento();
    const b = new WorkspaceIdentityStore(bState as unknown as vscode.Memento, secrets as unknown as vscode.SecretStorage);
    await a.save(identity('W-1'), 'token-a');
    await b.save(identity('W-2'), 'token-b');
    assert.deepEqual(await a.load(), { identity: identity('W-1'), token: 'token-a' });
    assert.deepEqual(await b.load(), { identity: identity('W-2'), token: 'token-b' });
    assert.equal(secrets.values.size, 2);
    assert.ok(!JSON.stringify(bState.get('owp.identity')).includes('token-b'), 'the token is not in workspaceState');

    await a.clear();
    assert.equal(await a.load(), undefined);
    assert.deepEqual(await b.load(), { identity: identity('W-2'), token: 'token-b' }, 'clearing one window leaves the other');
  });

  test('an identity whose token is gone from secret storage counts as not joined', async () => {
    const secrets = new Secrets();
    const store = new WorkspaceIdentityStore(new Memento() as unknown as vscode.Memento, secrets as unknown as vscode.SecretStorage);
    await store.save(identity('W-1'), 'token-a');
    secrets.values.clear();
    assert.equal(await store.load(), undefined);
  });
});
