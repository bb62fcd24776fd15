/**
 * The sweep archives finished tasks from the state's index of them (`State.finished`), not by a
 * walk over every task: the index must hold every finished task, after a restart from a snapshot
 * too, and the archive keeps the order a walk gave (task creation order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';

const OPTIONS = { clock: new ManualClock(), adminTokens: ['owpm_archive'], timers: false, archiveAfterMs: 1000 } as const;

test('finished tasks are archived in creation order, and a state restored from a snapshot still archives them', async () => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  let runtime = await Runtime.open({ ...OPTIONS, store, clock });
  const ids: string[] = [];
  try {
    const admin = runtime.authenticate('owpm_archive');
    assert.ok(admin);
    await runtime.call(admin, 'repo.configure', { repo: 'o/r', idempotency_key: 'r' });
    for (const title of ['one', 'two', 'three', 'four']) {
      const ack = await runtime.call(admin, 'task.create', { repo: 'o/r', title, idempotency_key: title });
      assert.ok(ack.ok);
      ids.push((ack.data as { task: { id: string } }).task.id);
    }
    // Finished in the opposite order of creation, one before a restart and two after; 'two' stays ready.
    const cancel = async (id: string | undefined): Promise<void> => {
      const maintainer = runtime.authenticate('owpm_archive');
      assert.ok(maintainer && id);
      assert.ok((await runtime.call(maintainer, 'task.cancel', { task_id: id, idempotency_key: `c-${id}` })).ok);
    };
    await cancel(ids[3]);
    // A clean stop writes a snapshot; the next runtime starts from it, with no journal to replay.
    await runtime.close();
    runtime = await Runtime.open({ ...OPTIONS, store, clock });
    assert.equal(runtime.engine.state.seq, (await store.load()).snapshot?.seq, 'restored from the snapshot alone');
    const before = runtime.engine.state.seq;
    await cancel(ids[2]);
    await cancel(ids[0]);
    clock.advance(2000);
    await runtime.sweep();
    const archived = (await store.readJournal(before, 100)).filter((e) => e.type === 'task.archived').map((e) => e.task_id);
    assert.deepEqual(archived, [ids[0], ids[2], ids[3]], 'every finished task archived, in creation order');
    assert.deepEqual([...runtime.engine.state.tasks.keys()], [ids[1]], 'the ready task stays');
    assert.equal(runtime.engine.state.finished.size, 0, 'nothing finished is left waiting');
  } finally {
    await runtime.close();
  }
});
