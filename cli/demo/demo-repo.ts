/**
 * The demo's GitHub repository, for real: a bare repository (the "remote") with a small project,
 * its OWP contract (`.owp.yml`: areas, gates, branch template) and gate scripts that actually
 * check the volunteers' changes. Volunteers clone it, branch, commit and push; the maintainer's
 * merges land on its main branch.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commitAll, git, push } from '../../client/git.ts';

export const DEMO_CONTRACT = `# OWP contract for hello-owp: how volunteers work here.
version: 1
setup: []
test: sh scripts/test.sh
lint: sh scripts/lint.sh
branch: owp/{task_id}-{slug}
areas:
  docs: [docs/**, README.md]
  tests: [test/**]
  cli: [src/cli/**]
  parser: [src/parser/**]
  native: [native/**]
  auth: [src/auth/**]
safe_lanes: [docs, tests]
gates: [tests, lint]
pr:
  title: "{title} (OWP {task_id})"
  checklist:
    - Tests pass locally
    - The change stays inside the task's area
  draft: true
`;

const TEST_SCRIPT = `#!/bin/sh
# Every change note names its task on the first line and says something below it.
set -e
checked=0
for f in $(find docs test src native -type f -name 'T-*.md' 2>/dev/null | sort); do
  head -n 1 "$f" | grep -q '^# T-[0-9]' || { echo "FAIL $f: first line must be '# T-<n> ...'"; exit 1; }
  [ "$(wc -l < "$f")" -ge 3 ] || { echo "FAIL $f: too short"; exit 1; }
  checked=$((checked + 1))
done
echo "ok - $checked change notes checked"
`;

const LINT_SCRIPT = `#!/bin/sh
# No trailing whitespace in tracked or new text files.
if grep -rnI '[[:blank:]]$' --include='*.md' --include='*.js' --include='*.yml' . 2>/dev/null | grep -v '^./.git/'; then
  echo "lint: trailing whitespace above"; exit 1
fi
echo "lint: clean"
`;

const FILES: Record<string, string> = {
  'README.md': '# hello-owp\n\nA tiny project the OWP demo works on.\n',
  '.owp.yml': DEMO_CONTRACT,
  'scripts/test.sh': TEST_SCRIPT,
  'scripts/lint.sh': LINT_SCRIPT,
  'docs/getting-started.md': '# Getting started\n\nYou will recieve a greeting.\n',
  'test/README.md': '# Tests\n',
  'src/cli/main.js': "console.log('hello');\n",
  'src/parser/tokenize.js': 'export function tokenize(s) { return s.split(/\\s+/); }\n',
  'src/auth/token.js': 'export const parse = (t) => t;\n',
  'native/README.md': '# Native modules\n',
};

/** Creates `<dir>/remote/octo-org/hello-owp.git` (its path names the repo, as a clone's remote must) with one commit on main; returns the bare repo path. */
export async function createDemoRemote(dir: string): Promise<string> {
  const bare = join(dir, 'remote', 'octo-org', 'hello-owp.git');
  const seed = join(dir, 'seed');
  await mkdir(bare, { recursive: true });
  await git(bare, ['init', '--quiet', '--bare', '--initial-branch=main']);
  await mkdir(seed, { recursive: true });
  await git(seed, ['init', '--quiet', '--initial-branch=main']);
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(join(seed, path, '..'), { recursive: true });
    await writeFile(join(seed, path), content);
  }
  await commitAll(seed, 'hello-owp: initial project with its OWP contract', { name: 'Demo Maintainer', email: 'maintainer@example.invalid' });
  await git(seed, ['remote', 'add', 'origin', bare]);
  await push(seed, 'main');
  return bare;
}
