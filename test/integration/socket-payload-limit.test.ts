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
