/**
 * How `owp contract validate` and `owp policy validate` show problems: `file:line:column:` (which
 * editors and CI logs turn into links), the offending line with a caret under the spot, and the
 * hint. Also the coordinator flags the maintainer commands share.
 */
import { readFile } from 'node:fs/promises';
import type { CheckedYaml, Diagnostic } from '../protocol/yaml-diagnostics.ts';
import { FileProblemsError, formatDiagnostic } from '../protocol/yaml-diagnostics.ts';
import { HttpClient } from '../client/http-client.ts';
import type { ParseArgsConfig } from 'node:util';
import { parse, UsageError } from './args.ts';

export const DEFAULT_COORDINATOR_URL = 'http://127.0.0.1:8787';

export const COORDINATOR_FLAGS_USAGE = `  --coordinator URL  the coordinator (default $OWP_COORDINATOR_URL or ${DEFAULT_COORDINATOR_URL})
  --token T          a maintainer or worker token (default $OWP_TOKEN)`;

/** The flags every command that talks to a coordinator takes besides its own. */
const COORDINATOR_OPTIONS = {
  coordinator: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses a coordinator command's own flags plus --coordinator, --token and --help; undefined once --help printed the usage. */
export function parseCoordinatorCommand<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  const parsed = parse(argv, { ...options, ...COORDINATOR_OPTIONS }, usage);
  // TypeScript cannot see `help` through the generic merge; COORDINATOR_OPTIONS guarantees it.
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  return parsed;
}

export function coordinatorClient(values: { coordinator?: string | undefined; token?: string | undefined }, needs: string): HttpClient {
  const baseUrl = values.coordinator ?? process.env.OWP_COORDINATOR_URL ?? DEFAULT_COORDINATOR_URL;
  const token = values.token ?? process.env.OWP_TOKEN;
  if (!token) throw new UsageError(`${needs} needs a token: pass --token T or set OWP_TOKEN (the admin token is in <data-dir>/admin-token).`);
  return new HttpClient({ baseUrl, token });
}

/** Renders every diagnostic with its source line; returns the text and whether any is an error. */
export function renderDiagnostics(file: string, text: string, diagnostics: readonly Diagnostic[]): { output: string; errors: number; warnings: number } {
  const lines = text.split(/\r?\n/);
  const blocks = [...diagnostics]
    .sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column)
    .map((d) => {
      const [head, hint] = formatDiagnostic(file, d).split('\n');
      const source = lines[d.start.line - 1];
      const out = [head as string];
      if (source !== undefined && source.trim() !== '') {
        const gutter = String(d.start.line);
        const width = d.end.line === d.start.line ? Math.max(1, d.end.column - d.start.column) : Math.max(1, source.length - d.start.column + 1);
        out.push(`  ${gutter} | ${source}`);
        out.push(`  ${' '.repeat(gutter.length)} | ${' '.repeat(d.start.column - 1)}${'^'.repeat(width)}`);
      }
      if (hint) out.push(hint);
      return out.join('\n');
    });
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const summary = errors === 0 && warnings === 0 ? `${file}: valid` : `${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return { output: [...blocks, summary].join('\n'), errors, warnings };
}

/** Runs a loader; an invalid file is printed (every problem, with positions) and gives undefined. */
export function orReport<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof FileProblemsError)) throw error;
    console.error(`${error.message}\nFix these and run the command again (owp contract validate / owp policy validate show the lines).`);
    return undefined;
  }
}

/** Reads a file the command works on; a missing one is a usage error that says what to pass. */
export async function readFileText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`No file ${file}. Pass the ${what}'s path as FILE.`);
    throw error;
  }
}

/** `owp … validate`: prints every problem (or JSON) and gives the exit code: 1 on errors, else 0. */
export async function validateFile(file: string, what: string, check: (text: string) => CheckedYaml<unknown>, json: boolean | undefined): Promise<number> {
  const text = await readFileText(file, what);
  const { diagnostics } = check(text);
  const failed = diagnostics.some((d) => d.severity === 'error');
  if (json) {
    console.log(JSON.stringify({ file, diagnostics }, null, 2));
  } else {
    const report = renderDiagnostics(file, text, diagnostics);
    (failed ? console.error : console.log)(report.output);
  }
  return failed ? 1 : 0;
}
