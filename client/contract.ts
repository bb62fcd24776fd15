/**
 * The repo contract (`.owp.yml` at the repo root): how a volunteer sets up, tests and lints, how
 * branches and PRs look, the repo's areas and safe lanes, and the gates a PR needs. Read by the
 * worker side after checkout and followed exactly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
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

export interface AreaInference {
  /** The one area every path falls in, or undefined when the paths span several areas or none. */
  area: string | undefined;
  /** Each path's owning area (the first area, in contract order, with a matching glob). */
  byPath: Record<string, string | undefined>;
  /** The distinct areas the paths touch, in contract order. */
  areas: string[];
  /** Paths no area's globs match. */
  unmatched: string[];
}

const matchers = new WeakMap<Record<string, string[]>, Array<[string, (path: string) => boolean]>>();

function areaMatchers(areas: Record<string, string[]>): Array<[string, (path: string) => boolean]> {
  let list = matchers.get(areas);
  if (!list) {
    list = Object.entries(areas).map(([name, globs]) => [name, picomatch(globs, { dot: true })]);
    matchers.set(areas, list);
  }
  return list;
}

/**
 * Infers the area of a change from the paths it touches (repo-relative, `/`-separated). Areas are
 * tried in the order the contract lists them and the first match owns a path, like the first
 * matching rule of a config file, so specific areas go first. Pure: no I/O.
 */
export function inferArea(paths: readonly string[], areas: Record<string, string[]>): AreaInference {
  const list = areaMatchers(areas);
  const byPath: Record<string, string | undefined> = {};
  const touched = new Set<string>();
  const unmatched: string[] = [];
  for (const raw of paths) {
    const path = raw.replace(/\\/g, '/').replace(/^\.\//, '');
    const owner = list.find(([, matches]) => matches(path))?.[0];
    byPath[raw] = owner;
    if (owner === undefined) unmatched.push(raw);
    else touched.add(owner);
  }
  const ordered = list.map(([name]) => name).filter((name) => touched.has(name));
  const area = ordered.length === 1 && unmatched.length === 0 ? ordered[0] : undefined;
  return { area, byPath, areas: ordered, unmatched };
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
