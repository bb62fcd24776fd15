/**
 * The GitHub-shaped server as the demo runs it: GitHub Enterprise's layout (API under /api/v3,
 * web pages at the root) and a repository backed by a real bare git repository, where a pull
 * request needs its head pushed and merging one merges it for real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { createDemoRemote } from '../../cli/demo/demo-repo.ts';
import { tempDir } from '../helpers/coordinator.ts';

const REPO = 'octo-org/hello-owp';

test('Enterprise layout with a git-backed repo: pushed heads only, commits from git, a real merge', async () => {
  const root = tempDir('owp-fake-github-git-');
  const remote = await createDemoRemote(join(root, 'git'));
  const gh = await startFakeGitHub({
    layout: 'enterprise',
    tokens: [{ token: 'ghp_ada', login: 'ada' }, { token: 'ghp_reader', login: 'rita', permissions: { contents: 'read' } }],
    repos: [{ full_name: REPO, git: remote }],
  });
  try {
    assert.match(gh.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    const octokit = new Octokit({ auth: 'ghp_ada', baseUrl: gh.url });
    const open = (head: string) => octokit.rest.pulls.create({ owner: 'octo-org', repo: 'hello-owp', head, base: 'main', title: `Work on ${head}`, body: 'Closes #9', draft: true });

    // Not pushed: GitHub's 422 on head.
    await assert.rejects(open('owp/T-1-docs'), (e: { status: number; response: { data: { errors: Array<{ field: string }> } } }) => e.status === 422 && e.response.data.errors[0]!.field === 'head');

    // Pushed from a clone: the PR opens, as ada, with the branch's commits read from git.
    const clone = join(root, 'clone');
    execFileSync('git', ['clone', '--quiet', remote, clone]);
    execFileSync('git', ['-C', clone, 'checkout', '--quiet', '-b', 'owp/T-1-docs']);
    execFileSync('git', ['-C', clone, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.invalid', 'commit', '--quiet', '--allow-empty', '-m', 'Fix the docs']);
    execFileSync('git', ['-C', clone, 'push', '--quiet', 'origin', 'owp/T-1-docs']);
    const { data: pr } = await open('owp/T-1-docs');
    assert.equal(pr.user?.login, 'ada');
    assert.equal(pr.html_url, `${gh.htmlUrl}/${REPO}/pull/${pr.number}`);
    const head = execFileSync('git', ['--git-dir', remote, 'rev-parse', 'owp/T-1-docs'], { encoding: 'utf8' }).trim();
    const { data: commits } = await octokit.rest.pulls.listCommits({ owner: 'octo-org', repo: 'hello-owp', pull_number: pr.number });
    assert.deepEqual(commits.map((c) => [c.sha, c.commit.message]), [[head, 'Fix the docs']]);

    // The web side answers the PR's html_url.
    const page = await fetch(pr.html_url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Work on owp\/T-1-docs\nopen · owp\/T-1-docs → main/);

    // Merging: contents:write is needed; a stale sha is 409; then a real merge commit on main.
    const reader = new Octokit({ auth: 'ghp_reader', baseUrl: gh.url });
    await assert.rejects(reader.rest.pulls.merge({ owner: 'octo-org', repo: 'hello-owp', pull_number: pr.number }), (e: { status: number }) => e.status === 403);
    await assert.rejects(octokit.rest.pulls.merge({ owner: 'octo-org', repo: 'hello-owp', pull_number: pr.number, sha: '0'.repeat(40) }), (e: { status: number }) => e.status === 409);
    const { data: merged } = await octokit.rest.pulls.merge({ owner: 'octo-org', repo: 'hello-owp', pull_number: pr.number, sha: head });
    assert.equal(merged.merged, true);
    const main = execFileSync('git', ['--git-dir', remote, 'log', '-1', '--format=%H %P %s', 'main'], { encoding: 'utf8' }).trim();
    assert.equal(main.split(' ')[0], merged.sha);
    assert.ok(main.includes(head), 'the merge commit has the head as a parent');
    assert.match(main, /Merge pull request #\d+ from octo-org\/owp\/T-1-docs$/);
    assert.equal(gh.state.issue(REPO, pr.number).state, 'closed');
    await assert.rejects(octokit.rest.pulls.merge({ owner: 'octo-org', repo: 'hello-owp', pull_number: pr.number }), (e: { status: number }) => e.status === 405);
  } finally {
    await gh.close();
  }
});
