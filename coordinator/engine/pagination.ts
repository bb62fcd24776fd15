/**
 * Cursor pagination of every list (SPEC PAGE-001..003). A cursor is the sort key of the last item
 * a page returned, with the list and filters it belongs to, base64url-encoded: the next page is
 * the items after that key in the list's fixed order. Nothing is kept on the server, and an item
 * inserted during a walk cannot shift the ones not yet returned, so none is skipped or repeated.
 */
import { OwpError } from '../../protocol/errors.ts';

export type SortKey = ReadonlyArray<string | number>;

export interface PageOptions<T> {
  /** The list's name, so a cursor of one list is refused by another. */
  list: string;
  /** The filters the walk was started with; a cursor is valid only with the same ones. */
  filters?: Record<string, unknown>;
  key: (item: T) => SortKey;
  /** The list's order on keys: negative when a comes first. Total: ties are broken by an id. */
  order: (a: SortKey, b: SortKey) => number;
  limit: number | undefined;
  defaultLimit: number;
  cursor: string | undefined;
}

/** One page of `items` (in any order) and the cursor of the next one, if there is more. */
export function page<T>(items: readonly T[], options: PageOptions<T>): { items: T[]; next_cursor?: string } {
  const filters = fingerprint(options.filters ?? {});
  const after = options.cursor === undefined ? undefined : decode(options.cursor, options.list, filters);
  const keyed = items.map((item) => ({ item, key: options.key(item) }));
  const rest = (after === undefined ? keyed : keyed.filter((k) => options.order(after, k.key) < 0)).sort((a, b) => options.order(a.key, b.key));
  const limit = options.limit ?? options.defaultLimit;
  const taken = rest.slice(0, limit);
  const last = taken.at(-1);
  return { items: taken.map((k) => k.item), ...(rest.length > limit && last ? { next_cursor: encode({ l: options.list, f: filters, k: last.key }) } : {}) };
}

/** Orders by the key's parts in turn, each ascending or descending. */
export function orderBy(...directions: Array<'asc' | 'desc'>): (a: SortKey, b: SortKey) => number {
  return (a, b) => {
    for (const [i, direction] of directions.entries()) {
      const x = a[i] as string | number;
      const y = b[i] as string | number;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      if (c !== 0) return direction === 'asc' ? c : -c;
    }
    return 0;
  };
}

/** The number in an id such as `T-42`, for ordering ids as they were issued. */
export function idNumber(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1)) || 0;
}

/**
 * The sort key a cursor of `list` carries (refused as `page` would refuse it), for a list that
 * keeps something from its first page in the key, such as the moment a default window started.
 */
export function cursorKey(cursor: string, list: string, filters: Record<string, unknown> = {}): SortKey {
  return decode(cursor, list, fingerprint(filters));
}

interface CursorBody {
  l: string;
  f: string;
  k: SortKey;
}

function fingerprint(filters: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(filters).sort().filter((k) => filters[k] !== undefined).map((k) => [k, filters[k]]));
}

function encode(body: CursorBody): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

function decode(cursor: string, list: string, filters: string): SortKey {
  let body: Partial<CursorBody> | undefined;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorBody>;
  } catch {
    body = undefined;
  }
  const valid = body && body.l === list && Array.isArray(body.k) && body.k.every((p) => typeof p === 'string' || typeof p === 'number');
  if (!valid) throw refused(`This cursor is not one ${list} gave. Start the list again without a cursor.`);
  if (body?.f !== filters) throw refused(`This cursor belongs to ${list} with other filters. Pass the same filters as the first page, or start again without a cursor.`);
  return body.k as SortKey;
}

function refused(message: string): OwpError {
  return new OwpError('VALIDATION_FAILED', message, { errors: [{ path: '/cursor', message }] });
}
