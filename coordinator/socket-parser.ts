/**
 * socket.io's packet parser with an encoder for JSON only. The stock encoder walks every outgoing
 * packet (`hasBinary`) looking for Buffers before it stringifies it; OWP's payloads are JSON
 * (SPEC §8.1) and the coordinator never sends binary, so that walk over every answer, offer and
 * journal batch (1,000 task views in a bulk create's answer) found nothing and cost 1–2 % of the
 * coordinator's busy time (bench/README.md, "Where a task's time goes"). Packets are encoded
 * exactly as the stock encoder encodes a packet without binary; decoding is the stock decoder's.
 */
import * as parser from 'socket.io-parser';
import { rememberedAnswerJson } from './state/idempotency-keys.ts';

class JsonOnlyEncoder extends parser.Encoder {
  override encode(packet: parser.Packet): string[] {
    // The stock string form: type, namespace (unless "/"), ack id, then the JSON data.
    let out = String(packet.type);
    if (packet.nsp && packet.nsp !== '/') out += `${packet.nsp},`;
    if (packet.id !== undefined && packet.id !== null) out += String(packet.id);
    if (packet.data !== undefined && packet.data !== null) out += packet.type === parser.PacketType.ACK ? ackJson(packet.data) : JSON.stringify(packet.data);
    return [out];
  }
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
