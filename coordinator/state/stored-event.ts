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

/**
 * The wire form `storedEventJson` made of an event with an idempotency record (the event without
 * it), by the stored event, until `toJournalEvent` hands it over: the line and the push share one
 * copy instead of two. Weak, as WIRE_JSON.
 */
const WIRE_FORM = new WeakMap<object, JournalEvent>();

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

/**
 * Forgets the text of events just pushed: a stored event that is its own wire form stays in memory
 * for journal reads (Runtime.recent), and its text must not stay with it (2,000 events' lines).
 */
export function forgetJournalEventJson(events: readonly object[]): void {
  for (const e of events) WIRE_JSON.delete(e);
}

/** A stored event as served on the wire: no idempotency record, no token hashes. */
export function toJournalEvent(e: StoredEvent): JournalEvent {
  if (!hasSecrets(e)) {
    // Without an idempotency record and a token hash, the stored event is its own wire form (and
    // keeps its text): nothing reads a served event to change it, so it is not copied per push.
    if (!('idem' in e)) return e;
    // Handed over: the stored event stays in memory for journal reads (Runtime.recent), its wire
    // form and text only until the push that follows its write.
    const made = WIRE_FORM.get(e);
    if (made !== undefined) {
      WIRE_FORM.delete(e);
      return made;
    }
  }
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
  if (idem && answer === undefined) return JSON.stringify(e);
  // Without its idempotency record (and unless it carries a token hash) an event's JSON is its wire form.
  const form = idem ? withoutIdem(e) : e;
  const wire = JSON.stringify(form);
  if (!hasSecrets(e)) {
    WIRE_JSON.set(form, wire);
    // Not an event with secrets (checked above): without its record it is what toJournalEvent serves.
    if (form !== e) WIRE_FORM.set(e, form as JournalEvent);
  }
  if (!idem) return wire;
  const { result: _result, ...record } = idem;
  // Both always have fields (type, seq, at; scope, key, op, hash, at), so each ends in `}` after one.
  return `${wire.slice(0, -1)},"idem":${JSON.stringify(record).slice(0, -1)},"result":${answer}}}`;
}
