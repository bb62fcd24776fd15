/**
 * Files in the GitHub-shaped server: each commit of a repo not backed by git carries its tree
 * (path → text); `pushFiles` is a `git push` of one new commit, delivering the `push` webhook and,
 * for open pull requests whose head it moved, `pull_request` `synchronize`. The contents API
 * (routes/contents.ts) reads files here, or from the bare repository when the repo has one.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { git } from '../../../client/git.ts';
import { iso, lower, notFound, type FakeCommit, type FakeRepo } from './model.ts';
import type { FakeGitHubState } from './state.ts';

const ZERO_SHA = '0000000000000000000000000000000000000000';

/** Git's blob id of a text: what the contents API answers as `sha`. */
export function blobSha(text: string): string {
  const body = Buffer.from(text, 'utf8');
  return createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${body.length}\0`), body])).digest('hex');
}

export interface ResolvedRef {
  sha: string;
  /** The file's text and blob sha, or undefined when the commit has no such file. */
  read(path: string): Promise<{ text: string; sha: string } | undefined>;
  /** The paths directly inside a directory ('' for the root), or undefined when it is no directory. */
  list(dir: string): Promise<Array<{ path: string; type: 'file' | 'dir'; text?: string }> | undefined>;
}

function listTree(tree: Record<string, string>, dir: string): Array<{ path: string; type: 'file' | 'dir'; text?: string }> | undefined {
  const prefix = dir === '' ? '' : `${dir.replace(/\/$/, '')}/`;
  const seen = new Map<string, { path: string; type: 'file' | 'dir'; text?: string }>();
  for (const [path, text] of Object.entries(tree)) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf('/');
    const entry = slash < 0 ? { path, type: 'file' as const, text } : { path: `${prefix}${rest.slice(0, slash)}`, type: 'dir' as const };
    seen.set(entry.path, entry);
  }
  return seen.size === 0 && prefix !== '' ? undefined : [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** A branch, tag-less ref or commit sha of the repo; 404 when it names nothing. */
export async function resolveRef(state: FakeGitHubState, repo: FakeRepo, ref: string | null): Promise<ResolvedRef> {
  const wanted = ref ?? repo.default_branch;
  if (repo.git) {
    const bare = repo.git;
    let sha: string;
    try {
      sha = await git(bare, ['rev-parse', '--verify', '--quiet', `${wanted}^{commit}`]);
    } catch {
      throw notFound();
    }
    return {
      sha,
      read: async (path) => {
        const blob = await git(bare, ['rev-parse', '--verify', '--quiet', `${sha}:${path}`]).catch(() => undefined);
        if (!blob || (await git(bare, ['cat-file', '-t', blob])) !== 'blob') return undefined;
        return { text: await catBlob(bare, blob), sha: blob };
      },
      list: async (dir) => {
        const out = await git(bare, ['ls-tree', sha, dir === '' ? '.' : `${dir.replace(/\/$/, '')}/`]).catch(() => undefined);
        if (out === undefined || (out === '' && dir !== '')) return undefined;
        return out.split('\n').filter(Boolean).map((line) => {
          const [meta, path] = line.split('\t') as [string, string];
          return { path, type: meta.split(' ')[1] === 'tree' ? 'dir' as const : 'file' as const };
        });
      },
    };
  }
  const commits = repo.branches.get(wanted);
  const commit = commits?.at(-1) ?? [...repo.branches.values()].flat().find((c) => c.sha === wanted || (wanted.length >= 7 && c.sha.startsWith(wanted)));
  if (!commit) throw notFound();
  const tree = commit.tree ?? {};
  return {
    sha: commit.sha,
    read: async (path) => (tree[path] === undefined ? undefined : { text: tree[path], sha: blobSha(tree[path]) }),
    list: async (dir) => listTree(tree, dir),
  };
}

/** A blob's exact bytes as text (client/git.ts trims output, which would change the file). */
function catBlob(bare: string, blob: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['cat-file', 'blob', blob], { cwd: bare, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

export interface PushOptions {
  message?: string;
  author?: string;
}

/**
 * Pushes one commit to a branch of a repo not backed by git: the parent's tree with `changes`
 * applied (a null removes the file). Delivers `push`, then `synchronize` for the open pull
 * requests (in the repo or, for a fork, in its parent) whose head is that branch.
 */
export function pushFiles(state: FakeGitHubState, fullName: string, branch: string, changes: Record<string, string | null>, options: PushOptions = {}): FakeCommit {
  const repo = state.repo(fullName);
  if (repo.git) throw new Error(`${fullName} is backed by git: push to its bare repository instead`);
  const existed = repo.branches.has(branch);
  const history = repo.branches.get(branch) ?? [...(repo.branches.get(repo.default_branch) ?? [])];
  const parent = history.at(-1);
  const tree: Record<string, string> = { ...(parent?.tree ?? {}) };
  for (const [path, text] of Object.entries(changes)) {
    if (text === null) delete tree[path];
    else tree[path] = text;
  }
  const author = options.author ?? repo.owner;
  const message = options.message ?? `Update ${Object.keys(changes).join(', ')}`;
  const commit: FakeCommit = { sha: state.sha(`${fullName} ${branch} ${message}`), message, author, verified: false, date: iso(Date.now()), tree };
  repo.branches.set(branch, [...history, commit]);
  const before = existed && parent ? parent.sha : ZERO_SHA;
  const html = `${state.htmlUrl}/${repo.owner}/${repo.name}`;
  const added = Object.keys(changes).filter((p) => changes[p] !== null && !(parent?.tree && p in parent.tree));
  const removed = Object.keys(changes).filter((p) => changes[p] === null);
  const modified = Object.keys(changes).filter((p) => !added.includes(p) && !removed.includes(p));
  const person = { name: author, email: `${author}@users.noreply.github.com`, username: author };
  const shaped = { id: commit.sha, tree_id: state.sha(`tree ${commit.sha}`), distinct: true, message, timestamp: commit.date, url: `${html}/commit/${commit.sha}`, author: person, committer: person, added, removed, modified };
  state.deliver('push', undefined, repo, {
    ref: `refs/heads/${branch}`,
    before,
    after: commit.sha,
    created: !existed,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${html}/compare/${before.slice(0, 12)}...${commit.sha.slice(0, 12)}`,
    commits: [shaped],
    head_commit: shaped,
    pusher: { name: author, email: person.email },
  }, author);
  synchronize(state, repo, branch, before, commit.sha, author);
  return commit;
}

/** `pull_request` `synchronize` for the open PRs whose head is `repo`'s `branch` (in it, or in the repo it was forked from). */
export function synchronize(state: FakeGitHubState, headRepo: FakeRepo, branch: string, before: string, after: string, sender: string): void {
  const headFull = lower(`${headRepo.owner}/${headRepo.name}`);
  const bases = [headRepo, ...(headRepo.parent ? [state.findRepo(headRepo.parent)] : [])].filter((r): r is FakeRepo => r !== undefined);
  for (const base of bases) {
    for (const pr of state.allIssues(base)) {
      if (!pr.pull || pr.state !== 'open' || pr.pull.head_ref !== branch || lower(pr.pull.head_repo) !== headFull) continue;
      pr.updated_at = iso(Date.now());
      state.deliver('pull_request', 'synchronize', base, { number: pr.number, before, after, pull_request: state.shapes.pull(base, pr) }, sender);
    }
  }
}
