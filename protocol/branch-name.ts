/**
 * Branch names for tasks, from the repo contract's template (`owp/{task_id}-{slug}` by default).
 * Titles are untrusted text, so the slug keeps only lower-case ASCII letters, digits and dashes;
 * the result is always a valid git branch name or an error that says which template is wrong.
 * The same template, read the other way, tells the GitHub side whether a PR's head branch is an
 * OWP branch and for which task.
 */
export const DEFAULT_BRANCH_TEMPLATE = 'owp/{task_id}-{slug}';
export const DEFAULT_SLUG_MAX_LENGTH = 40;
/** Git has no hard limit, but hosts and file systems do; 200 leaves room under GitHub's 255 bytes. */
export const BRANCH_MAX_LENGTH = 200;

const TASK_ID = 'T-[1-9][0-9]{0,11}';
const SLUG = '[a-z0-9]+(?:-[a-z0-9]+)*';

/** `Fix "recieve" typo — docs/ÜBER.md` → `fix-recieve-typo-docs-uber-md`; never empty. */
export function slugify(title: string, maxLength = DEFAULT_SLUG_MAX_LENGTH): string {
  const ascii = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  let slug = ascii.slice(0, Math.max(1, maxLength));
  // Cut at a word boundary when one is reasonably close, so slugs do not end mid-word.
  if (ascii.length > slug.length && ascii[slug.length] !== '-') {
    const lastDash = slug.lastIndexOf('-');
    if (lastDash >= Math.floor(maxLength / 2)) slug = slug.slice(0, lastDash);
  }
  slug = slug.replace(/-+$/g, '');
  return slug || 'task';
}

export interface BranchNameInput {
  task_id: string;
  title: string;
  /** Optional; `{issue_number}` in a template without one becomes `0`. */
  issue_number?: number;
}

/** Fills the template; throws when the template produces something git would refuse. */
export function branchName(template: string, input: BranchNameInput, slugMaxLength = DEFAULT_SLUG_MAX_LENGTH): string {
  const name = template
    .replaceAll('{task_id}', input.task_id)
    .replaceAll('{slug}', slugify(input.title, slugMaxLength))
    .replaceAll('{issue_number}', String(input.issue_number ?? 0));
  const problem = branchNameProblem(name);
  if (problem) throw new Error(`The branch template "${template}" gives "${name}", which ${problem}. Fix "branch" in .owp.yml.`);
  return name;
}

/**
 * Why git (`git check-ref-format --branch`) would refuse this name, or undefined when it is fine.
 * Implemented here so the check needs no git binary (the extension and the coordinator use it too).
 */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > BRANCH_MAX_LENGTH) return `is longer than ${BRANCH_MAX_LENGTH} characters`;
  if (name.startsWith('-')) return 'starts with a dash';
  if (name === '@') return 'is "@"';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component';
  if (name.endsWith('.')) return 'ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'has a path component starting with "."';
    if (part.endsWith('.lock')) return 'has a path component ending with ".lock"';
  }
  return undefined;
}

export function isValidBranchName(name: string): boolean {
  return branchNameProblem(name) === undefined;
}

export interface BranchMatch {
  task_id?: string;
  slug?: string;
  issue_number?: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A regular expression for branches the template can produce, with named groups per placeholder. */
export function branchPattern(template: string, taskId?: string): RegExp {
  const parts = template.split(/(\{task_id\}|\{slug\}|\{issue_number\})/);
  const seen = new Set<string>();
  const source = parts
    .map((part) => {
      const group = (name: string, pattern: string): string => {
        if (seen.has(name)) return `\\k<${name}>`;
        seen.add(name);
        return `(?<${name}>${pattern})`;
      };
      if (part === '{task_id}') return group('task_id', taskId ? escapeRegExp(taskId) : TASK_ID);
      if (part === '{slug}') return group('slug', SLUG);
      if (part === '{issue_number}') return group('issue_number', '[0-9]{1,12}');
      return escapeRegExp(part);
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Reads a branch name against the template: undefined when it does not fit (or is not a valid
 * branch), else the placeholders it carried. Pass taskId to require that exact task.
 */
export function matchBranch(branch: string, template: string, taskId?: string): BranchMatch | undefined {
  if (!isValidBranchName(branch)) return undefined;
  const match = branchPattern(template, taskId).exec(branch);
  if (!match) return undefined;
  const groups = match.groups ?? {};
  const result: BranchMatch = {};
  if (groups.task_id !== undefined) result.task_id = groups.task_id;
  if (groups.slug !== undefined) result.slug = groups.slug;
  if (groups.issue_number !== undefined) result.issue_number = Number(groups.issue_number);
  return result;
}

export function branchMatchesTemplate(branch: string, template: string, taskId?: string): boolean {
  return matchBranch(branch, template, taskId) !== undefined;
}
