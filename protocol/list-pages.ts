/**
 * Every page of a list operation (SPEC §5.16, PAGE-001): follows `next_cursor` until the last
 * page. One helper for every caller (CLI, extension, dashboard, coordinator metrics), given the
 * caller's own way to send an operation.
 */
import type { Params, Result } from './operations.ts';

/** Each paginated list and the field its items come in. */
export const LIST_FIELDS = {
  'task.list': 'tasks',
  'repo.list': 'repos',
  'worker.list': 'workers',
  'maintainer.list': 'maintainers',
  'contributor.list': 'contributors',
  'policy.standings': 'standings',
  'worker.prs': 'prs',
} as const;

export type ListOperation = keyof typeof LIST_FIELDS;
export type ListItem<N extends ListOperation> = Result<N> extends Record<(typeof LIST_FIELDS)[N], ReadonlyArray<infer T>> ? T : never;

/** Pages at most this many times (a million items at the largest page): a coordinator that keeps answering a cursor cannot keep a caller forever. */
const MAX_PAGES = 1000;

export async function listAll<N extends ListOperation>(send: (params: Params<N>) => Promise<Result<N>>, name: N, params: Omit<Params<N>, 'cursor'>): Promise<Array<ListItem<N>>> {
  const field = LIST_FIELDS[name];
  const items: Array<ListItem<N>> = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result = (await send({ ...params, ...(cursor ? { cursor } : {}) } as Params<N>)) as Result<N> & { next_cursor?: string };
    items.push(...((result as unknown as Record<string, Array<ListItem<N>>>)[field] ?? []));
    cursor = result.next_cursor;
    if (cursor === undefined) return items;
  }
  throw new Error(`${name} still had more pages after ${MAX_PAGES}; narrow it with filters.`);
}
