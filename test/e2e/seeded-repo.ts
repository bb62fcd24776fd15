/**
 * The tasks' repository: a local bare git repository stands for the GitHub remote (its path ends
 * in owner/name.git, which the extension reads as the repo id), and each editor window opens its
 * own clone, as each volunteer has their own checkout. The repo carries an `.owp.yml` contract
 * whose test command is real and quick: it checks the README and records that it ran.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../../client/git.ts';

/** The contract's test command appends one line per run to the file this variable names. */
export const TEST_RUNS_ENV = 'OWP_E2E_TEST_RUNS';

const CONTRACT = `# OWP repo contract (read by volunteers' workers)
version: 1
test: node scripts/check.mjs
branch: owp/{task_id}-{slug}
safe_lanes: [docs, tests]
gates: [tests]
pr:
  draft: true
`;

const CHECK_SCRIPT = `// The repo's test suite, kept tiny: the README must have a title and no TODO markers.
import { appendFileSync, readFileSync } from 'node:fs';
const readme = readFileSync('README.md', 'utf8');
if (!readme.startsWith('# ')) {
  console.error('check failed: README.md must start with a "# " title');
  process.exit(1);
}
if (readme.includes('TODO')) {
  console.error('check failed: README.md still has a TODO');
  process.exit(1);
}
if (process.env.${TEST_RUNS_ENV}) appendFileSync(process.env.${TEST_RUNS_ENV}, JSON.stringify({ cwd: process.cwd(), at: Date.now() }) + '\\n');
console.log('check passed: README.md has ' + readme.split('\\n').length + ' lines');
`;

const FILES: Record<string, string> = {
  'README.md': '# Acme site\n\nThe Acme project website.\n\nContributions welcome.\n',
  'docs/guide.md': '# Guide\n\nHow to build the site.\n',
  'scripts/check.mjs': CHECK_SCRIPT,
  'package.json': '{ "name": "acme-site", "private": true, "type": "module" }\n',
  '.owp.yml': CONTRACT,
};

const IDENTITY = ['-c', 'user.name=Acme Maintainer', '-c', 'user.email=maintainer@acme.invalid'];

/**
 * Creates `<root>/remotes/<owner>/<name>.git` with one commit on main and returns its path.
 * `ciChecks`: the contract names CI checks a PR must pass (`ci.checks`), as a maintainer commits it.
 */
export async function createSeededRemote(root: string, repo: string, options: { ciChecks?: string[] } = {}): Promise<string> {
  const bare = join(root, 'remotes', `${repo}.git`);
  const seed = join(root, 'seed-checkout');
  mkdirSync(bare, { recursive: true });
  await git(bare, ['init', '--bare', '--initial-branch=main']);
  mkdirSync(seed, { recursive: true });
  await git(seed, ['init', '--initial-branch=main']);
  const ci = options.ciChecks ? `ci:\n  checks: [${options.ciChecks.join(', ')}]\n  timeout_minutes: 120\n` : '';
  for (const [path, text] of Object.entries({ ...FILES, '.owp.yml': CONTRACT + ci })) {
    mkdirSync(join(seed, path, '..'), { recursive: true });
    writeFileSync(join(seed, path), text);
  }
  await git(seed, ['add', '-A']);
  await git(seed, [...IDENTITY, 'commit', '-m', 'Initial site']);
  await git(seed, ['push', bare, 'main']);
  return bare;
}

/** Clones the remote for one volunteer, with their git identity in the clone's own config. */
export async function cloneFor(remote: string, directory: string, volunteer: { login: string }): Promise<string> {
  mkdirSync(join(directory, '..'), { recursive: true });
  await git(join(directory, '..'), ['clone', remote, directory]);
  await git(directory, ['config', 'user.name', volunteer.login]);
  await git(directory, ['config', 'user.email', `${volunteer.login}@users.invalid`]);
  return directory;
}

export async function currentBranch(checkout: string): Promise<string> {
  return git(checkout, ['rev-parse', '--abbrev-ref', 'HEAD']);
}

export async function localBranches(checkout: string): Promise<string[]> {
  const out = await git(checkout, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']);
  return out.split('\n').filter(Boolean);
}

export async function remoteBranches(bare: string): Promise<string[]> {
  const out = await git(bare, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']);
  return out.split('\n').filter(Boolean);
}

/** A file's content on a branch of the bare remote. */
export async function fileOnRemote(bare: string, branch: string, path: string): Promise<string> {
  return git(bare, ['show', `${branch}:${path}`]);
}
