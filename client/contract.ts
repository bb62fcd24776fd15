/**
 * The repo contract (`.owp.yml` at the repo root): how a volunteer sets up, tests and lints, how
 * branches and PRs look, the repo's areas and safe lanes, and the gates a PR needs. Read by the
 * worker side after checkout and followed exactly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface PullRequestTemplate {
  /** Template with {task_id}, {title}, {issue_number}. */
  title: string;
  /** Template with {task_id}, {title}, {issue_number}, {issue_url}, {checklist}, {attribution}, {body}. */
  body: string;
  checklist: string[];
  draft: boolean;
}

export interface RepoContract {
  version: 1;
  setup: string[];
  test: string[];
  lint: string[];
  /** Branch name template with {task_id} and {slug}. */
  branch: string;
  pr: PullRequestTemplate;
  /** Area name → path globs; an area can be inferred from the paths a change touches. */
  areas: Record<string, string[]>;
  /** Areas new volunteers may work in. */
  safe_lanes: string[];
  /** Gates a PR needs before it counts as opened: tests, lint, checklist, setup. */
  gates: string[];
}

export const CONTRACT_FILE = '.owp.yml';

export const DEFAULT_CONTRACT: RepoContract = {
  version: 1,
  setup: [],
  test: [],
  lint: [],
  branch: 'owp/{task_id}-{slug}',
  pr: {
    title: '{title} (OWP {task_id})',
    body: '{body}\n\nCloses #{issue_number}\n\n{checklist}\n\n{attribution}',
    checklist: ['Tests pass locally', 'The change stays inside the task\'s area'],
    draft: true,
  },
  areas: {},
  safe_lanes: ['docs', 'tests'],
  gates: ['tests'],
};

export interface LoadedContract {
  contract: RepoContract;
  /** The file it came from, or undefined when the repo has none (defaults apply). */
  path: string | undefined;
}

function strings(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new Error(`${CONTRACT_FILE}: ${field} must be a command or a list of commands`);
}

/** Parses contract text over the defaults. */
export function parseContract(text: string): RepoContract {
  const raw = (parseYaml(text) ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${CONTRACT_FILE} must be a mapping`);
  const pr = (raw.pr ?? {}) as Partial<PullRequestTemplate>;
  return {
    version: 1,
    setup: strings(raw.setup, 'setup'),
    test: strings(raw.test, 'test'),
    lint: strings(raw.lint, 'lint'),
    branch: typeof raw.branch === 'string' ? raw.branch : DEFAULT_CONTRACT.branch,
    pr: { ...DEFAULT_CONTRACT.pr, ...pr },
    areas: (raw.areas as Record<string, string[]> | undefined) ?? {},
    safe_lanes: Array.isArray(raw.safe_lanes) ? (raw.safe_lanes as string[]) : DEFAULT_CONTRACT.safe_lanes,
    gates: Array.isArray(raw.gates) ? (raw.gates as string[]) : DEFAULT_CONTRACT.gates,
  };
}

/** Reads `.owp.yml` from a checkout; a repo without one gets the defaults. */
export async function loadContract(repoDir: string): Promise<LoadedContract> {
  const path = join(repoDir, CONTRACT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { contract: structuredClone(DEFAULT_CONTRACT), path: undefined };
    throw error;
  }
  return { contract: parseContract(text), path };
}
