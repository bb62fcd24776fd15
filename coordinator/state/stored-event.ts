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

/**
 * The wire JSON of an event (and of its wire form, once `toJournalEvent` made it), as its journal
 * line was written: the `journal.appended` push splices this text in instead of serialising every
 * event a second time (coordinator/socket-parser.ts). Weak: it lives as long as the event object.
 * Events whose wire form drops a token hash have none.
 */
const WIRE_JSON = new WeakMap<object, string>();

/** The JSON text of a journal event as its journal line has it without its stored-only parts, if known. */
export function journalEventJson(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? WIRE_JSON.get(e) : undefined;
}

function withoutIdem(e: StoredEvent): Omit<StoredEvent, 'idem'> {
  const { idem: _idem, ...rest } = e;
  return rest;
}

function hasSecrets(e: StoredEvent): boolean {
  return e.type === 'worker.registered' || e.type === 'worker.token_rotated' || e.type === 'maintainer.created';
}

/** A stored event as served on the wire: no idempotency record, no token hashes. */
export function toJournalEvent(e: StoredEvent): JournalEvent {
  const { idem: _idem, ...rest } = e;
  // Handed over, not copied: the stored event stays in memory for journal reads (Runtime.recent),
  // its text only until the push that follows its write.
  const text = WIRE_JSON.get(e);
  if (text !== undefined) {
    WIRE_JSON.delete(e);
    WIRE_JSON.set(rest, text);
  }
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
  if (idem && answer === undefined) return JSON.stringify(e);
  // Without its idempotency record (and unless it carries a token hash) an event's JSON is its wire form.
  const wire = JSON.stringify(idem ? withoutIdem(e) : e);
  if (!hasSecrets(e)) WIRE_JSON.set(e, wire);
  if (!idem) return wire;
  const { result: _result, ...record } = idem;
  // Both always have fields (type, seq, at; scope, key, op, hash, at), so each ends in `}` after one.
  return `${wire.slice(0, -1)},"idem":${JSON.stringify(record).slice(0, -1)},"result":${answer}}}`;
}
