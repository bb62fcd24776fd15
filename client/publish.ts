/**
 * Publishing a task branch where its pull request can come from, for the CLI and the extension
 * alike: decide upstream or fork (fork.ts), push there (the upstream through the caller's own
 * push, which uses the volunteer's git credentials; a fork with their token, branch-push.ts), and
 * say which `head` the PR names. When GitHub does not tell whether the volunteer may push to
 * upstream, the upstream push is tried and a refusal falls back to the fork.
 */
import type { Octokit } from '@octokit/rest';
import { pushBranch } from './branch-push.ts';
import { resolvePushTarget, type ForkWaiting, type PushMode, type PushTarget, type RepoRef } from './fork.ts';

export interface PublishInput {
  octokit: Octokit;
  token: string;
  upstream: RepoRef;
  mode: PushMode;
  /** The token's user, when known (saves a `GET /user`). */
  login?: string;
  dir: string;
  branch: string;
  /** Pushes the branch to the upstream repository (the CLI: git push origin; the extension: VS Code's Git). */
  pushUpstream(): Promise<void>;
  waiting?: ForkWaiting;
  onProgress?(message: string): void;
}

export interface Published {
  target: PushTarget;
  /** What the PR's `head` is: the branch, or `owner:branch` from a fork. */
  head: string;
  /** The git remote it was pushed through (forks only; the upstream push is the caller's). */
  remote?: string;
}

export async function publishBranch(input: PublishInput): Promise<Published> {
  const options = { ...(input.login ? { login: input.login } : {}), ...(input.waiting ? { waiting: input.waiting } : {}), ...(input.onProgress ? { onProgress: input.onProgress } : {}) };
  const target = await resolvePushTarget(input.octokit, input.upstream, input.mode, options);
  if (target.kind === 'upstream') {
    try {
      input.onProgress?.(`pushing ${input.branch} to ${input.upstream.owner}/${input.upstream.repo} (${target.reason})`);
      await input.pushUpstream();
      return { target, head: input.branch };
    } catch (error) {
      // Only a guess may fall back: a forced upstream, or one GitHub said we may push to, reports its error.
      if (!target.uncertain) throw error;
      input.onProgress?.(`the push to ${input.upstream.owner}/${input.upstream.repo} was refused; using your fork`);
      const fork = await resolvePushTarget(input.octokit, input.upstream, 'fork', options);
      return pushToFork(input, fork);
    }
  }
  return pushToFork(input, target);
}

async function pushToFork(input: PublishInput, target: PushTarget): Promise<Published> {
  input.onProgress?.(`pushing ${input.branch} to your fork ${target.owner}/${target.repo}`);
  const remote = await pushBranch({
    dir: input.dir,
    branch: input.branch,
    url: target.cloneUrl,
    token: input.token,
    remoteName: target.owner,
    ...(target.created ? { retryWhileNew: input.waiting ?? {} } : {}),
  });
  return { target, head: `${target.owner}:${input.branch}`, remote };
}
