/**
 * The volunteer path behind `npm start` (`owp coordinator --seed-demo`, issue 16): the demo repo
 * octo-org/hello-owp gets a real git remote (a bare repository in the data dir, seeded with the
 * project and its `.owp.yml`), and a local GitHub-shaped server (cli/demo/github/, GitHub itself is
 * not reachable) knows that repository, so `owp submit` in a clone opens a real PR there and the
 * demo's maintainer merges it for real into the remote. The demo account is a collaborator (push
 * access), so the branch goes to the remote itself: this server does not serve git for forks.
 * What it prints are the exact commands that work on this machine; README's "Your first task as
 * a volunteer" walks through the same lines.
 *
 * Kept across restarts: the remote and the GitHub token (in `<data dir>/demo/`). The server's pull
 * requests live in memory, like the rest of a fake GitHub: a restart starts them afresh.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { DEMO_REPO } from '../coordinator/seed.ts';
import { createDemoRemote } from './demo/demo-repo.ts';
import { startFakeGitHub, type FakeGitHub } from './demo/github/server.ts';

/** The GitHub account the demo server knows; the README's `--github-login` names it. */
export const DEMO_GITHUB_LOGIN = 'alice';

export interface DemoGitHub {
  github: FakeGitHub;
  /** The bare repository volunteers clone. */
  remote: string;
  tokenFile: string;
  /** The lines `npm start` prints for a volunteer, in the order they are typed. */
  volunteerLines: { clone: string; worker: string; submit: string; status: string };
}

/** A path as a person at `cwd` types it: relative when it is below, absolute otherwise. */
function typed(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

async function ensureToken(file: string): Promise<string> {
  if (existsSync(file)) {
    const token = (await readFile(file, 'utf8')).trim();
    if (token) return token;
  }
  const token = `ghp_demo${randomBytes(16).toString('hex')}`;
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * Makes (or reuses) the demo's remote and token under `dataDir`, and starts the GitHub-shaped
 * server on `port` (0: any free port). Throws with the port named when it is taken.
 */
export async function startDemoGitHub(options: { dataDir: string; coordinatorUrl: string; host: string; port: number; cwd?: string }): Promise<DemoGitHub> {
  const dir = join(options.dataDir, 'demo');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const remote = join(dir, 'remote', ...DEMO_REPO.split('/')) + '.git';
  if (!existsSync(join(remote, 'HEAD'))) await createDemoRemote(dir);
  const tokenFile = join(dir, 'github-token');
  const token = await ensureToken(tokenFile);
  let github: FakeGitHub;
  try {
    // Enterprise layout: the PR's html_url is this server's own page, never a github.com link that does not exist.
    github = await startFakeGitHub({ layout: 'enterprise', host: options.host, port: options.port, tokens: [{ token, login: DEMO_GITHUB_LOGIN }], repos: [{ full_name: DEMO_REPO, git: remote, collaborators: [DEMO_GITHUB_LOGIN] }] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`the demo's GitHub-shaped server could not listen on ${options.host}:${options.port} (in use); pass --demo-github-port N`);
    throw error;
  }
  const cwd = options.cwd ?? process.cwd();
  const clone = typed(cwd, join(dir, 'hello-owp'));
  // In this checkout (what `npm start` runs in) `owp` is bin/owp.mjs; elsewhere, the installed `owp`.
  const owp = existsSync(join(cwd, 'bin', 'owp.mjs')) ? 'node bin/owp.mjs' : 'owp';
  const volunteerLines = {
    clone: `git clone ${typed(cwd, remote)} ${clone}`,
    worker: `${owp} worker --repo-dir ${clone} --coordinator ${options.coordinatorUrl} --github-login ${DEMO_GITHUB_LOGIN} --skills docs --capacity 3 --tool none`,
    submit: `${owp} submit --repo-dir ${clone} --yes --confirm-checklist --github-api ${github.url} --github-token-file ${typed(cwd, tokenFile)}`,
    status: `${owp} status --repo-dir ${clone}`,
  };
  return { github, remote, tokenFile, volunteerLines };
}
