/**
 * Journal events as the coordinator writes and stores them: the wire form (protocol/journal-events.ts)
 * plus what is never served, the token hashes a registration or a rotation stores and the
 * idempotency record of the request that wrote the event. `toJournalEvent` takes them out.
 */
import type { JournalEvent, JournalEventData, JournalEventEnvelope, JournalEventRefs, JournalEventType } from '../../protocol/journal-events.ts';
import type { IdempotencyRecord } from './records.ts';
import { rememberedAnswerJson } from './idempotency-keys.ts';

/** The secret fields each event type stores besides its wire data. */
interface StoredSecrets {
  'worker.registered': { worker: { token_hash: string } };
  'worker.token_rotated': { token_hash: string };
  'maintainer.created': { token_hash: string };
}

export type StoredEventData = {
  [K in JournalEventType]: JournalEventData<K> & (K extends keyof StoredSecrets ? StoredSecrets[K] : unknown);
};

export type StoredEventMap = {
  [K in JournalEventType]: JournalEventEnvelope<K> & { data: StoredEventData[K]; idem?: IdempotencyRecord };
};
export type StoredEventOf<K extends JournalEventType> = StoredEventMap[K];
/** A journal event as stored: a union discriminated on `type`. */
export type StoredEvent = StoredEventMap[JournalEventType];

/** An event the engine is about to write: everything but its seq and time, which the journal gives it. */
export type EventDraft = { [K in JournalEventType]: { type: K; data: StoredEventData[K] } & JournalEventRefs<K> }[JournalEventType];

/** A stored event as served on the wire: no idempotency record, no token hashes. */
export function toJournalEvent(e: StoredEvent): JournalEvent {
  const { idem: _idem, ...rest } = e;
  switch (rest.type) {
    case 'worker.registered': {
      const { token_hash: _t, ...worker } = rest.data.worker;
      return { ...rest, data: { ...rest.data, worker } };
    }
    case 'worker.token_rotated': {
      const { token_hash: _t, ...data } = rest.data;
      return { ...rest, data };
    }
    case 'maintainer.created': {
      const { token_hash: _t, ...data } = rest.data;
      return { ...rest, data };
    }
    default:
      return rest;
  }
}

/**
 * An event's JSON as a store writes it. The idempotency record's answer is spliced in as the text
 * remembered when the engine made it (the same bytes JSON.stringify would write) rather than
 * serialised again; the record then comes last in the line, its answer last in the record (JSON
 * readers do not depend on the order of keys).
 */
export function storedEventJson(e: StoredEvent): string {
  const idem = e.idem;
  const answer = idem ? rememberedAnswerJson(idem.result) : undefined;
  if (!idem || answer === undefined) return JSON.stringify(e);
  const { idem: _idem, ...rest } = e;
  const { result: _result, ...record } = idem;
  // Both always have fields (type, seq, at; scope, key, op, hash, at), so each ends in `}` after one.
  return `${JSON.stringify(rest).slice(0, -1)},"idem":${JSON.stringify(record).slice(0, -1)},"result":${answer}}}`;
}
