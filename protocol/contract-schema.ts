/**
 * The repo contract (`.owp.yml` at the repo root) as a schema: how a volunteer sets up, tests and
 * lints, how branches and PRs look, the repo's areas and safe lanes, and the gates a PR needs.
 * Descriptions here are what the language server shows on hover; `x-hint` is what a validation
 * error suggests; `x-expected` names a union in words.
 */
import { Type, type Static } from '@sinclair/typebox';
import picomatch from 'picomatch';
import { checkYaml, type CheckedYaml, type Diagnostic, type Locator, type PathSegment } from './yaml-diagnostics.ts';

export const CONTRACT_FILE = '.owp.yml';

/** model.ts's EXTENSION_KEY_PATTERN, copied: model.ts embeds the policy schema, which imports this file. */
export const X_KEY_PATTERN = '^x_[a-z0-9_]{1,64}$';

export const AREA_NAME_PATTERN = '^[a-z0-9][a-z0-9/._-]{0,63}$';
export const GATE_NAMES = ['setup', 'tests', 'lint', 'checklist'] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** Placeholders each template may use; anything else in braces is refused. */
export const TEMPLATE_PLACEHOLDERS = {
  branch: ['task_id', 'slug', 'issue_number'],
  title: ['task_id', 'title', 'issue_number'],
  body: ['task_id', 'title', 'issue_number', 'issue_url', 'checklist', 'attribution', 'body'],
} as const;

const Command = Type.String({ minLength: 1, maxLength: 2000 });
const Commands = (what: string) =>
  Type.Union([Command, Type.Array(Command, { maxItems: 20 })], {
    description: `${what} Run in order from the repo root with the system shell; each must exit 0. A single command or a list.`,
    'x-expected': 'a command or a list of commands',
    'x-hint': 'Write one command (test: npm test) or a list (test: [npm run build, npm test]).',
  });

export const AreaName = Type.String({
  pattern: AREA_NAME_PATTERN,
  description: 'An area name: lower-case letters, digits and . _ - /, at most 64 characters. `docs/api` is inside `docs`.',
  'x-hint': 'Use lower-case names such as docs, tests, core or docs/api.',
  // The language server completes these from the areas the contract defines.
  'x-completion': 'area',
});

const Glob = Type.String({
  minLength: 1,
  maxLength: 500,
  pattern: '^[^/]',
  description: 'A path glob relative to the repo root (picomatch syntax: `docs/**`, `src/*.ts`, `**/*.md`).',
  'x-hint': 'Globs are relative to the repo root: write docs/** rather than /docs/** or ./docs/**.',
});

export const GateNameSchema = Type.Union(GATE_NAMES.map((g) => Type.Literal(g)), {
  description: 'A quality gate: `setup` (setup commands ran), `tests` (test commands passed), `lint` (lint commands passed), `checklist` (every PR checklist item ticked).',
  'x-expected': `one of ${GATE_NAMES.join(', ')}`,
});

export const PullRequestTemplateSchema = Type.Object({
  title: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'PR title template. Placeholders: {task_id}, {title}, {issue_number}. Default "{title} (OWP {task_id})".',
    'x-hint': 'Use only {task_id}, {title} and {issue_number}.',
  })),
  body: Type.Optional(Type.String({
    maxLength: 20000,
    description: 'PR body template. Placeholders: {task_id}, {title}, {issue_number}, {issue_url}, {checklist}, {attribution}, {body}.',
  })),
  checklist: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
    maxItems: 30,
    description: 'Checklist items the volunteer ticks before the PR opens; rendered into {checklist}. The `checklist` gate requires all ticked.',
  })),
  draft: Type.Optional(Type.Boolean({ description: 'Open PRs as drafts. Default true.' })),
}, {
  additionalProperties: false,
  description: 'How pull requests look: title and body templates, the checklist, draft or not.',
});

export const CiSectionSchema = Type.Object({
  checks: Type.Array(Type.String({
    minLength: 1,
    maxLength: 255,
    description: 'A check run\'s name (as GitHub Actions shows it: the job name, e.g. `build` or `test (ubuntu-latest)`) or a commit status\'s context (e.g. `ci/circleci: build`).',
    'x-hint': 'Write the name exactly as it appears in the PR\'s checks list, quoted when it has spaces or a colon.',
  }), {
    minItems: 1,
    maxItems: 32,
    uniqueItems: true,
    description: 'CI checks that must succeed on the PR\'s current head commit before it counts as opened for the maintainers. Each matches a check run\'s name or a commit status\'s context on that commit; neutral and skipped check runs count as passed, as in GitHub\'s branch protection.',
  }),
  timeout_minutes: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 10080,
    description: 'How long a PR may wait for its checks after its latest push before it goes back to the volunteer\'s attention (the volunteer is told, and must keep the task alive again). Default 120.',
  })),
}, {
  additionalProperties: false,
  description: 'Gates proven by CI: the coordinator reads these checks from GitHub (webhooks and polling) and counts the PR only once all of them succeeded on its head. Until then the task stays with the volunteer. Without this section the volunteer\'s own gate evidence is used, labelled self-reported.',
});
export type CiSection = Static<typeof CiSectionSchema>;

/** Default of `ci.timeout_minutes`. */
export const DEFAULT_CHECKS_TIMEOUT_MINUTES = 120;

export const RepoContractSchema = Type.Object({
  version: Type.Optional(Type.Literal(1, { description: 'Contract format version. Only 1 exists.' })),
  setup: Type.Optional(Commands('Commands that prepare a fresh checkout (install dependencies).')),
  test: Type.Optional(Commands('Commands that run the tests; the `tests` gate passes when all exit 0.')),
  lint: Type.Optional(Commands('Commands that lint; the `lint` gate passes when all exit 0.')),
  branch: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    pattern: '\\{task_id\\}',
    description: 'Branch name template with {task_id} (required, keeps branches unique), {slug} (the title, shortened) and {issue_number}. Default "owp/{task_id}-{slug}".',
    'x-hint': 'Include {task_id}, e.g. owp/{task_id}-{slug}.',
  })),
  pr: Type.Optional(PullRequestTemplateSchema),
  areas: Type.Optional(Type.Record(Type.String({ pattern: AREA_NAME_PATTERN }), Type.Array(Glob, { minItems: 1, maxItems: 50 }), {
    additionalProperties: false,
    description: 'Area name → path globs. Areas are checked in the order written and the first area with a matching glob owns a path, so list specific areas (docs/api) before broad ones (docs). A change whose paths all fall in one area belongs to that area.',
    'x-key-hint': 'Area names are lower-case letters, digits and . _ - /, e.g. docs or docs/api.',
  })),
  safe_lanes: Type.Optional(Type.Array(AreaName, {
    maxItems: 20,
    uniqueItems: true,
    description: 'Areas new volunteers may work in (a lane covers its sub-areas: docs covers docs/api). Default [docs, tests]. The repo policy decides who is held to them.',
  })),
  gates: Type.Optional(Type.Array(GateNameSchema, {
    maxItems: GATE_NAMES.length,
    uniqueItems: true,
    description: 'Gates a PR needs before it counts as opened; the coordinator refuses pr_opened without passing evidence for each. Default [tests].',
  })),
  ci: Type.Optional(CiSectionSchema),
}, {
  additionalProperties: false,
  patternProperties: { [X_KEY_PATTERN]: {} },
  description: 'The OWP repo contract: how volunteers set up, test, lint, name branches and open PRs in this repo.',
});
export type RepoContractFile = Static<typeof RepoContractSchema>;

function placeholderProblems(locate: Locator, path: PathSegment[], template: string, allowed: readonly string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const match of template.matchAll(/\{([^{}]*)\}/g)) {
    const name = match[1] ?? '';
    if (!allowed.includes(name)) {
      out.push(locate.diagnostic(path, 'error', `Unknown placeholder {${name}} in "${path.join('.')}".`, `Placeholders here: ${allowed.map((p) => `{${p}}`).join(', ')}.`));
    }
  }
  return out;
}

const GATE_COMMAND: Partial<Record<GateName, 'setup' | 'test' | 'lint'>> = { setup: 'setup', tests: 'test', lint: 'lint' };

function commandCount(value: string | string[] | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'string' ? 1 : value.length;
}

/** Cross-field rules the schema cannot say. */
function contractSemantics(contract: RepoContractFile, locate: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (contract.branch !== undefined) out.push(...placeholderProblems(locate, ['branch'], contract.branch, TEMPLATE_PLACEHOLDERS.branch));
  if (contract.pr?.title !== undefined) out.push(...placeholderProblems(locate, ['pr', 'title'], contract.pr.title, TEMPLATE_PLACEHOLDERS.title));
  if (contract.pr?.body !== undefined) out.push(...placeholderProblems(locate, ['pr', 'body'], contract.pr.body, TEMPLATE_PLACEHOLDERS.body));

  const gates = contract.gates ?? ['tests'];
  gates.forEach((gate, index) => {
    const command = GATE_COMMAND[gate];
    if (command && commandCount(contract[command]) === 0) {
      // A warning, not an error: the file still means something (the gate just never passes).
      if (contract.gates) {
        out.push(locate.diagnostic(['gates', index], 'warning', `The gate "${gate}" is required but the contract has no ${command} command, so no PR can pass it.`, `Add ${command}: <command>, or remove ${gate} from gates.`));
      } else {
        out.push(locate.diagnostic([], 'warning', `Gates default to [tests] but the contract has no test command, so no PR can pass its gates.`, 'Add test: <command>, or set gates: [] if the repo has no tests.'));
      }
    }
    if (gate === 'checklist' && contract.pr?.checklist?.length === 0) {
      out.push(locate.diagnostic(['gates', index], 'warning', 'The gate "checklist" is required but pr.checklist is empty.', 'Add items to pr.checklist, or remove checklist from gates.'));
    }
  });

  const areas = contract.areas ?? {};
  for (const [area, globs] of Object.entries(areas)) {
    globs.forEach((glob, index) => {
      try {
        picomatch.makeRe(glob, { strictBrackets: true });
      } catch (error) {
        out.push(locate.diagnostic(['areas', area, index], 'error', `The glob "${glob}" does not compile: ${(error as Error).message}.`, 'Close every bracket and brace, e.g. src/{a,b}/**.'));
      }
    });
  }
  if (Object.keys(areas).length > 0) {
    (contract.safe_lanes ?? []).forEach((lane, index) => {
      const covered = Object.keys(areas).some((area) => area === lane || area.startsWith(`${lane}/`));
      if (!covered) {
        out.push(locate.diagnostic(['safe_lanes', index], 'warning', `The safe lane "${lane}" has no area in "areas", so no change can be inferred to be in it.`, `Add ${lane}: [<globs>] under areas, or remove the lane.`));
      }
    });
  }
  return out;
}

/** Parses and checks `.owp.yml` text; every problem comes back with its line and column. */
export function checkContractText(text: string): CheckedYaml<RepoContractFile> {
  return checkYaml<RepoContractFile>(text, RepoContractSchema, { semantic: contractSemantics });
}
