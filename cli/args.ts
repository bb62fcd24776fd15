/** Small helpers shared by the CLI commands: flag parsing with clear errors, and output. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from './suggest.ts';

export class UsageError extends Error {}

/** The command a usage text is for ("owp worker"), from its first line. */
function commandOf(usage: string): string {
  return /^Usage: (owp(?: [a-z]+)?)/.exec(usage)?.[1] ?? 'owp';
}

/**
 * Node's parser messages ("Unknown option '--skils'. To specify a positional argument starting
 * with a '-', place it at the end of the command after '--', as in '-- "--skils"") become one
 * sentence naming the flag, with the closest known one.
 */
export function usageMessage(error: Error & { code?: string }, names: readonly string[], usage: string): string {
  const command = commandOf(usage);
  const more = `Run \`${command} --help\` for its options.`;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /Unknown option '([^']+)'/.exec(error.message)?.[1] ?? error.message;
    const suggestion = closest(flag.replace(/^-+/, ''), names);
    return `${command}: unknown option ${flag}.${suggestion ? ` Did you mean --${suggestion}?` : ''} ${more}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /Option '(-[^ ']+)/.exec(error.message)?.[1];
    if (flag && /argument missing/.test(error.message)) return `${command}: ${flag} needs a value. ${more}`;
    if (flag) return `${command}: ${flag} takes no value. ${more}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `${command}: ${error.message} ${more}`;
  return `${command}: ${error.message} ${more}`;
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }, Object.keys(options), usage));
  }
}

export function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${value}".`);
  return n;
}

/** A failure a person can act on: printed as its message alone (no stack), exit code 1. */
export class CliError extends Error {}
