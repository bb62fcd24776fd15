/**
 * socket.io's packet parser with an encoder for JSON only. The stock encoder walks every outgoing
 * packet (`hasBinary`) looking for Buffers before it stringifies it; OWP's payloads are JSON
 * (SPEC §8.1) and the coordinator never sends binary, so that walk over every answer, offer and
 * journal batch (1,000 task views in a bulk create's answer) found nothing and cost 1–2 % of the
 * coordinator's busy time (bench/README.md, "Where a task's time goes"). Packets are encoded
 * exactly as the stock encoder encodes a packet without binary; decoding is the stock decoder's.
 */
import * as parser from 'socket.io-parser';

class JsonOnlyEncoder extends parser.Encoder {
  override encode(packet: parser.Packet): string[] {
    // The stock string form: type, namespace (unless "/"), ack id, then the JSON data.
    let out = String(packet.type);
    if (packet.nsp && packet.nsp !== '/') out += `${packet.nsp},`;
    if (packet.id !== undefined && packet.id !== null) out += String(packet.id);
    if (packet.data !== undefined && packet.data !== null) out += JSON.stringify(packet.data);
    return [out];
  }
}

/** Pass as socket.io's `parser` option. */
export const JSON_ONLY_PARSER = { ...parser, Encoder: JsonOnlyEncoder };
