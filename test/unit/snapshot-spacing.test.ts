/**
 * Snapshots are spaced by the size of the state: after `snapshotEveryEvents` events, or after as
 * many events as the last snapshot held tasks and workers if that is more. A snapshot of 200,000
 * tasks takes seconds; taken every 20,000–50,000 events it stalled a big backlog's lifecycle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import type { SnapshotSink } from '../../coordinator/store/store.ts';

class CountingStore extends MemoryStore {
  readonly saved: Array<{ seq: number; tasks: number }> = [];

  override beginSnapshot(seq: number): SnapshotSink {
    const sink = super.beginSnapshot(seq);
    return {
      ...sink,
      commit: async () => {
        await sink.commit();
        const { snapshot } = await this.load();
        this.saved.push({ seq, tasks: snapshot?.tasks.length ?? 0 });
      },
    };
  }
}

/** Every write queued so far is on disk, and a snapshot it made due has been handed to the store. */
async function settled(runtime: Runtime): Promise<void> {
  await runtime.whenIdle();
  await new Promise((resolve) => setImmediate(resolve));
  await runtime.snapshotWritten();
}

test('the next snapshot waits for as many events as the last one held tasks, not for snapshotEveryEvents alone', async () => {
  const store = new CountingStore();
  const runtime = await Runtime.open({ store, clock: new ManualClock(), adminTokens: ['owpm_snap'], timers: false, snapshotEveryEvents: 10 });
  try {
    const admin = runtime.authenticate('owpm_snap');
    assert.ok(admin);
    assert.ok((await runtime.call(admin, 'repo.configure', { repo: 'o/r', idempotency_key: 'r' })).ok);
    const tasks = Array.from({ length: 100 }, (_, i) => ({ repo: 'o/r', title: `bulk ${i}` }));
    assert.ok((await runtime.call(admin, 'task.create_many', { tasks, idempotency_key: 'bulk' })).ok);
    await settled(runtime);
    assert.deepEqual(store.saved.map((s) => s.tasks), [100], 'past snapshotEveryEvents: a snapshot of the 100 tasks');

    let secondAt = 0;
    for (let i = 1; i <= 150 && secondAt === 0; i += 1) {
      assert.ok((await runtime.call(admin, 'task.create', { repo: 'o/r', title: `one ${i}`, idempotency_key: `one-${i}` })).ok);
      await settled(runtime);
      if (store.saved.length > 1) secondAt = i;
    }
    // One task.created event per create: 100 events after a snapshot of 100 tasks, not 10.
    assert.equal(secondAt, 100, 'the second snapshot came after as many events as the first held tasks');
    assert.equal(store.saved[1]?.tasks, 200);
  } finally {
    await runtime.close();
  }
});
