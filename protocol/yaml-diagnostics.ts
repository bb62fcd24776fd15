/**
 * Checks a YAML file against a TypeBox schema and reports every problem where it is: line and
 * column (1-based) from the YAML document's node ranges, a message and a hint on what to write
 * instead. Shared by the CLI validators, the coordinator's file loaders and the language server,
 * so a maintainer sees the same words everywhere.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

export type Severity = 'error' | 'warning';

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

export interface Diagnostic {
  severity: Severity;
  message: string;
  /** What to write instead; a person reads it right after the message. */
  hint?: string;
  /** JSON pointer of the value the problem is about (`/pr/title`); '' for the whole file. */
  path: string;
  start: Position;
  end: Position;
  /** Character offsets into the text: [start, end). */
  offsets: [number, number];
  /** Where the problem comes from: `yaml` (syntax), `schema` or `semantic`. */
  source: 'yaml' | 'schema' | 'semantic';
}

export type PathSegment = string | number;

/** Finds where a path sits in the document, for semantic checks that report their own problems. */
export interface Locator {
  diagnostic(path: PathSegment[], severity: Severity, message: string, hint?: string, part?: 'key' | 'value'): Diagnostic;
}

export interface CheckedYaml<T> {
  /** The parsed value when it has no errors (warnings allowed), else undefined. */
  value: T | undefined;
  diagnostics: Diagnostic[];
  document: Document;
  lineCounter: LineCounter;
}

export interface CheckOptions<T> {
  /** Checks beyond the schema (cross-field rules); runs only when the schema passed. */
  semantic?: (value: T, locate: Locator) => Diagnostic[];
}

/** Files larger than this are refused before parsing: a contract or policy is a page, not a data set. */
export const MAX_FILE_BYTES = 256 * 1024;

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = new WeakMap<TSchema, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let fn = validators.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    validators.set(schema, fn);
  }
  return fn;
}

const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'YAML does not allow tabs for indentation; indent with spaces.',
  BAD_INDENT: 'Indent nested keys and list items by the same number of spaces as their siblings.',
  DUPLICATE_KEY: 'Each key may appear once in a mapping; merge the two entries.',
  BLOCK_AS_IMPLICIT_KEY: 'Put a nested mapping on its own indented lines, or quote a value that contains ": ".',
  MISSING_CHAR: 'A bracket or quote is not closed; close it or quote the whole value.',
  MULTIPLE_DOCS: 'Keep one YAML document per file (no second "---").',
  UNEXPECTED_TOKEN: 'Quote values that start with special characters such as @, `, {, [ or *.',
};

/** Parses and checks YAML text against a schema. Never throws: every problem is a diagnostic. */
export function checkYaml<T>(text: string, schema: TSchema, options: CheckOptions<T> = {}): CheckedYaml<T> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text.length > MAX_FILE_BYTES ? '' : text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locate = (source: Diagnostic['source']): Locator => locator(document, lineCounter, text, source);
  const diagnostics: Diagnostic[] = [];
  if (text.length > MAX_FILE_BYTES) {
    diagnostics.push(locate('yaml').diagnostic([], 'error', `The file is larger than ${MAX_FILE_BYTES / 1024} KiB.`, 'Keep the file to settings; move long prose into the repo\'s docs.'));
    return { value: undefined, diagnostics, document, lineCounter };
  }
  for (const error of document.errors) {
    diagnostics.push(at(lineCounter, text, error.pos, 'error', error.message.split('\n')[0] ?? error.message, YAML_HINTS[error.code], '', 'yaml'));
  }
  for (const warning of document.warnings) {
    diagnostics.push(at(lineCounter, text, warning.pos, 'warning', warning.message.split('\n')[0] ?? warning.message, YAML_HINTS[warning.code], '', 'yaml'));
  }
  if (document.errors.length > 0) return { value: undefined, diagnostics, document, lineCounter };
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    diagnostics.push(locate('yaml').diagnostic([], 'error', (error as Error).message, 'Avoid YAML aliases (*name) that expand into large values.'));
    return { value: undefined, diagnostics, document, lineCounter };
  }
  const validate = validatorFor(schema);
  if (!validate(value)) {
    for (const error of relevantErrors(validate.errors ?? [])) diagnostics.push(schemaDiagnostic(error, locate('schema')));
    return { value: undefined, diagnostics, document, lineCounter };
  }
  if (options.semantic) diagnostics.push(...options.semantic(value as T, locate('semantic')));
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { value: failed ? undefined : (value as T), diagnostics, document, lineCounter };
}

/** `file:line:column: error: message (hint)` — the shape editors and CI logs turn into links. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  const hint = d.hint ? `\n    hint: ${d.hint}` : '';
  return `${file}:${d.start.line}:${d.start.column}: ${d.severity}: ${d.message}${hint}`;
}

export interface FileProblems {
  file: string;
  diagnostics: Diagnostic[];
}

/** Raised where files must be valid to go on (the coordinator's loaders, parseContract); lists every problem of every file. */
export class FileProblemsError extends Error {
  readonly problems: FileProblems[];

  constructor(file: string, diagnostics: Diagnostic[], ...more: FileProblems[]) {
    const problems = [{ file, diagnostics }, ...more];
    super(problems.map((p) => `${p.file} has ${p.diagnostics.length} problem${p.diagnostics.length === 1 ? '' : 's'}:\n${p.diagnostics.map((d) => formatDiagnostic(p.file, d)).join('\n')}`).join('\n'));
    this.name = 'FileProblemsError';
    this.problems = problems;
  }

  /** The first file's name. */
  get file(): string {
    return (this.problems[0] as FileProblems).file;
  }

  /** Every problem of every file. */
  get diagnostics(): Diagnostic[] {
    return this.problems.flatMap((p) => p.diagnostics);
  }
}

// ---- schema errors ---------------------------------------------------------------------------

/**
 * Keeps one clear error per problem. Under a failed anyOf, when the value has the shape of one
 * branch (its errors are all deeper, e.g. a list with a bad item), that branch's errors are the
 * useful ones; otherwise the anyOf says it once, in the schema's words.
 */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  for (const union of errors.filter((e) => e.keyword === 'anyOf')) {
    const prefix = `${union.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (!e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const shaped = [...branches.values()].find((list) => list.every((e) => e.instancePath.length > union.instancePath.length));
    for (const list of branches.values()) if (list !== shaped) for (const e of list) dropped.add(e);
    if (shaped) dropped.add(union);
  }
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (dropped.has(e)) return false;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text', integer: 'a whole number', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping',
};

function schemaHint(schema: unknown): string | undefined {
  if (schema && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    if (typeof s['x-hint'] === 'string') return s['x-hint'];
  }
  return undefined;
}

function schemaDiagnostic(e: ErrorObject, locate: Locator): Diagnostic {
  const path: PathSegment[] = pointerSegments(e.instancePath);
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const hint = schemaHint(parent);
  const where = path.length === 0 ? 'the file' : `"${path.join('.')}"`;
  // The same, starting a sentence.
  const subject = path.length === 0 ? 'The file' : where;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
      const near = closest(key, known);
      const keyHint = typeof parent?.['x-key-hint'] === 'string' ? (parent['x-key-hint'] as string) : undefined;
      const text = near ? `Did you mean "${near}"?` : keyHint ?? (known.length > 0 ? `Known keys here: ${known.join(', ')}.` : undefined);
      return locate.diagnostic([...path, key], 'error', `Unknown key "${key}" in ${where}.`, text, 'key');
    }
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      return locate.diagnostic(path, 'error', `${subject} is missing "${missing}".`, hint ?? `Add ${missing}: …`, 'key');
    }
    case 'type': {
      const expected = String((e.params as { type: string }).type).split(',').map((t) => TYPE_WORDS[t] ?? t).join(' or ');
      return locate.diagnostic(path, 'error', `${subject} must be ${expected}, not ${describeType(e.data)}.`, hint);
    }
    case 'enum':
    case 'const': {
      const allowed = e.keyword === 'enum' ? (e.params as { allowedValues: unknown[] }).allowedValues : [(e.params as { allowedValue: unknown }).allowedValue];
      const near = typeof e.data === 'string' ? closest(e.data, allowed.map(String)) : undefined;
      return locate.diagnostic(path, 'error', `${subject} must be ${allowed.map((v) => JSON.stringify(v)).join(', ')}; got ${describeType(e.data)}.`, near ? `Did you mean "${near}"?` : hint);
    }
    case 'anyOf': {
      const expected = typeof parent?.['x-expected'] === 'string' ? (parent['x-expected'] as string) : 'one of the allowed shapes';
      const words = ((parent?.anyOf as Array<{ const?: unknown }> | undefined) ?? []).map((b) => b.const).filter((c): c is string => typeof c === 'string');
      const near = typeof e.data === 'string' ? closest(e.data, words) : undefined;
      return locate.diagnostic(path, 'error', `${subject} must be ${expected}, not ${describeType(e.data)}.`, near ? `Did you mean "${near}"?` : hint);
    }
    case 'pattern':
      return locate.diagnostic(path, 'error', `${subject} is not valid: ${describeType(e.data)}.`, hint ?? `It must match ${String((e.params as { pattern: string }).pattern)}.`);
    case 'minimum':
    case 'maximum': {
      const limit = (e.params as { limit: number }).limit;
      return locate.diagnostic(path, 'error', `${subject} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${limit}, not ${String(e.data)}.`, hint);
    }
    case 'uniqueItems':
      return locate.diagnostic(path, 'error', `${subject} lists the same item twice.`, 'Remove the duplicate.');
    default:
      return locate.diagnostic(path, 'error', `${subject} ${e.message ?? 'is not valid'}.`, hint);
  }
}

/** The known word nearest to a typo (edit distance ≤ 2, or a prefix), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = candidate.startsWith(word) && word.length >= 3 ? 1 : editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

// ---- positions -------------------------------------------------------------------------------

function at(lines: LineCounter, text: string, range: readonly [number, number], severity: Severity, message: string, hint: string | undefined, path: string, source: Diagnostic['source']): Diagnostic {
  const startOffset = Math.max(0, Math.min(range[0], text.length));
  const endOffset = Math.max(startOffset, Math.min(range[1], text.length));
  const start = lines.linePos(startOffset);
  const end = lines.linePos(endOffset);
  return {
    severity,
    message,
    ...(hint ? { hint } : {}),
    path,
    start: { line: start.line, column: start.col },
    end: { line: end.line, column: end.col },
    offsets: [startOffset, endOffset],
    source,
  };
}

export interface NodeAtPath {
  /** The deepest node that exists along the path. */
  node: Node | null;
  /** The key of the pair holding that node, when it is a mapping value. */
  key: Node | null;
  /** True when the whole path exists in the document. */
  complete: boolean;
}

/** Walks a document along a path of keys and indexes. */
export function nodeAtPath(document: Document, path: readonly PathSegment[]): NodeAtPath {
  let node = document.contents as Node | null;
  let key: Node | null = null;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return { node, key, complete: false };
      key = pair.key as Node;
      node = (pair.value as Node | null) ?? null;
      if (!node) return { node: key, key, complete: true };
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (item === undefined) return { node, key, complete: false };
      key = null;
      node = item;
    } else {
      return { node, key, complete: false };
    }
  }
  return { node, key, complete: true };
}

function locator(document: Document, lines: LineCounter, text: string, source: Diagnostic['source']): Locator {
  return {
    diagnostic(path, severity, message, hint, part = 'value') {
      const pointer = path.length === 0 ? '' : `/${path.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
      const found = nodeAtPath(document, path);
      const target = part === 'key' && found.complete && found.key ? found.key : found.node;
      let range: [number, number];
      if (target?.range) {
        range = [target.range[0], target.range[1]];
      } else {
        // An empty file, or a problem about the whole file: point at its first line.
        const firstLineEnd = text.indexOf('\n');
        range = [0, firstLineEnd < 0 ? text.length : firstLineEnd];
      }
      // A mapping or list spans many lines; pointing at its first line reads better in an editor.
      if (target && (isMap(target) || isSeq(target))) {
        const lineEnd = text.indexOf('\n', range[0]);
        if (lineEnd >= 0 && lineEnd < range[1]) range = [range[0], lineEnd];
      }
      return at(lines, text, range, severity, message, hint, pointer, source);
    },
  };
}
