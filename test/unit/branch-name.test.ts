import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { branchMatchesTemplate, branchName, branchNameProblem, matchBranch, slugify, DEFAULT_BRANCH_TEMPLATE } from '../../protocol/branch-name.ts';

test('slugify keeps lower-case ascii words joined by dashes', () => {
  assert.equal(slugify('Fix "recieve" typo — docs/ÜBER.md'), 'fix-recieve-typo-docs-uber-md');
  assert.equal(slugify('  --Hello,   World!!  '), 'hello-world');
  assert.equal(slugify('Crème brûlée: naïve café'), 'creme-brulee-naive-cafe');
});

test('slugify never returns an empty slug', () => {
  assert.equal(slugify(''), 'task');
  assert.equal(slugify('日本語のタイトル'), 'task');
  assert.equal(slugify('!!!'), 'task');
});

test('slugify cuts long titles at a word boundary within the limit', () => {
  const slug = slugify('Speed up the markdown parser hot loop by avoiding repeated string slicing', 40);
  assert.ok(slug.length <= 40, slug);
  assert.ok(!slug.endsWith('-'));
  assert.equal(slug, 'speed-up-the-markdown-parser-hot-loop-by');
  assert.equal(slugify('a'.repeat(100), 10), 'aaaaaaaaaa');
});

test('branchName fills the default template', () => {
  assert.equal(branchName(DEFAULT_BRANCH_TEMPLATE, { task_id: 'T-12', title: 'Fix typos in the guide' }), 'owp/T-12-fix-typos-in-the-guide');
  assert.equal(branchName('volunteer/{issue_number}/{slug}', { task_id: 'T-3', title: 'X y', issue_number: 42 }), 'volunteer/42/x-y');
});

test('branchName refuses templates that make invalid refs', () => {
  assert.throws(() => branchName('owp..{task_id}', { task_id: 'T-1', title: 'x' }), /\.\..*\.owp\.yml/s);
  assert.throws(() => branchName('owp/{slug}.lock', { task_id: 'T-1', title: 'x' }), /\.lock/);
  assert.throws(() => branchName('owp branch/{slug}', { task_id: 'T-1', title: 'x' }), /space/);
});

test('branch names from hostile titles are accepted by git check-ref-format', () => {
  const titles = ['../../etc/passwd', 'x; rm -rf /', 'a~b^c:d?e*f[g\\h', '.hidden.lock', '@{-1}', '$(whoami)`id`', 'ünïcödé ✓ 🚀', '-leading dash'];
  for (const title of titles) {
    const name = branchName(DEFAULT_BRANCH_TEMPLATE, { task_id: 'T-7', title });
    assert.equal(branchNameProblem(name), undefined, name);
    assert.match(name, /^owp\/T-7-[a-z0-9-]+$/);
    execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'pipe' });
  }
});

test('branchNameProblem agrees with git on invalid names', () => {
  for (const bad of ['', 'a..b', 'a b', 'a/', '/a', 'a//b', 'a.', 'a/.b', 'a.lock', 'a@{b', 'a:b', 'a~', '-a']) {
    assert.ok(branchNameProblem(bad), `expected a problem with ${JSON.stringify(bad)}`);
    assert.throws(() => execFileSync('git', ['check-ref-format', '--branch', bad], { stdio: 'pipe' }), Error, bad);
  }
});

test('matchBranch reads task id and slug back from a branch', () => {
  assert.deepEqual(matchBranch('owp/T-12-fix-typos', DEFAULT_BRANCH_TEMPLATE), { task_id: 'T-12', slug: 'fix-typos' });
  assert.equal(matchBranch('owp/T-12-fix-typos', DEFAULT_BRANCH_TEMPLATE, 'T-12')?.task_id, 'T-12');
  assert.equal(matchBranch('owp/T-12-fix-typos', DEFAULT_BRANCH_TEMPLATE, 'T-1'), undefined);
  assert.equal(matchBranch('feature/T-12-fix', DEFAULT_BRANCH_TEMPLATE), undefined);
  assert.equal(matchBranch('owp/T-12-Fix', DEFAULT_BRANCH_TEMPLATE), undefined);
  assert.equal(matchBranch('owp/T-0-x', DEFAULT_BRANCH_TEMPLATE), undefined);
  assert.equal(matchBranch('owp/T-12-a..b', DEFAULT_BRANCH_TEMPLATE), undefined);
  assert.deepEqual(matchBranch('v/42/x-y', 'v/{issue_number}/{slug}'), { slug: 'x-y', issue_number: 42 });
  assert.ok(branchMatchesTemplate('owp.T-3+x', 'owp.{task_id}+{slug}'), 'regex characters in templates are literal');
  assert.ok(!branchMatchesTemplate('owpxT-3+x', 'owp.{task_id}+{slug}'));
});

test('every generated branch matches its template', () => {
  for (const template of [DEFAULT_BRANCH_TEMPLATE, 'contrib/{slug}-{task_id}', '{task_id}']) {
    const name = branchName(template, { task_id: 'T-99', title: 'Hello (world) 2' });
    assert.ok(branchMatchesTemplate(name, template, 'T-99'), `${name} vs ${template}`);
  }
});
