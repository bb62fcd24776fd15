/** `owp task import FILE`: create many tasks from a JSON or JSON-lines file with task.create_many (SPEC MAINT-007). */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OwpError } from '../../protocol/errors.ts';
import { MAX_BULK_TASKS } from '../../protocol/operations.ts';
import type { ItemError } from '../../protocol/validate.ts';
import { parse, UsageError } from '../args.ts';
import { exitCodeForOwpError } from '../exit-codes.ts';
import { COORDINATOR_FLAGS_USAGE, coordinatorClient, parseCoordinatorCommand } from '../file-report.ts';

export const USAGE = `Usage: owp task import FILE [--repo OWNER/NAME] [--json]

Creates one ready task per item of FILE, as task.create would: a JSON array of tasks (or
{ "tasks": [...] }), or JSON lines (.jsonl / .ndjson: one task per line). Each task has at least
a title, and a repo unless --repo gives it (fields: title, body, area, tier, effort, skills,
priority, acceptance, issue, x_*). The tasks go in requests of up to the coordinator's
max_bulk_tasks and max_payload_bytes; each request is all or nothing, and its idempotency key comes
from its content, so running the same import again does not create its tasks twice (for 24 hours).
A refused request lists every refused task with its line (JSON lines) or index, and stops the import.
Needs a maintainer token for the repos.
${COORDINATOR_FLAGS_USAGE}`;

/** Where an item came from in the file, for error messages: its line (JSON lines) or its index. */
export interface ImportItem {
  task: Record<string, unknown>;
  where: string;
}

/** Reads a JSON or JSON-lines task file. Throws a UsageError naming the line or index of anything that is not a task object. */
export function parseTaskFile(file: string, text: string): ImportItem[] {
  const jsonl = /\.(jsonl|ndjson)$/i.test(file);
  const items: ImportItem[] = [];
  const take = (value: unknown, where: string): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file} ${where}: a task must be a JSON object with at least a title.`);
    items.push({ task: value as Record<string, unknown>, where });
  };
  if (jsonl) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new UsageError(`${file} line ${i + 1} is not JSON (${(error as Error).message}).`);
      }
      take(value, `line ${i + 1}`);
    });
    return items;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON (${(error as Error).message}). For one task per line, name the file .jsonl.`);
  }
  const list: unknown = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? Reflect.get(value, 'tasks') : undefined;
  if (!Array.isArray(list)) throw new UsageError(`${file} must hold a JSON array of tasks, or an object with a "tasks" array.`);
  list.forEach((v, i) => take(v, `item ${i}`));
  return items;
}

/**
 * Splits items into requests of at most `maxItems` tasks and `maxBytes` of payload (the JSON of
 * the request without its idempotency key, with room kept for the key). A single task over the byte
 * limit goes alone, and the coordinator refuses it with PAYLOAD_TOO_LARGE.
 */
export function splitIntoRequests(items: readonly ImportItem[], maxItems: number, maxBytes: number): ImportItem[][] {
  const budget = maxBytes - 512; // the envelope and the idempotency key
  const out: ImportItem[][] = [];
  let current: ImportItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item.task)) + 1;
    if (current.length > 0 && (current.length >= maxItems || bytes + size > budget)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The same tasks always get the same key, so a repeated import replays instead of creating them twice. */
export function importKey(tasks: readonly Record<string, unknown>[]): string {
  return `owp-import-${createHash('sha256').update(JSON.stringify(tasks)).digest('hex').slice(0, 48)}`;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCoordinatorCommand(argv, {
    repo: { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [action, file, ...rest] = positionals;
  if (action !== 'import') throw new UsageError(`owp task needs an action: import.\n\n${USAGE}`);
  if (!file || rest.length > 0) throw new UsageError(`owp task import needs one FILE.\n\n${USAGE}`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  const items = parseTaskFile(file, text);
  if (values.repo) for (const item of items) item.task = { repo: values.repo, ...item.task };
  if (items.length === 0) throw new UsageError(`${file} holds no tasks.`);
  const client = coordinatorClient(values, 'owp task import');
  const { limits } = await client.call('coordinator.info', {});
  const requests = splitIntoRequests(items, limits.max_bulk_tasks ?? MAX_BULK_TASKS, limits.max_payload_bytes);
  const created: string[] = [];
  for (const [n, request] of requests.entries()) {
    const tasks = request.map((i) => i.task);
    try {
      const answer = await client.call('task.create_many', { tasks: tasks as never, idempotency_key: importKey(tasks) });
      created.push(...answer.tasks.map((t) => t.id));
    } catch (error) {
      if (!(error instanceof OwpError)) throw error;
      const refused = (error.details?.items as ItemError[] | undefined) ?? [];
      const lines = refused.map((r) => `  ${file} ${request[r.index]?.where ?? `item ${r.index}`}: ${r.code} ${r.message}`);
      const more = Number(error.details?.refused ?? refused.length) - refused.length;
      if (values.json) console.log(JSON.stringify({ created, refused: error.details ?? { code: error.code, message: error.message } }));
      else {
        console.error(`Request ${n + 1} of ${requests.length} was refused (${error.code}): ${error.message}`);
        if (lines.length > 0) console.error(`${lines.join('\n')}${more > 0 ? `\n  … and ${more} more` : ''}`);
        console.error(`${created.length} tasks were created before it; fix the file and run the same import again (the requests already made are not repeated).`);
      }
      return exitCodeForOwpError(error);
    }
  }
  if (values.json) console.log(JSON.stringify({ created }));
  else console.log(`Created ${created.length} tasks (${created[0]}…${created.at(-1)}) in ${requests.length} request${requests.length === 1 ? '' : 's'}.`);
  return 0;
}
