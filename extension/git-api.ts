/**
 * The part of VS Code's built-in git extension API (`vscode.git`, getAPI(1)) that OWP uses,
 * copied from its published `git.d.ts` shape. Types only.
 */
import type { Event, Uri } from 'vscode';

export interface GitExtension {
  readonly enabled: boolean;
  readonly onDidChangeEnablement: Event<boolean>;
  getAPI(version: 1): GitApi;
}

export interface GitApi {
  readonly state: 'uninitialized' | 'initialized';
  readonly onDidChangeState: Event<'uninitialized' | 'initialized'>;
  readonly repositories: Repository[];
  getRepository(uri: Uri): Repository | null;
  openRepository(root: Uri): Promise<Repository | null>;
  /** Present in recent VS Code versions only; OWP falls back to the git CLI without it. */
  clone?(uri: Uri, options?: { parentPath?: Uri; postCloneAction?: 'none' }): Promise<Uri | null>;
}

export interface Remote {
  readonly name: string;
  readonly fetchUrl?: string;
  readonly pushUrl?: string;
  readonly isReadOnly: boolean;
}

export interface Change {
  readonly uri: Uri;
}

export interface Branch {
  readonly name?: string;
  readonly commit?: string;
  readonly upstream?: { remote: string; name: string };
}

export interface RepositoryState {
  readonly HEAD: Branch | undefined;
  readonly remotes: Remote[];
  readonly workingTreeChanges: Change[];
  readonly indexChanges: Change[];
  readonly mergeChanges: Change[];
  readonly untrackedChanges?: Change[];
}

export interface Repository {
  readonly rootUri: Uri;
  readonly state: RepositoryState;
  status(): Promise<void>;
  fetch(remote?: string, ref?: string, depth?: number): Promise<void>;
  getBranch(name: string): Promise<Branch>;
  createBranch(name: string, checkout: boolean, ref?: string): Promise<void>;
  checkout(treeish: string): Promise<void>;
  add(paths: string[]): Promise<void>;
  commit(message: string, options?: { all?: boolean | 'tracked'; noVerify?: boolean }): Promise<void>;
  push(remoteName?: string, branchName?: string, setUpstream?: boolean, force?: boolean): Promise<void>;
}
