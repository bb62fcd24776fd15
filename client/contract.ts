/**
 * The repo contract (`.owp.yml` at the repo root): how a volunteer sets up, tests and lints, how
 * branches and PRs look, the repo's areas and safe lanes, and the gates a PR needs. Read by the
 * worker side after checkout and followed exactly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTRACT_FILE, checkContractText, type RepoContractFile } from '../protocol/contract-schema.ts';
import { FileProblemsError, type Diagnostic } from '../protocol/yaml-diagnostics.ts';

export { CONTRACT_FILE };

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

function commands(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/** The contract a checked file stands for, with the defaults filled in. */
export function contractFromFile(file: RepoContractFile): RepoContract {
  return {
    version: 1,
    setup: commands(file.setup),
    test: commands(file.test),
    lint: commands(file.lint),
    branch: file.branch ?? DEFAULT_CONTRACT.branch,
    pr: { ...DEFAULT_CONTRACT.pr, ...file.pr },
    areas: structuredClone(file.areas ?? DEFAULT_CONTRACT.areas),
    safe_lanes: [...(file.safe_lanes ?? DEFAULT_CONTRACT.safe_lanes)],
    gates: [...(file.gates ?? DEFAULT_CONTRACT.gates)],
  };
}

export interface CheckedContract {
  /** The contract with defaults, when the file has no errors (warnings allowed). */
  contract: RepoContract | undefined;
  /** Every problem with its line, column and a hint; warnings do not stop the contract. */
  diagnostics: Diagnostic[];
}

/** Checks contract text and reports every problem with its position; never throws. */
export function checkContract(text: string): CheckedContract {
  const checked = checkContractText(text);
  return { contract: checked.value ? contractFromFile(checked.value) : undefined, diagnostics: checked.diagnostics };
}

/**
 * Parses contract text over the defaults. Throws FileProblemsError listing every error with its
 * line and column (`error.diagnostics`) when the file is not a valid contract.
 */
export function parseContract(text: string, file = CONTRACT_FILE): RepoContract {
  const { contract, diagnostics } = checkContract(text);
  if (!contract) throw new FileProblemsError(file, diagnostics.filter((d) => d.severity === 'error'));
  return contract;
}

/** Reads `.owp.yml` from a checkout; a repo without one gets the defaults. Throws FileProblemsError when it is invalid. */
export async function loadContract(repoDir: string): Promise<LoadedContract> {
  const path = join(repoDir, CONTRACT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { contract: structuredClone(DEFAULT_CONTRACT), path: undefined };
    throw error;
  }
  return { contract: parseContract(text, path), path };
}
