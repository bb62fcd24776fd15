/**
 * The files a pull request changes, as `GET /repos/{o}/{r}/pulls/{n}/files` answers (one entry per
 * file: filename, status added/removed/modified/renamed, additions, deletions, changes, sha; paged
 * like GitHub, at most 3000 files). The head's tree is compared with the base branch's: the trees
 * of repos not backed by git, or `git diff` in the bare repository for those that are.
 */
import { git } from '../../../client/git.ts';
import { blobSha, resolveRef } from './files.ts';
import { headRepoOf } from './pull-requests.ts';
import type { FakePull, FakeRepo } from './model.ts';
import type { FakeGitHubState } from './state.ts';

export interface PullFile {
  sha: string | null;
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed';
  additions: number;
  deletions: number;
  changes: number;
  previous_filename?: string;
}

/** GitHub lists at most this many files of a pull request. */
export const MAX_PULL_FILES = 3000;

const lines = (text: string | undefined): number => (text === undefined || text === '' ? 0 : text.split('\n').length);

export async function pullFiles(state: FakeGitHubState, repo: FakeRepo, pr: FakePull): Promise<PullFile[]> {
  const headRepo = headRepoOf(state, repo, pr);
  if (headRepo.git) {
    const base = await resolveRef(state, repo, pr.pull.base_ref);
    const head = await resolveRef(state, headRepo, pr.pull.head_ref);
    // The head's repository (the repo itself or a fork of it) holds the base's history too.
    const out = await git(headRepo.git, ['diff', '--name-status', '-M', `${base.sha}...${head.sha}`]).catch(() => git(repo.git as string, ['diff', '--name-status', '-M', base.sha, head.sha]));
    const files: PullFile[] = [];
    for (const line of out.split('\n').filter(Boolean)) {
      const [code, first, second] = line.split('\t') as [string, string, string | undefined];
      const status = code.startsWith('R') ? 'renamed' : code === 'A' ? 'added' : code === 'D' ? 'removed' : 'modified';
      const filename = status === 'renamed' ? (second as string) : first;
      const blob = status === 'removed' ? undefined : await head.read(filename);
      files.push({ sha: blob?.sha ?? null, filename, status, additions: 0, deletions: 0, changes: 0, ...(status === 'renamed' ? { previous_filename: first } : {}) });
    }
    return files.slice(0, MAX_PULL_FILES);
  }
  const baseTree = repo.branches.get(pr.pull.base_ref)?.at(-1)?.tree ?? {};
  const headTree = headRepo.branches.get(pr.pull.head_ref)?.at(-1)?.tree ?? baseTree;
  const files: PullFile[] = [];
  for (const path of [...new Set([...Object.keys(baseTree), ...Object.keys(headTree)])].sort()) {
    const before = baseTree[path];
    const after = headTree[path];
    if (before === after) continue;
    const status = before === undefined ? 'added' : after === undefined ? 'removed' : 'modified';
    const additions = status === 'removed' ? 0 : lines(after);
    const deletions = status === 'added' ? 0 : lines(before);
    files.push({ sha: after === undefined ? null : blobSha(after), filename: path, status, additions, deletions, changes: additions + deletions });
  }
  return files.slice(0, MAX_PULL_FILES);
}
