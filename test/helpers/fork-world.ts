/**
 * An upstream repository on the GitHub-shaped server, backed by a real bare git repository and
 * served over smart HTTP the way github.com serves `https://github.com/owner/name.git` (the
 * server's `clone_url`s point there, forks included), and a volunteer's clone of it with a task
 * branch carrying one commit. Pushing needs the volunteer's token; only a repo's owner or
 * collaborators may push to it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from '../../cli/demo/github/server.ts';
import type { FakeRepoSeed, FakeTokenSeed } from '../../cli/demo/github/model.ts';
import { commitAll, git } from '../../client/git.ts';
import { tempDir } from './coordinator.ts';
import { startGitHttp, type GitHttpServer } from './git-http.ts';

export const UPSTREAM = 'acme/site';

export interface ForkWorld {
  gh: FakeGitHub;
  gitHttp: GitHttpServer;
  /** The upstream's bare repository. */
  upstreamGit: string;
  /** The volunteer's clone (origin = the upstream over HTTP), on `branch` with one commit. */
  clone: string;
  branch: string;
  /** The bare repository behind `owner/name` (a fork's once it exists). */
  bareOf(fullName: string): string | undefined;
  /** The sha of `branch` in the repository behind `fullName`, or undefined. */
  shaIn(fullName: string, branch: string): Promise<string | undefined>;
  /** `.git/config` of the clone, to prove no secret landed there. */
  gitConfig(): string;
  close(): Promise<void>;
}

export interface ForkWorldOptions {
  tokens: FakeTokenSeed[];
  /** The upstream's seed beyond its name and git (collaborators, allow_forking). */
  upstream?: Omit<FakeRepoSeed, 'full_name' | 'git'>;
  /** Repos to seed after the upstream (e.g. an existing fork: `{ full_name, fork_of: UPSTREAM }`). */
  repos?: FakeRepoSeed[];
  fake?: Omit<FakeGitHubOptions, 'tokens' | 'repos' | 'htmlBaseUrl'>;
  branch?: string;
  /** Files of upstream's first commit; default a README. */
  files?: Record<string, string>;
  /** Answer "Repository not found." to this many git requests for a repo's first pushes (GitHub still copying a fork). */
  gitNotReadyFor?: number;
}

export async function startForkWorld(options: ForkWorldOptions): Promise<ForkWorld> {
  const root = tempDir('owp-fork-world-');
  const upstreamGit = join(root, 'upstream.git');
  await git(root, ['init', '--quiet', '--bare', '--initial-branch=main', upstreamGit]);
  const seed = join(root, 'seed');
  await git(root, ['clone', '--quiet', upstreamGit, seed]);
  await git(seed, ['checkout', '--quiet', '-b', 'main']);
  for (const [path, text] of Object.entries(options.files ?? { 'README.md': '# Site\n' })) writeFileSync(join(seed, path), text);
  await commitAll(seed, 'Initial commit', { name: 'Maintainer', email: 'mo@example.invalid' });
  await git(seed, ['push', '--quiet', 'origin', 'main']);

  let gh: FakeGitHub | undefined;
  let notReady = options.gitNotReadyFor ?? 0;
  const tokens = new Map(options.tokens.map((t) => [t.token, t.login]));
  const gitHttp = await startGitHttp({
    tokens,
    resolve: (owner, name) => {
      const repo = gh?.state.findRepo(`${owner}/${name}`);
      if (!repo || repo.pending) return undefined;
      if (repo.parent && notReady > 0) {
        notReady -= 1;
        return undefined;
      }
      return repo.git;
    },
    canPush: (login, owner, name) => {
      const repo = gh?.state.findRepo(`${owner}/${name}`);
      return login.toLowerCase() === owner.toLowerCase() || Boolean(repo?.collaborators.has(login.toLowerCase()));
    },
  });
  // Seeded repos get their own bare repository: a fork a copy of upstream's, any other an empty one.
  const repos: FakeRepoSeed[] = [];
  for (const r of options.repos ?? []) {
    const bare = join(root, 'seeded', `${r.full_name}.git`);
    await git(root, r.fork_of ? ['clone', '--quiet', '--bare', upstreamGit, bare] : ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    repos.push({ git: bare, ...r });
  }
  gh = await startFakeGitHub({
    ...options.fake,
    tokens: options.tokens,
    htmlBaseUrl: gitHttp.url,
    repos: [{ ...options.upstream, full_name: UPSTREAM, git: upstreamGit }, ...repos],
  });
  const fake = gh;
  const branch = options.branch ?? 'owp/T-1-fix-the-readme';
  const clone = join(root, 'clone');
  await git(root, ['clone', '--quiet', `${gitHttp.url}/${UPSTREAM}.git`, clone]);
  await git(clone, ['checkout', '--quiet', '-b', branch]);
  writeFileSync(join(clone, 'README.md'), '# Site\n\nInstall with npm ci.\n');
  await commitAll(clone, 'Say how to install', { name: 'Alice', email: 'alice@example.invalid' });

  const bareOf = (fullName: string): string | undefined => fake.state.findRepo(fullName)?.git;
  return {
    gh: fake,
    gitHttp,
    upstreamGit,
    clone,
    branch,
    bareOf,
    async shaIn(fullName, ref) {
      const bare = bareOf(fullName);
      if (!bare) return undefined;
      return git(bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${ref}`]).catch(() => undefined);
    },
    gitConfig: () => readFileSync(join(clone, '.git', 'config'), 'utf8'),
    async close() {
      await fake.close();
      await gitHttp.close();
    },
  };
}
