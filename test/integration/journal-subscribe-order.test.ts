import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io as connectSocket } from 'socket.io-client';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { PROTOCOL_VERSION } from '../../protocol/version.ts';
import { startPool } from '../helpers/coordinator.ts';

test('a journal subscriber gets the catch-up and the live events in seq order, each once (SPEC JOURNAL-004)', async () => {
  const pool = await startPool('memory');
  const socket = connectSocket(pool.url, { auth: { token: pool.adminToken }, transports: ['websocket'], reconnection: false });
  try {
    await pool.repo('o/r');
    for (let i = 0; i < 5; i += 1) await pool.task('o/r', { title: `before ${i}` });
    const runtime = pool.coordinator.runtime;
    const admin = runtime.authenticate(pool.adminToken);
    assert.ok(admin);
    // A change lands while the subscriber is being caught up: after it joined the live feed, before the catch-up read.
    const read = runtime.readJournalFor.bind(runtime);
    let injected = false;
    runtime.readJournalFor = async (principal, params) => {
      if (!injected) {
        injected = true;
        await runtime.call(admin, 'task.create', { repo: 'o/r', title: 'during catch-up', idempotency_key: 'during' });
      }
      return read(principal, params);
    };
    const seen: number[] = [];
    socket.on('journal.appended', (p: { events: JournalEvent[] }) => seen.push(...p.events.map((e) => e.seq)));
    await new Promise<void>((resolve, reject) => {
      if (socket.connected) return resolve();
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const ack = (await socket.emitWithAck('session.hello', { protocol_version: PROTOCOL_VERSION, subscribe: ['journal'], journal_after_seq: 0 })) as { ok: boolean };
    assert.equal(ack.ok, true);
    assert.ok(injected);
    const last = runtime.engine.state.seq;
    assert.deepEqual(seen, Array.from({ length: last }, (_, i) => i + 1), 'every event from 1 to the end, in order, once');
  } finally {
    socket.close();
    await pool.close();
  }
});
