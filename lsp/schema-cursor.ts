/**
 * Where the cursor is in a YAML file being typed (which keys lead to it, whether a key or a value
 * goes there) and what the schema says about that spot. Works line by line on indentation rather
 * than on a parsed document, because the text is usually half-written and does not parse.
 */
import type { TSchema } from '@sinclair/typebox';

/** `*` stands for "an item of this list". */
export type CursorPath = string[];

export interface CursorContext {
  path: CursorPath;
  /** key: a mapping key goes here; value: a value for the last key (or list item) of `path`. */
  kind: 'key' | 'value';
  /** What is typed so far of the key or value. */
  prefix: string;
}

const KEY_LINE = /^(\s*)(-\s+)?([A-Za-z0-9_./-]+)\s*:(?:\s|$)/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** The keys (and list items) that enclose a line with the given indent, read from the lines above it. */
function parentsOf(above: string[], indent: number): CursorPath {
  const path: CursorPath = [];
  let limit = indent;
  for (let i = above.length - 1; i >= 0 && limit > 0; i -= 1) {
    const line = above[i] as string;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const ws = indentOf(line);
    const match = KEY_LINE.exec(line);
    const dash = /^\s*-(\s+|$)/.exec(line);
    if (dash) {
      const contentIndent = dash[0].length;
      if (ws >= limit) continue;
      if (match && contentIndent < limit && match[2]) path.unshift(match[3] as string);
      path.unshift('*');
      limit = ws;
      continue;
    }
    if (ws < limit && match) {
      path.unshift(match[3] as string);
      limit = ws;
    }
  }
  return path;
}

/** The cursor's context from the text before it. */
export function cursorContext(text: string, offset: number): CursorContext {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  const current = lines.pop() ?? '';
  const ws = indentOf(current);
  const dash = /^(\s*)-\s+/.exec(current);
  const body = dash ? current.slice(dash[0].length) : current.trimStart();
  const bodyIndent = dash ? dash[0].length : ws;
  const parents = parentsOf(lines, dash ? ws : bodyIndent);
  const base = dash ? [...parents, '*'] : parents;
  const colon = /^([A-Za-z0-9_./-]+)\s*:(\s*)(.*)$/.exec(body);
  if (colon) {
    const key = colon[1] as string;
    const rest = colon[3] ?? '';
    if (rest.startsWith('[')) {
      // A flow list: `gates: [tests, li|`
      const prefix = rest.slice(rest.lastIndexOf(rest.includes(',') ? ',' : '[') + 1).trimStart();
      return { path: [...base, key, '*'], kind: 'value', prefix };
    }
    if (rest.startsWith('{')) {
      const inner = rest.slice(rest.lastIndexOf(rest.includes(',') ? ',' : '{') + 1).trimStart();
      const innerColon = /^([A-Za-z0-9_./-]+)\s*:\s*(.*)$/.exec(inner);
      if (innerColon) return { path: [...base, key, innerColon[1] as string], kind: 'value', prefix: innerColon[2] ?? '' };
      return { path: [...base, key], kind: 'key', prefix: inner };
    }
    return { path: [...base, key], kind: 'value', prefix: rest.replace(/^["']/, '') };
  }
  if (dash) {
    // `- ` with nothing or a bare word: a list item, a value unless the items are mappings (the caller decides).
    return { path: base, kind: 'value', prefix: body };
  }
  return { path: parents, kind: 'key', prefix: body };
}

/** Keys already written in the mapping the cursor is in, so completion does not offer them again. */
export function siblingKeys(text: string, offset: number): Set<string> {
  const lines = text.split('\n');
  const row = text.slice(0, offset).split('\n').length - 1;
  const current = text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset);
  const dash = /^(\s*)-\s+/.exec(current);
  const indent = dash ? dash[0].length : indentOf(current);
  const keys = new Set<string>();
  const skip = (line: string): boolean => line.trim() === '' || line.trimStart().startsWith('#');
  // Upwards to the start of the mapping: a parent line, or the `- ` line that opens this list item.
  for (let i = row - 1; i >= 0 && !dash; i -= 1) {
    const line = lines[i] as string;
    if (skip(line)) continue;
    const item = /^(\s*)-\s+/.exec(line);
    const contentIndent = item ? item[0].length : indentOf(line);
    if (contentIndent < indent) break;
    if (contentIndent === indent) {
      const match = KEY_LINE.exec(line);
      if (match) keys.add(match[3] as string);
      if (item) break;
    }
  }
  // Downwards to its end: a line less indented, or the next item of the same list.
  for (let i = row + 1; i < lines.length; i += 1) {
    const line = lines[i] as string;
    if (skip(line)) continue;
    const item = /^(\s*)-\s+/.exec(line);
    if ((item ? (item[1] as string).length : indentOf(line)) < indent) break;
    if (!item && indentOf(line) === indent) {
      const match = KEY_LINE.exec(line);
      if (match) keys.add(match[3] as string);
    }
  }
  return keys;
}

/** The key under the cursor on its line, with the path to it, for hover. */
export function keyAt(text: string, offset: number): { path: CursorPath; key: string } | undefined {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEndIndex = text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEndIndex < 0 ? text.length : lineEndIndex);
  const match = KEY_LINE.exec(line);
  if (!match) return undefined;
  const above = text.slice(0, lineStart).split('\n');
  above.pop();
  const ws = (match[1] ?? '').length;
  const parents = parentsOf(above, ws);
  const base = match[2] ? [...parents, '*'] : parents;
  // Hovering the value of `key: value` explains the key too.
  return { path: [...base, match[3] as string], key: match[3] as string };
}

type SchemaObject = TSchema & Record<string, unknown>;

function unionBranches(schema: SchemaObject): SchemaObject[] {
  return ((schema.anyOf as SchemaObject[] | undefined) ?? []);
}

/** Follows a path through a schema: properties, record values, list items, and into unions. */
export function schemaAt(root: TSchema, path: readonly string[]): SchemaObject | undefined {
  let schema: SchemaObject | undefined = root as SchemaObject;
  for (const segment of path) {
    if (!schema) return undefined;
    schema = step(schema, segment);
  }
  return schema;
}

function step(schema: SchemaObject, segment: string): SchemaObject | undefined {
  if (segment === '*') {
    if (schema.items) return schema.items as SchemaObject;
    for (const branch of unionBranches(schema)) if (branch.items) return branch.items as SchemaObject;
    return undefined;
  }
  const properties = schema.properties as Record<string, SchemaObject> | undefined;
  if (properties?.[segment]) return properties[segment];
  const patterns = schema.patternProperties as Record<string, SchemaObject> | undefined;
  for (const [pattern, value] of Object.entries(patterns ?? {})) {
    // x_* extension keys carry anything; they explain nothing.
    if (new RegExp(pattern).test(segment) && !pattern.startsWith('^x_')) return value;
  }
  for (const branch of unionBranches(schema)) {
    const found = step(branch, segment);
    if (found) return found;
  }
  return undefined;
}

/** Literal values a spot accepts (enums, consts, booleans, small integer ranges). */
export function literalValues(schema: SchemaObject | undefined): string[] {
  if (!schema) return [];
  if (schema.const !== undefined) return [String(schema.const)];
  if (Array.isArray(schema.enum)) return schema.enum.map(String);
  const branches = unionBranches(schema);
  if (branches.length > 0 && branches.every((b) => b.const !== undefined)) return branches.map((b) => String(b.const));
  if (schema.type === 'boolean') return ['true', 'false'];
  if (schema.type === 'integer' && typeof schema.minimum === 'number' && typeof schema.maximum === 'number' && schema.maximum - schema.minimum <= 10) {
    return Array.from({ length: schema.maximum - schema.minimum + 1 }, (_, i) => String((schema.minimum as number) + i));
  }
  return [];
}

/** Whether a spot holds a mapping (so completion offers its keys). */
export function isMapping(schema: SchemaObject | undefined): boolean {
  return schema?.type === 'object';
}

/** Hover text: the description, then what the value must be. */
export function describeSchema(key: string, schema: SchemaObject): string {
  const parts = [`**${key}**`];
  if (typeof schema.description === 'string') parts.push(schema.description);
  const values = literalValues(schema);
  if (values.length > 0 && schema.type !== 'boolean') parts.push(`Values: ${values.map((v) => `\`${v}\``).join(', ')}`);
  else if (typeof schema['x-expected'] === 'string') parts.push(`Expects ${schema['x-expected'] as string}.`);
  return parts.join('\n\n');
}
