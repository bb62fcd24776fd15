/**
 * A demo repo full of ready tasks across areas, tiers, efforts and skills, so a fresh coordinator
 * has something to show. Idempotent: seeding twice changes nothing.
 */
import type { Principal } from './auth.ts';
import type { CoordinatorService } from './service.ts';

export const DEMO_REPO = 'octo-org/hello-owp';

interface SeedTask {
  title: string;
  area: string;
  tier: number;
  effort: number;
  skills: string[];
  priority?: number;
  body: string;
}

export const DEMO_TASKS: SeedTask[] = [
  { title: 'Fix typos in the getting-started guide', area: 'docs', tier: 0, effort: 1, skills: ['docs'], body: 'Several typos in docs/getting-started.md ("recieve", "seperate").' },
  { title: 'Document the --verbose flag', area: 'docs', tier: 0, effort: 1, skills: ['docs'], body: 'The CLI has a --verbose flag that is not in the README.' },
  { title: 'Add tests for the slugify helper', area: 'tests', tier: 0, effort: 2, skills: ['ts', 'tests'], body: 'src/slugify.ts has no unit tests; cover unicode and empty input.' },
  { title: 'Add tests for config parsing edge cases', area: 'tests', tier: 0, effort: 2, skills: ['ts', 'tests'], body: 'Empty file, comments only, duplicate keys.' },
  { title: 'Colour the CLI output when on a TTY', area: 'cli', tier: 1, effort: 2, skills: ['ts'], priority: 1, body: 'Use colours only when stdout is a terminal and NO_COLOR is unset.' },
  { title: 'Support --json output in `hello list`', area: 'cli', tier: 1, effort: 3, skills: ['ts'], body: 'Scripts need machine-readable output.' },
  { title: 'Speed up the markdown parser hot loop', area: 'parser', tier: 2, effort: 5, skills: ['ts', 'perf'], body: 'Profiling shows 40% of time in tokenize(); avoid re-slicing strings.' },
  { title: 'Handle CRLF line endings in the parser', area: 'parser', tier: 1, effort: 3, skills: ['ts'], body: 'Windows files parse with stray \\r characters.' },
  { title: 'Port the checksum module to Rust (wasm)', area: 'native', tier: 3, effort: 8, skills: ['rust'], body: 'Replace the JS CRC32 with a wasm build for 10x speed.' },
  { title: 'Add a CONTRIBUTING section on OWP', area: 'docs', tier: 0, effort: 1, skills: ['docs'], priority: 2, body: 'Explain how volunteers can join the pool for this repo.' },
  { title: 'Add an end-to-end test of `hello init`', area: 'tests', tier: 1, effort: 3, skills: ['ts', 'tests'], body: 'Run the built CLI in a temp folder and check the files it writes.' },
  { title: 'Harden the auth token parser', area: 'auth', tier: 3, effort: 3, skills: ['ts', 'security'], body: 'Reject tokens with control characters; constant-time compare.' },
];

/**
 * Seeds the demo repo once: a repo that exists is left alone. `whenNoTasks`: seed a repo that
 * exists but has no tasks yet (`owp demo`'s GitHub App connects the repo before it is seeded).
 */
export async function seedDemo(runtime: CoordinatorService, admin: Principal, repo = DEMO_REPO, options: { whenNoTasks?: boolean } = {}): Promise<boolean> {
  if (runtime.engine.state.repos.has(repo) && !(options.whenNoTasks && ![...runtime.engine.state.tasks.values()].some((t) => t.repo === repo))) return false;
  const configured = await runtime.call(admin, 'repo.configure', { repo, max_open_prs: 5, max_new_prs_per_hour: 4, idempotency_key: `seed:${repo}:settings` });
  if (!configured.ok) throw new Error(`seeding ${repo}: ${configured.error.message}`);
  for (const [i, t] of DEMO_TASKS.entries()) {
    const ack = await runtime.call(admin, 'task.create', {
      repo,
      title: t.title,
      body: t.body,
      area: t.area,
      tier: t.tier,
      effort: t.effort,
      skills: t.skills,
      priority: t.priority ?? 0,
      acceptance: ['The change is covered by a test or a docs build', 'CI passes'],
      issue: { number: 100 + i, url: `https://github.com/${repo}/issues/${100 + i}` },
      idempotency_key: `seed:${repo}:task:${i}`,
    });
    if (!ack.ok) throw new Error(`seeding ${repo}: ${ack.error.message}`);
  }
  return true;
}
