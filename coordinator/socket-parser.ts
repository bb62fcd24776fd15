/**
 * socket.io's packet parser with an encoder for JSON only. The stock encoder walks every outgoing
 * packet (`hasBinary`) looking for Buffers before it stringifies it; OWP's payloads are JSON
 * (SPEC §8.1) and the coordinator never sends binary, so that walk over every answer, offer and
 * journal batch (1,000 task views in a bulk create's answer) found nothing and cost 1–2 % of the
 * coordinator's busy time (bench/README.md, "Where a task's time goes"). Packets are encoded
 * exactly as the stock encoder encodes a packet without binary; decoding is the stock decoder's.
 * Text serialised already (an answer, a journal event) is spliced in rather than serialised again.
 */
import * as parser from 'socket.io-parser';
import { rememberedAnswerJson } from './state/idempotency-keys.ts';
import { journalEventJson } from './state/stored-event.ts';

class JsonOnlyEncoder extends parser.Encoder {
  override encode(packet: parser.Packet): string[] {
    // The stock string form: type, namespace (unless "/"), ack id, then the JSON data.
    let out = String(packet.type);
    if (packet.nsp && packet.nsp !== '/') out += `${packet.nsp},`;
    if (packet.id !== undefined && packet.id !== null) out += String(packet.id);
    if (packet.data !== undefined && packet.data !== null) out += packet.type === parser.PacketType.ACK ? ackJson(packet.data) : packet.type === parser.PacketType.EVENT ? eventJson(packet.data) : JSON.stringify(packet.data);
    return [out];
  }
}

/**
 * An event's JSON. A `journal.appended` batch (`[name, { events }]`) is made of events whose
 * journal lines were just written: each event's text from the write is spliced in
 * (coordinator/state/stored-event.ts), byte for byte what JSON.stringify writes, so the events
 * pushed are serialised once, not twice. Anything else, or a batch with an event of unknown text,
 * is stringified as usual.
 */
function eventJson(data: unknown): string {
  if (Array.isArray(data) && data.length === 2 && typeof data[0] === 'string') {
    const payload: unknown = data[1];
    if (typeof payload === 'object' && payload !== null && Array.isArray((payload as { events?: unknown }).events)) {
      const keys = Object.keys(payload);
      const events = (payload as { events: unknown[] }).events;
      if (keys.length === 1 && events.length > 0) {
        let text = '';
        for (const e of events) {
          const json = journalEventJson(e);
          if (json === undefined) return JSON.stringify(data);
          text += text === '' ? json : `,${json}`;
        }
        return `[${JSON.stringify(data[0])},{"events":[${text}]}]`;
      }
    }
  }
  return JSON.stringify(data);
}

/**
 * An acknowledgement's JSON. A successful answer to a mutating request was serialised once already,
 * when its idempotency key remembered it (coordinator/state/idempotency-keys.ts): that text is
 * spliced in, byte for byte what JSON.stringify writes for `[{ ok: true, data }]`.
 */
function ackJson(data: unknown): string {
  if (Array.isArray(data) && data.length === 1) {
    const reply: unknown = data[0];
    if (typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === true) {
      const keys = Object.keys(reply);
      const answer = keys.length === 2 && keys[0] === 'ok' && keys[1] === 'data' ? rememberedAnswerJson((reply as { data: unknown }).data) : undefined;
      if (answer !== undefined) return `[{"ok":true,"data":${answer}}]`;
    }
  }
  return JSON.stringify(data);
}

/** Pass as socket.io's `parser` option. */
export const JSON_ONLY_PARSER = { ...parser, Encoder: JsonOnlyEncoder };
