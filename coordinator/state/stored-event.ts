/**
 * Journal events as the coordinator writes and stores them: the wire form (protocol/journal-events.ts)
 * plus what is never served, the token hashes a registration or a rotation stores and the
 * idempotency record of the request that wrote the event. `toJournalEvent` takes them out.
 */
import type { JournalEvent, JournalEventData, JournalEventEnvelope, JournalEventRefs, JournalEventType } from '../../protocol/journal-events.ts';
import type { IdempotencyRecord } from './records.ts';

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
