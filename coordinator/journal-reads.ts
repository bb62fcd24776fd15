/**
 * `journal.read` (and the journal feed's catch-up): the journal after a seq, in order, filtered to
 * what the principal may see, up to the last seq this process knows to be durable. Shared by the
 * runtime and a cluster follower, which reads the same journal from PostgreSQL.
 */
import { OwpError } from '../protocol/errors.ts';
import type { JournalEvent } from '../protocol/journal-events.ts';
import { scopeCovers, type Principal } from './auth.ts';
import { toJournalEvent, type StoredEvent } from './state/stored-event.ts';

export async function readJournalPage(
  principal: Principal,
  params: Record<string, unknown>,
  durableSeq: number,
  readRaw: (afterSeq: number, limit: number) => Promise<StoredEvent[]>,
): Promise<{ events: JournalEvent[]; last_seq: number }> {
  if (principal.kind !== 'maintainer') throw new OwpError(principal.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'The journal is for maintainers.');
  const after = typeof params.after_seq === 'number' ? params.after_seq : 0;
  const limit = typeof params.limit === 'number' ? params.limit : 500;
  const repo = typeof params.repo === 'string' ? params.repo : undefined;
  // A repo outside the token's scope is refused as a write would be, not answered with an empty page.
  if (repo !== undefined && !principal.admin && !scopeCovers(principal.repos, repo)) {
    throw new OwpError('FORBIDDEN', `This maintainer token does not cover ${repo}. Ask the coordinator admin for a token scoped to it.`, { repo });
  }
  const visible = (e: StoredEvent): boolean =>
    (repo === undefined || e.repo === repo) && (principal.admin || (e.repo !== undefined ? scopeCovers(principal.repos, e.repo) : e.type.startsWith('worker.')));
  const out: JournalEvent[] = [];
  let cursor = after;
  while (out.length < limit && cursor < durableSeq) {
    const batch = await readRaw(cursor, 1000);
    if (batch.length === 0) break;
    for (const e of batch) {
      if (e.seq > durableSeq) break;
      cursor = e.seq;
      if (visible(e)) out.push(toJournalEvent(e));
      if (out.length >= limit) break;
    }
  }
  // The journal as it is durable: events still being written are neither served nor counted.
  return { events: out, last_seq: durableSeq };
}
