import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { tempDir } from '../helpers/coordinator.ts';

test('a replay that arrives while the original is being written is not acknowledged when that write fails', async () => {
  const dir = tempDir();
  let gate: ((fail: boolean) => void) | undefined;
  let holdWrites = false;
  let writeStarted: (() => void) | undefined;
  const store = new LowdbStore(dir, {
    beforeWrite: async () => {
      if (!holdWrites) return;
      writeStarted?.();
      const fail = await new Promise<boolean>((resolve) => (gate = resolve));
      if (fail) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  });
  const runtime = await Runtime.open({ store, clock: new ManualClock(), adminTokens: ['owpm_replay'], timers: false });
  try {
    const admin = runtime.authenticate('owpm_replay');
    assert.ok(admin);
    assert.equal((await runtime.call(admin, 'repo.configure', { repo: 'replay/repo', idempotency_key: 'repo' })).ok, true);

    holdWrites = true;
    const started = new Promise<void>((resolve) => (writeStarted = resolve));
    const params = { repo: 'replay/repo', title: 'written on a failing disk', idempotency_key: 'same-key' };
    const original = runtime.call(admin, 'task.create', params);
    await started;
    const replay = runtime.call(admin, 'task.create', { ...params });
    await new Promise((r) => setImmediate(r));
    gate?.(true);

    const [first, second] = await Promise.all([original, replay]);
    assert.equal(first.ok, false, 'the original is refused: it never reached the disk');
    assert.equal(!first.ok && first.error.code, 'UNAVAILABLE');
    assert.equal(second.ok, false, 'the replay must not acknowledge what was never made durable');
    assert.equal(!second.ok && second.error.code, 'UNAVAILABLE');
  } finally {
    holdWrites = false;
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
