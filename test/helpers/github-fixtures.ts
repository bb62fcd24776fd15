/**
 * Response templates for the fake GitHub server, taken from `@octokit/fixtures`' recorded real
 * GitHub responses (the normalized fixtures), so shapes and headers are GitHub's, not our guess.
 * Objects GitHub's fixtures do not record (pull requests, comments, commits) are built in
 * fake-github.ts around these templates, following GitHub's REST reference.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface RecordedExchange {
  method: string;
  path: string;
  status: number;
  response: unknown;
  headers: Record<string, string | number>;
}

const fixturesRoot = join(dirname(createRequire(import.meta.url).resolve('@octokit/fixtures/package.json')), 'scenarios', 'api.github.com');

function scenario(name: string): RecordedExchange[] {
  return JSON.parse(readFileSync(join(fixturesRoot, name, 'normalized-fixture.json'), 'utf8')) as RecordedExchange[];
}

function first(name: string, predicate: (e: RecordedExchange) => boolean): RecordedExchange {
  const found = scenario(name).find(predicate);
  if (!found) throw new Error(`@octokit/fixtures scenario ${name} lacks the expected exchange`);
  return found;
}

const repository = first('get-repository', (e) => e.method === 'get');
const issues = first('paginate-issues', (e) => e.method === 'get');
const label = first('labels', (e) => e.method === 'post');
const validation = first('errors', (e) => e.status === 422);

/** Headers every API response carries (no body-specific ones such as content-length or etag). */
export const COMMON_HEADERS: Record<string, string> = Object.fromEntries(
  Object.entries(repository.headers)
    .filter(([k]) => !['content-length', 'etag', 'last-modified', 'date', 'connection', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-used', 'x-ratelimit-resource', 'x-oauth-scopes', 'x-accepted-oauth-scopes'].includes(k))
    .map(([k, v]) => [k, String(v)]),
);

export const REPOSITORY_TEMPLATE = repository.response as Record<string, unknown>;
export const ISSUE_TEMPLATE = (issues.response as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
export const USER_TEMPLATE = ISSUE_TEMPLATE.user as Record<string, unknown>;
export const LABEL_TEMPLATE = label.response as Record<string, unknown>;
/** `{ message: 'Validation Failed', errors: [{ resource, code, field }], documentation_url }`. */
export const VALIDATION_TEMPLATE = validation.response as { message: string; errors: Array<Record<string, string>>; documentation_url: string };

/** Deep-copies a template, rewriting GitHub's hosts and the fixture's names to ours. */
export function retarget<T>(template: T, replacements: Array<[string, string]>): T {
  let text = JSON.stringify(template);
  for (const [from, to] of replacements) text = text.split(from).join(to);
  return JSON.parse(text) as T;
}
