import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitAll, commitsAhead, createTaskBranch, currentBranch, defaultBranch, git, parseRemoteUrl, push, remoteUrl } from '../../client/git.ts';

test('parseRemoteUrl reads owner and repo from the usual remote forms', () => {
  const expected = { host: 'github.com', owner: 'octo-org', repo: 'hello-owp' };
  for (const url of [
    'https://github.com/octo-org/hello-owp',
    'https://github.com/octo-org/hello-owp.git',
    'https://user:tok@github.com/octo-org/hello-owp.git/',
    'git@github.com:octo-org/hello-owp.git',
    'github.com:octo-org/hello-owp',
    'ssh://git@github.com:22/octo-org/hello-owp.git',
    'git://github.com/octo-org/hello-owp',
  ]) assert.deepEqual(parseRemoteUrl(url), expected, url);
  assert.deepEqual(parseRemoteUrl('https://ghe.example.com/team/repo.js.git'), { host: 'ghe.example.com', owner: 'team', repo: 'repo.js' });
  for (const url of ['/srv/git/repo.git', './repo', 'file:///srv/owner/repo.git', 'C:\\repos\\x', 'https://github.com/only-owner', 'https://github.com/a/b/c', '']) {
    assert.equal(parseRemoteUrl(url), undefined, url);
  }
});

test('task branches come from the remote default branch, commit and push', async () => {
  const root = await mkdtemp(join(tmpdir(), 'owp-git-'));
  try {
    const remote = join(root, 'remote.git');
    const seed = join(root, 'seed');
    const clone = join(root, 'clone');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', seed]);
    await writeFile(join(seed, 'README.md'), '# hello\n');
    const me = { name: 'Test', email: 'test@example.invalid' };
    await commitAll(seed, 'initial', me);
    await git(seed, ['remote', 'add', 'origin', remote]);
    await push(seed, 'main');
    execFileSync('git', ['clone', '--quiet', remote, clone]);

    assert.equal(await defaultBranch(clone), 'main');
    assert.equal(await remoteUrl(clone), remote);
    const created = await createTaskBranch(clone, 'owp/T-1-fix');
    assert.deepEqual(created, { base: 'main', created: true });
    assert.equal(await currentBranch(clone), 'owp/T-1-fix');
    assert.equal(await commitAll(clone, 'nothing', me), undefined, 'no changes, no commit');
    await writeFile(join(clone, 'docs.md'), 'fixed\n');
    const sha = await commitAll(clone, 'T-1: fix', me);
    assert.match(sha!, /^[0-9a-f]{40}$/);
    assert.equal(await commitsAhead(clone, 'origin/main'), 1);
    await push(clone, 'owp/T-1-fix');
    assert.equal(await git(remote, ['rev-parse', 'refs/heads/owp/T-1-fix']), sha);

    await git(clone, ['checkout', '--quiet', 'main']);
    assert.deepEqual(await createTaskBranch(clone, 'owp/T-1-fix'), { base: 'main', created: false }, 'an existing branch is resumed');
    assert.equal(await git(clone, ['rev-parse', 'HEAD']), sha);
    await assert.rejects(git(clone, ['checkout', 'no-such-branch']), /git checkout failed/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
