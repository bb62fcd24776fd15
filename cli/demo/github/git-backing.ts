/**
 * Repositories backed by a real bare git repository (the demo's): a branch exists when it was
 * pushed there, a pull request lists the commits its head has over its base, and merging a pull
 * request really merges it into the base branch, so the demo's `main` grows merge commits.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../../../client/git.ts';
import type { FakePull, FakeRepo } from './model.ts';
import type { FakeGitHubState } from './state.ts';

const FIELD = '\u001f';

export class GitBacking {
  private scratch: string | undefined;
  /** Merges run one at a time: each clones, merges and pushes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly state: FakeGitHubState) {}

  /** Reads a branch from the bare repo into the state: its commits over `base`, or none when it was never pushed. */
  async loadBranch(repo: FakeRepo, ref: string, base = repo.default_branch): Promise<void> {
    if (!repo.git) return;
    const fullName = `${repo.owner}/${repo.name}`;
    if (!(await this.exists(repo.git, ref))) {
      repo.branches.delete(ref);
      return;
    }
    const range = ref === base ? ['-1', ref] : [`${base}..${ref}`];
    const log = await git(repo.git, ['log', '--reverse', `--format=%H${FIELD}%s${FIELD}%an`, ...range]);
    const commits = log.split('\n').filter(Boolean).map((line) => {
      const [sha, message, author] = line.split(FIELD) as [string, string, string];
      return { sha, message, author };
    });
    this.state.addBranch(fullName, ref, { commits });
  }

  /** Merges the pull request's head into its base in the bare repo; returns the merge commit. */
  merge(repo: FakeRepo, pr: FakePull, message: string): Promise<string> {
    const run = (): Promise<string> => this.mergeNow(repo, pr, message);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** A bare copy of `source` for the fork `fullName` (only `branch` when given), in this server's scratch folder. */
  async cloneBare(source: string, fullName: string, branch?: string): Promise<string> {
    this.scratch ??= await mkdtemp(join(tmpdir(), 'owp-github-merge-'));
    const target = join(this.scratch, 'forks', `${fullName}.git`);
    await git(this.scratch, ['clone', '--quiet', '--bare', ...(branch ? ['--single-branch', '--branch', branch] : []), source, target]);
    return target;
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
  }

  private async mergeNow(repo: FakeRepo, pr: FakePull, message: string): Promise<string> {
    const bare = repo.git as string;
    this.scratch ??= await mkdtemp(join(tmpdir(), 'owp-github-merge-'));
    const work = join(this.scratch, `merge-${repo.name}-${pr.number}`);
    await git(this.scratch, ['clone', '--quiet', bare, work]);
    try {
      const me = ['-c', 'user.name=Demo Maintainer', '-c', 'user.email=maintainer@example.invalid'];
      await git(work, ['checkout', '--quiet', pr.pull.base_ref]);
      // A head on a fork is fetched from the fork's own repository, as GitHub does for its merge.
      const headRepo = this.state.findRepo(pr.pull.head_repo);
      const fromFork = headRepo && headRepo !== repo && headRepo.git;
      if (fromFork) await git(work, ['fetch', '--quiet', headRepo.git as string, `refs/heads/${pr.pull.head_ref}`]);
      await git(work, [...me, 'merge', '--quiet', '--no-ff', '--no-edit', '-m', message, fromFork ? 'FETCH_HEAD' : `origin/${pr.pull.head_ref}`]);
      await git(work, ['push', '--quiet', 'origin', pr.pull.base_ref]);
      return await git(work, ['rev-parse', 'HEAD']);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async exists(bare: string, ref: string): Promise<boolean> {
    try {
      await git(bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${ref}`]);
      return true;
    } catch {
      return false;
    }
  }
}
