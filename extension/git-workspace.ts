/**
 * Checkouts through VS Code's git extension: find the task's repo among the open repositories
 * (by remote), clone it when missing, make the task branch, commit and push. Reading the default
 * branch uses the worker side's git helper, which only reads.
 */
import { access } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { defaultBranch, git } from '../client/git.ts';
import { GIT_EXTENSION_ID } from './constants.ts';
import type { GitApi, GitExtension, Repository } from './git-api.ts';
import { cloneUrl, remoteForRepo } from './logic/git-remote.ts';

export class GitUnavailableError extends Error {}

export async function gitApi(): Promise<GitApi> {
  const extension = vscode.extensions.getExtension<GitExtension>(GIT_EXTENSION_ID);
  if (!extension) throw new GitUnavailableError('VS Code\'s built-in Git extension is missing. OWP needs it to make branches and push.');
  const exports = extension.isActive ? extension.exports : await extension.activate();
  if (!exports.enabled) throw new GitUnavailableError('Git is disabled in VS Code (setting "git.enabled"). Enable it, then try again.');
  const api = exports.getAPI(1);
  if (api.state !== 'initialized') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      const subscription = api.onDidChangeState((state) => {
        if (state !== 'initialized') return;
        clearTimeout(timer);
        subscription.dispose();
        resolve();
      });
    });
  }
  return api;
}

/** The open repository whose remote points at `repo`, or the one at `hintPath`. */
export async function findRepository(repo: string, hintPath?: string): Promise<Repository | undefined> {
  const api = await gitApi();
  if (hintPath) {
    const known = api.repositories.find((r) => r.rootUri.fsPath === hintPath) ?? (await api.openRepository(vscode.Uri.file(hintPath)).catch(() => null));
    if (known) return known;
  }
  const match = api.repositories.find((r) => remoteForRepo(r.state.remotes, repo));
  if (match) return match;
  // The git extension opens repositories lazily; look at the workspace folders themselves too.
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const opened = await api.openRepository(folder.uri).catch(() => null);
    if (opened && remoteForRepo(opened.state.remotes, repo)) return opened;
  }
  return undefined;
}

export function remoteNameFor(repository: Repository, repo: string): string {
  return remoteForRepo(repository.state.remotes, repo) ?? 'origin';
}

/** Clones the repo into a folder the volunteer picks; returns the opened repository. */
export async function cloneRepository(repo: string, githubApiUrl: string, parent: vscode.Uri): Promise<Repository> {
  const api = await gitApi();
  const url = cloneUrl(githubApiUrl, repo);
  const target = join(parent.fsPath, basename(repo));
  const exists = await access(target).then(
    () => true,
    () => false,
  );
  if (!exists) {
    if (api.clone) await api.clone(vscode.Uri.parse(url), { parentPath: parent, postCloneAction: 'none' });
    else await git(parent.fsPath, ['clone', '--quiet', url, target]);
  }
  const opened = await api.openRepository(vscode.Uri.file(target));
  if (!opened) throw new Error(`Cloned ${repo} to ${target}, but VS Code's Git cannot open it there.`);
  return opened;
}

export function uncommittedPaths(repository: Repository): string[] {
  const state = repository.state;
  const changes = [...state.workingTreeChanges, ...state.indexChanges, ...state.mergeChanges, ...(state.untrackedChanges ?? [])];
  return [...new Set(changes.map((c) => c.uri.fsPath))];
}

export interface TaskBranch {
  created: boolean;
  base: string;
  baseCommit: string | undefined;
}

/**
 * Checks out the task branch, creating it from the freshly fetched default branch. Refuses when
 * switching would carry someone's uncommitted changes into the task.
 */
export async function checkoutTaskBranch(repository: Repository, branch: string, remote: string): Promise<TaskBranch> {
  await repository.status();
  const dir = repository.rootUri.fsPath;
  const onBranch = repository.state.HEAD?.name === branch;
  if (!onBranch && uncommittedPaths(repository).length > 0) {
    throw new Error(`${basename(dir)} has uncommitted changes. Commit or stash them first, so they do not end up in this task's PR; then run "Open in AI Tool" from My work again.`);
  }
  const hasRemote = repository.state.remotes.some((r) => r.name === remote);
  if (hasRemote) await repository.fetch(remote);
  const base = await defaultBranch(dir, remote);
  const existing = await repository.getBranch(branch).catch(() => undefined);
  if (existing) {
    if (!onBranch) await repository.checkout(branch);
    return { created: false, base, baseCommit: undefined };
  }
  await repository.createBranch(branch, true, hasRemote ? `${remote}/${base}` : base);
  await repository.status();
  return { created: true, base, baseCommit: repository.state.HEAD?.commit };
}

export async function commitAll(repository: Repository, message: string): Promise<void> {
  const paths = uncommittedPaths(repository);
  if (paths.length === 0) return;
  await repository.add(paths);
  await repository.commit(message);
}

export async function pushBranch(repository: Repository, remote: string, branch: string): Promise<void> {
  await repository.push(remote, branch, true);
}
