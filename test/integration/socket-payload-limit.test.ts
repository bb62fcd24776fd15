import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS } from '../../protocol/validate.ts';
import { startPool } from '../helpers/coordinator.ts';

test('the socket binding refuses a payload over max_payload_bytes, like the HTTP binding (SPEC VAL-001)', async () => {
  const pool = await startPool('memory');
  try {
    const w = await pool.join();
    const blob = 'a'.repeat(LIMITS.maxPayloadBytes + 1024);
    await assert.rejects(w.request('worker.update', { x_notes: blob } as never), { code: 'PAYLOAD_TOO_LARGE' });
    const { workers } = await pool.admin.call('worker.list', {});
    assert.equal((workers.find((x) => x.id === w.worker?.id) as Record<string, unknown> | undefined)?.x_notes, undefined, 'nothing was stored');
    const small = await w.request('worker.update', { x_notes: 'fits' } as never);
    assert.equal((small.worker as Record<string, unknown>).x_notes, 'fits');
  } finally {
    await pool.close();
  }
});

// The limit is on the payload's JSON in UTF-8 bytes, not its characters: the binding measures exactly
// whenever its bound (6 bytes a character) may be over the limit. Both payloads have fewer characters
// than the limit allows bytes, so a measure by characters would let them through (to the x_* limit).
test('the socket limit counts UTF-8 bytes and JSON escapes, not characters', async () => {
  const pool = await startPool('memory');
  try {
    const w = await pool.join();
    const wide = 'é'.repeat(LIMITS.maxPayloadBytes / 2 + 1024); // 2 bytes each in UTF-8
    const escaped = '\u0001'.repeat(Math.ceil(LIMITS.maxPayloadBytes / 6) + 1024); // "\u0001": 6 bytes each in JSON
    for (const blob of [wide, escaped]) {
      assert.ok(blob.length < LIMITS.maxPayloadBytes);
      await assert.rejects(w.request('worker.update', { x_notes: blob } as never), (error: { code?: string; details?: Record<string, unknown> }) => {
        assert.equal(error.code, 'PAYLOAD_TOO_LARGE');
        assert.equal(error.details?.max_payload_bytes, LIMITS.maxPayloadBytes, 'refused by the payload limit, not by the x_* one');
        return true;
      });
    }
  } finally {
    await pool.close();
  }
});
