import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as parser from 'socket.io-parser';
import { IdempotencyKeys } from '../../coordinator/state/idempotency-keys.ts';
import type { IdempotencyRecord } from '../../coordinator/state/records.ts';
import { forgetJournalEventJson, journalEventJson, storedEventJson, toJournalEvent, type StoredEvent } from '../../coordinator/state/stored-event.ts';
import { JSON_ONLY_PARSER } from '../../coordinator/socket-parser.ts';

/** A request's first answer as the engine makes it: remembered under its key, riding on its first event. */
function answered(result: Record<string, unknown>): { event: StoredEvent; record: IdempotencyRecord } {
  const record: IdempotencyRecord = { scope: 'worker:W-1', key: 'k-1', op: 'offer.accept', hash: 'h', result, at: 5, seq: 9 };
  new IdempotencyKeys().remember(record);
  const event = { type: 'lease.granted', repo: 'o/r', task_id: 'T-1', worker_id: 'W-1', data: { lease_id: 'L-1', epoch: 1, expires_at: 10, max_deadline_at: 20, via: 'offer', offer_id: 'O-1' }, seq: 9, at: 5, idem: record } as StoredEvent;
  return { event, record };
}

const ANSWER = { lease: { lease_id: 'L-1', task_id: 'T-1', epoch: 1 }, task: { id: 'T-1', title: 'ünïcode "q" \u2028', skills: ['docs'], pr: null } };

test('a journal line reuses the remembered answer: it reads back as the event JSON.stringify would have written', () => {
  const { event } = answered(structuredClone(ANSWER));
  const line = storedEventJson(event);
  assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(event)));
  // Without a remembered answer (an event with no key, or read back from a journal), the plain form.
  const plain = { type: 'offer.created', repo: 'o/r', task_id: 'T-1', worker_id: 'W-1', data: { offer_id: 'O-1', deadline_at: 3 }, seq: 8, at: 2 } as StoredEvent;
  assert.equal(storedEventJson(plain), JSON.stringify(plain));
  const unremembered = { ...event, idem: { ...event.idem, result: structuredClone(ANSWER) } } as StoredEvent;
  assert.equal(storedEventJson(unremembered), JSON.stringify(unremembered));
});

test('the journal line carries the answer as it was when first given, which is what a replay answers', () => {
  const result = structuredClone(ANSWER);
  const { event } = answered(result);
  result.task.title = 'changed afterwards';
  const stored = JSON.parse(storedEventJson(event)) as { idem: { result: typeof ANSWER } };
  assert.equal(stored.idem.result.task.title, ANSWER.task.title);
});

test('an acknowledgement of a remembered answer is encoded byte for byte as socket.io encodes it', () => {
  const result = structuredClone(ANSWER);
  answered(result);
  const packet: parser.Packet = { type: parser.PacketType.ACK, nsp: '/', id: 12, data: [{ ok: true, data: result }] };
  assert.deepEqual(new JSON_ONLY_PARSER.Encoder().encode(packet), new parser.Encoder().encode(packet));
  // A refusal, or an answer never remembered (a read), goes the stock way.
  const refusal: parser.Packet = { type: parser.PacketType.ACK, nsp: '/', id: 13, data: [{ ok: false, error: { code: 'STALE_EPOCH', message: 'm' } }] };
  const read: parser.Packet = { type: parser.PacketType.ACK, nsp: '/', id: 14, data: [{ ok: true, data: structuredClone(ANSWER) }] };
  for (const p of [refusal, read]) assert.deepEqual(new JSON_ONLY_PARSER.Encoder().encode(p), new parser.Encoder().encode(p));
});

test('a journal.appended push of written events is encoded byte for byte as socket.io encodes it, without idempotency records or token hashes', () => {
  const { event } = answered(structuredClone(ANSWER));
  const plain = { type: 'offer.created', repo: 'o/r', task_id: 'T-1', worker_id: 'W-1', data: { offer_id: 'O-1', deadline_at: 3 }, seq: 8, at: 2 } as StoredEvent;
  const secret = { type: 'worker.registered', worker_id: 'W-2', data: { worker: { id: 'W-2', github_login: 'ünï', token_hash: 'secret-hash' } }, seq: 10, at: 6 } as unknown as StoredEvent;
  for (const e of [plain, event, secret]) storedEventJson(e); // the store writes the lines first
  const wire = [plain, event, secret].map(toJournalEvent);
  for (const events of [wire, wire.slice(0, 2), [wire[1]]]) {
    const packet: parser.Packet = { type: parser.PacketType.EVENT, nsp: '/', data: ['journal.appended', { events }] };
    const [ours] = new JSON_ONLY_PARSER.Encoder().encode(packet);
    assert.deepEqual([ours], new parser.Encoder().encode(packet));
    assert.doesNotMatch(ours as string, /secret-hash|"idem"/);
  }
});

test('a journal.appended push carries each event as its journal line has it (its text is reused, not serialised again)', () => {
  const plain = { type: 'offer.created', repo: 'o/r', task_id: 'T-1', worker_id: 'W-1', data: { offer_id: 'O-1', deadline_at: 3 }, seq: 8, at: 2 } as StoredEvent;
  const line = storedEventJson(plain);
  const [wire] = [plain].map(toJournalEvent);
  (wire as { data: { deadline_at: number } }).data.deadline_at = 99;
  const packet: parser.Packet = { type: parser.PacketType.EVENT, nsp: '/', data: ['journal.appended', { events: [wire] }] };
  assert.equal(new JSON_ONLY_PARSER.Encoder().encode(packet)[0], `2["journal.appended",{"events":[${line}]}]`);
  // An event never written (a page read back from the disk, say) is serialised as usual.
  const unwritten = toJournalEvent({ ...plain, seq: 11 } as StoredEvent);
  const other: parser.Packet = { type: parser.PacketType.EVENT, nsp: '/', data: ['journal.appended', { events: [wire, unwritten] }] };
  assert.deepEqual(new JSON_ONLY_PARSER.Encoder().encode(other), new parser.Encoder().encode(other));
});

test('an event is made into its wire form once, for its journal line and its push, and its text is forgotten once pushed', () => {
  const { event } = answered(structuredClone(ANSWER));
  const plain = { type: 'offer.created', repo: 'o/r', task_id: 'T-1', worker_id: 'W-1', data: { offer_id: 'O-1', deadline_at: 3 }, seq: 8, at: 2 } as StoredEvent;
  const line = storedEventJson(event);
  storedEventJson(plain);
  // The wire form the line was made from: no idempotency record, the line's text without it.
  const wire = toJournalEvent(event);
  assert.equal('idem' in wire, false);
  assert.equal(journalEventJson(wire), JSON.stringify(wire));
  assert.ok(line.startsWith((journalEventJson(wire) as string).slice(0, -1)));
  // Handed over once: a later read (a journal page from memory) gets a copy of its own, still without it.
  const again = toJournalEvent(event);
  assert.notEqual(again, wire);
  assert.equal('idem' in again, false);
  assert.ok('idem' in event, 'the stored event keeps its record');
  // An event without a record or a secret is its own wire form; its text goes once it was pushed.
  assert.equal(toJournalEvent(plain), plain);
  assert.equal(journalEventJson(plain), JSON.stringify(plain));
  forgetJournalEventJson([plain, wire]);
  assert.equal(journalEventJson(plain), undefined);
  assert.equal(journalEventJson(wire), undefined);
});
