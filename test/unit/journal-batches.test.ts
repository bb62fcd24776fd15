import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';

test('the commands of one group commit reach journal subscribers as one batch, after their notifications and before any answer', async () => {
  // The broken variants: one `journal` batch per command (three pushes to every subscriber for a
  // commit of three), or the batch published after the answers (a caller could act on its answer
  // before the journal said what happened).
  const runtime = await Runtime.open({ store: new MemoryStore(), clock: new ManualClock(), adminTokens: ['owpm_batches'], timers: false });
  try {
    const admin = runtime.authenticate('owpm_batches');
    assert.ok(admin);
    await runtime.call(admin, 'repo.configure', { repo: 'o/r', idempotency_key: 'r' });
    const seen: string[] = [];
    const batches: number[][] = [];
    runtime.on('journal', (events) => {
      batches.push(events.map((e) => e.seq));
      seen.push('journal');
    });
    // Three commands in the same turn: one group commit.
    const calls = ['a', 'b', 'c'].map((k) => runtime.call(admin, 'task.create', { repo: 'o/r', title: `task ${k}`, idempotency_key: k }).then((ack) => {
      assert.ok(ack.ok);
      seen.push('answer');
    }));
    await Promise.all(calls);
    await runtime.whenIdle();
    assert.equal(batches.length, 1, `one journal batch for the commit, got ${JSON.stringify(batches)}`);
    assert.equal(batches[0]?.length, 3);
    assert.deepEqual(batches[0], [...(batches[0] ?? [])].sort((x, y) => x - y), 'in seq order');
    assert.deepEqual(seen, ['journal', 'answer', 'answer', 'answer']);
  } finally {
    await runtime.close();
  }
});
