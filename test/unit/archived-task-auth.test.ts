import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANONYMOUS } from '../../coordinator/auth.ts';
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';

test('an archived task is read only with a token, like a live one (SPEC AUTH-001)', async () => {
  const clock = new ManualClock();
  const runtime = await Runtime.open({ store: new MemoryStore(), clock, adminTokens: ['owpm_archive'], timers: false, archiveAfterMs: 1000 });
  try {
    const admin = runtime.authenticate('owpm_archive');
    assert.ok(admin);
    await runtime.call(admin, 'repo.configure', { repo: 'o/r', idempotency_key: 'r' });
    const created = await runtime.call(admin, 'task.create', { repo: 'o/r', title: 'soon archived', idempotency_key: 't' });
    assert.ok(created.ok);
    const taskId = (created.data as { task: { id: string } }).task.id;
    assert.equal((await runtime.call(ANONYMOUS, 'task.get', { task_id: taskId })).ok, false, 'a live task needs a token');
    assert.ok((await runtime.call(admin, 'task.cancel', { task_id: taskId, idempotency_key: 'c' })).ok);
    clock.advance(2000);
    await runtime.sweep();
    assert.equal(runtime.engine.state.tasks.has(taskId), false, 'the task left the live state');
    const withToken = await runtime.call(admin, 'task.get', { task_id: taskId });
    assert.equal(withToken.ok, true, 'the archive is readable with a token');
    const anonymous = await runtime.call(ANONYMOUS, 'task.get', { task_id: taskId });
    assert.equal(anonymous.ok, false, 'the archive is not readable without one');
    assert.equal(!anonymous.ok && anonymous.error.code, 'UNAUTHENTICATED');
  } finally {
    await runtime.close();
  }
});
