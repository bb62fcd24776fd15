import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as parser from 'socket.io-parser';
import { JSON_ONLY_PARSER } from '../../coordinator/socket-parser.ts';

const PACKETS: parser.Packet[] = [
  { type: parser.PacketType.EVENT, nsp: '/', data: ['offer.created', { offer_id: 'O-1', task: { title: 'ünïcode "quoted" \u2028', skills: ['docs'] } }] },
  { type: parser.PacketType.ACK, nsp: '/', id: 42, data: [{ ok: true, data: { lease: { lease_id: 'L-1', epoch: 1 } } }] },
  { type: parser.PacketType.ACK, nsp: '/', id: 0, data: [{ ok: false, error: { code: 'STALE_EPOCH', message: 'm' } }] },
  { type: parser.PacketType.EVENT, nsp: '/admin', id: 7, data: ['journal.appended', { events: [] }] },
  { type: parser.PacketType.CONNECT, nsp: '/', data: { sid: 'abc' } },
  { type: parser.PacketType.DISCONNECT, nsp: '/' },
  { type: parser.PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'no', data: { code: 'UNAUTHENTICATED' } } },
];

test('the JSON-only encoder writes every packet the coordinator sends exactly as socket.io\'s own encoder does', () => {
  const ours = new JSON_ONLY_PARSER.Encoder();
  const stock = new parser.Encoder();
  for (const packet of PACKETS) assert.deepEqual(ours.encode(packet), stock.encode(packet), JSON.stringify(packet));
});

test('what the JSON-only encoder writes decodes back to the packet it was given', () => {
  const ours = new JSON_ONLY_PARSER.Encoder();
  for (const packet of PACKETS) {
    const decoder = new JSON_ONLY_PARSER.Decoder();
    let decoded: unknown;
    decoder.on('decoded', (p: unknown) => {
      decoded = p;
    });
    decoder.add(ours.encode(packet)[0] as string);
    assert.deepEqual(decoded, packet);
  }
});
