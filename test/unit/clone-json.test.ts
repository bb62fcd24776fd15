import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloneJson } from '../../coordinator/state/clone-json.ts';
import { FOLD } from '../../coordinator/state/fold.ts';

test('cloneJson copies JSON data deeply: equal to the original, sharing no object or array with it', () => {
  const original = { id: 'T-1', skills: ['docs', 'ts'], pr: { url: 'https://example.invalid/pull/1', gates: [{ name: 'tests', passed: true, exit_code: 0 }] }, note: null, n: 0, empty: [] as unknown[] };
  const copy = cloneJson(original);
  assert.deepEqual(copy, original);
  assert.notEqual(copy, original);
  assert.notEqual(copy.skills, original.skills);
  assert.notEqual(copy.pr, original.pr);
  assert.notEqual(copy.pr.gates, original.pr.gates);
  assert.notEqual(copy.pr.gates[0], original.pr.gates[0]);
  // Changing the copy leaves the original alone (the state must not write into an event still held elsewhere).
  copy.pr.gates[0]!.passed = false;
  copy.skills.push('go');
  assert.equal(original.pr.gates[0]!.passed, true);
  assert.deepEqual(original.skills, ['docs', 'ts']);
});

test('cloneJson keeps a parsed "__proto__" key as data: it does not become the copy\'s prototype', () => {
  const parsed = JSON.parse('{"title":"t","meta":{"__proto__":{"polluted":true},"k":1}}') as { meta: Record<string, unknown> };
  const copy = cloneJson(parsed);
  assert.equal(Object.getPrototypeOf(copy.meta), Object.prototype);
  assert.equal((copy.meta as { polluted?: unknown }).polluted, undefined);
  assert.deepEqual(Object.keys(copy.meta), ['__proto__', 'k']);
  assert.deepEqual(Object.getOwnPropertyDescriptor(copy.meta, '__proto__')?.value, { polluted: true });
  assert.equal(JSON.stringify(copy), JSON.stringify(parsed));
});

test('the fold copies a created task into the state: the event\'s task is not the state\'s', () => {
  // The fold's copy is what lets the recent-events window keep the event as it was written.
  const task = { id: 'T-7', repo: 'o/r', title: 't', body: '', tier: 0, effort: 1, skills: ['docs'], priority: 0, acceptance: [], state: 'ready', attempts: 0, epoch: 0, created_at: 1, updated_at: 1 };
  const tasks = new Map<string, unknown>();
  const repo = { counts: { ready: 0 } as Record<string, number>, insertReady: () => undefined };
  const state = { counters: { task: 0 }, tasks, mustRepo: () => repo, finished: new Set() };
  FOLD['task.created'](state as never, { type: 'task.created', repo: 'o/r', task_id: 'T-7', data: { task }, seq: 1, at: 1 } as never);
  const held = tasks.get('T-7') as typeof task;
  assert.deepEqual(held, task);
  assert.notEqual(held, task);
  assert.notEqual(held.skills, task.skills);
});
