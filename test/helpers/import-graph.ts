/**
 * The repository's import graph, for the layers test: every import of every source file
 * (static, `export … from`, dynamic `import()`, type-only ones too: a type is a dependency of the
 * design even when the bundle drops it), each resolved to the part of the system it points at.
 * Imports are read with TypeScript's own pre-processor, not a regular expression.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** The parts of OWP drawn in ARCHITECTURE.md, and the tooling that may use them all. */
export const PARTS = ['protocol', 'client', 'coordinator', 'dashboard', 'lsp', 'conformance', 'extension', 'cli'] as const;
export const TOOLING = ['test', 'bench', 'scripts'] as const;
export type Part = (typeof PARTS)[number] | (typeof TOOLING)[number];

/** What an import points at: a part, `vscode`, a Node built-in, or another npm package. */
export type Target = Part | 'vscode' | 'node' | 'npm' | 'elsewhere';

export interface ImportEdge {
  /** Repository-relative, with forward slashes. */
  file: string;
  from: Part;
  specifier: string;
  to: Target;
  /** The imported file (repository-relative) when `to` is a part. */
  toFile?: string;
  /** `import type` / `export type … from`: erased from the build, but still a dependency of the design. */
  typeOnly: boolean;
}

const SOURCE = /\.(ts|mts|mjs)$/;

/** The part a repository-relative path belongs to; media/dashboard/ is the dashboard. */
export function partOf(path: string): Part | undefined {
  const [top, second] = path.split('/');
  if (top === 'media') return second === 'dashboard' ? 'dashboard' : undefined;
  return [...PARTS, ...TOOLING].find((p) => p === top);
}

function sourceFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const path = `${dir}/${name}`;
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(root, path);
    return SOURCE.test(name) ? [path] : [];
  });
}

/** Where one specifier in `file` points. */
export function classify(root: string, file: string, specifier: string): Pick<ImportEdge, 'to' | 'toFile'> {
  if (specifier === 'vscode') return { to: 'vscode' };
  if (specifier.startsWith('node:')) return { to: 'node' };
  if (!specifier.startsWith('.')) return { to: 'npm' };
  const target = relative(root, resolve(root, dirname(file), specifier)).split(sep).join('/');
  return { to: partOf(target) ?? 'elsewhere', toFile: target };
}

/** Every import of every source file in the parts and the tooling. */
export function importGraph(root = process.cwd()): ImportEdge[] {
  const dirs = [...PARTS.filter((p) => p !== 'dashboard'), 'media/dashboard', ...TOOLING];
  const edges: ImportEdge[] = [];
  for (const file of dirs.flatMap((dir) => sourceFiles(root, dir))) {
    const from = partOf(file) as Part;
    const text = readFileSync(join(root, file), 'utf8');
    const typeOnly = typeOnlySpecifiers(file, text);
    const { importedFiles } = ts.preProcessFile(text, true, true);
    for (const { fileName: specifier } of importedFiles) edges.push({ file, from, specifier, ...classify(root, file, specifier), typeOnly: typeOnly.has(specifier) });
  }
  return edges;
}

/** Specifiers this file imports only as types (a specifier also imported as a value is not one). */
function typeOnlySpecifiers(file: string, text: string): Set<string> {
  const types = new Set<string>();
  const values = new Set<string>();
  for (const statement of ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false).statements) {
    const declaration = ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement) ? statement : undefined;
    if (!declaration?.moduleSpecifier || !ts.isStringLiteral(declaration.moduleSpecifier)) continue;
    const typeOnly = ts.isImportDeclaration(declaration) ? declaration.importClause?.isTypeOnly === true : declaration.isTypeOnly;
    (typeOnly ? types : values).add(declaration.moduleSpecifier.text);
  }
  return new Set([...types].filter((s) => !values.has(s)));
}

/** The arrows between parts (not within one, not to tooling), as `from --> to`, sorted. */
export function partArrows(edges: readonly ImportEdge[]): string[] {
  const parts = new Set<string>(PARTS);
  const arrows = new Set<string>();
  for (const e of edges) if (parts.has(e.from) && parts.has(e.to) && e.from !== e.to) arrows.add(`${e.from} --> ${e.to}`);
  return [...arrows].sort();
}
