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

test('an archived task is read only by who may read its repo: the archive goes through the engine\'s checks', async () => {
  // The broken variant: the runtime answered an archived task.get itself, before the engine, to any token.
  const clock = new ManualClock();
  const runtime = await Runtime.open({ store: new MemoryStore(), clock, adminTokens: ['owpm_archive'], timers: false, archiveAfterMs: 1000 });
  try {
    const admin = runtime.authenticate('owpm_archive');
    assert.ok(admin);
    const ok = async (p: NonNullable<typeof admin>, name: 'repo.configure' | 'task.create' | 'task.cancel' | 'maintainer.create', params: Record<string, unknown>): Promise<any> => {
      const ack = await runtime.call(p, name, params);
      assert.ok(ack.ok, `${name}: ${ack.ok ? '' : ack.error.message}`);
      return ack.data;
    };
    await ok(admin, 'repo.configure', { repo: 'secret/r', visibility: 'private', idempotency_key: 'r1' });
    await ok(admin, 'repo.configure', { repo: 'other/r', idempotency_key: 'r2' });
    const { task } = await ok(admin, 'task.create', { repo: 'secret/r', title: 'private and archived', idempotency_key: 't' });
    await ok(admin, 'task.cancel', { task_id: task.id, idempotency_key: 'c' });
    clock.advance(2000);
    await runtime.sweep();
    assert.equal(runtime.engine.state.tasks.has(task.id), false, 'the task left the live state');
    const { token: otherToken } = await ok(admin, 'maintainer.create', { name: 'other', repos: ['other/*'], idempotency_key: 'm1' });
    const { token: ownToken } = await ok(admin, 'maintainer.create', { name: 'own', repos: ['secret/r'], idempotency_key: 'm2' });
    const worker = await runtime.call(ANONYMOUS, 'worker.register', { github_login: 'stranger', skills: [], capacity: 1, tools: [], capabilities: { can_run_tests: false, can_open_prs: false }, idempotency_key: 'w-0123456789abcdef' });
    assert.ok(worker.ok);
    const outsider = runtime.authenticate((worker.data as { token: string }).token);
    const otherMaintainer = runtime.authenticate(otherToken);
    const ownMaintainer = runtime.authenticate(ownToken);
    assert.ok(outsider && otherMaintainer && ownMaintainer);
    const code = async (p: NonNullable<typeof admin>): Promise<string> => {
      const ack = await runtime.call(p, 'task.get', { task_id: task.id });
      return ack.ok ? 'ok' : ack.error.code;
    };
    assert.equal(await code(ownMaintainer), 'ok', 'its repo\'s maintainer reads it');
    assert.equal(await code(otherMaintainer), 'FORBIDDEN', 'another repo\'s maintainer does not');
    assert.equal(await code(outsider), 'NOT_FOUND', 'a worker the private repo does not admit is told there is no such task');
  } finally {
    await runtime.close();
  }
});
