/**
 * The ready index (coordinator/state/ready-queue.ts) against a plain sorted list: random inserts,
 * removals from the head (offers), from the middle (cancels, re-prioritised tasks) and re-inserts
 * (requeues), thousands of them, so the head offset, its compaction and the binary searches are all
 * exercised. After every step each kind's queue lists exactly the model's tasks of that kind, in
 * queue order (priority, then age, then task number), and `firstAfter` walks it the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReadyIndex, compareReady, readyEntry, type ReadyQueue } from '../../coordinator/state/ready-queue.ts';
import type { TaskRecord } from '../../coordinator/state/records.ts';

function task(n: number, priority: number, createdAt: number, area: string | undefined): TaskRecord {
  return {
    id: `T-${n}`, repo: 'p/one', title: 't', body: '', tier: 0, effort: 1, skills: [], priority, acceptance: [], state: 'ready',
    attempts: 0, epoch: 0, created_at: createdAt, updated_at: createdAt, ...(area ? { area } : {}),
  } as TaskRecord;
}

function walk(queue: ReadyQueue): string[] {
  const out: string[] = [];
  for (let e = queue.first(); e; e = queue.firstAfter(e)) out.push(e.id);
  return out;
}

type Op = { op: 'add'; priority: number; age: number; area: number } | { op: 'take' } | { op: 'drop'; i: number } | { op: 'requeue'; i: number };

test('the ready index keeps every kind in queue order through thousands of random moves', () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('add' as const), priority: fc.integer({ min: -1, max: 1 }), age: fc.nat({ max: 50 }), area: fc.nat({ max: 2 }) }) },
    { weight: 4, arbitrary: fc.constant({ op: 'take' as const }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), i: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('requeue' as const), i: fc.nat() }) },
  );
  fc.assert(fc.property(fc.array(op, { minLength: 50, maxLength: 400 }), (ops) => {
    const index = new ReadyIndex();
    const live = new Map<string, TaskRecord>();
    const gone: TaskRecord[] = [];
    let n = 0;
    for (const o of ops) {
      if (o.op === 'add') {
        const t = task((n += 1), o.priority, 1000 + n - o.age, [undefined, 'docs', 'cli'][o.area]);
        live.set(t.id, t);
        index.insert(t);
      } else {
        const ids = [...live.values()].sort((a, b) => compareReady(readyEntry(a), readyEntry(b))).map((t) => t.id);
        const id = o.op === 'take' ? ids[0] : ids[o.i % Math.max(1, ids.length)];
        if (o.op === 'requeue' && gone.length > 0) {
          const back = gone.splice(o.i % gone.length, 1)[0] as TaskRecord;
          live.set(back.id, back);
          index.insert(back);
        } else if (id) {
          gone.push(live.get(id) as TaskRecord);
          live.delete(id);
          index.remove(id);
        }
      }
      const byKind = new Map<string, string[]>();
      for (const t of [...live.values()].sort((a, b) => compareReady(readyEntry(a), readyEntry(b)))) {
        const kind = readyEntry(t).signature;
        byKind.set(kind, [...(byKind.get(kind) ?? []), t.id]);
      }
      assert.equal(index.size, live.size);
      assert.deepEqual([...index.kinds.keys()].sort(), [...byKind.keys()].sort(), 'one queue per kind with ready tasks');
      for (const [kind, ids] of byKind) assert.deepEqual(walk(index.kinds.get(kind) as ReadyQueue), ids, `kind ${JSON.stringify(kind)}`);
    }
  }), { numRuns: 60 });
});

test('a long queue taken from its head compacts and stays in order, with requeues at its front and removals in its middle', () => {
  const index = new ReadyIndex();
  const all = Array.from({ length: 5000 }, (_, i) => task(i + 1, 0, 1000 + i, undefined));
  for (const t of all) index.insert(t);
  const queue = index.kinds.values().next().value as ReadyQueue;
  const expected = all.map((t) => t.id);
  for (let i = 0; i < 3000; i += 1) {
    const first = queue.first();
    assert.equal(first?.id, expected[0]);
    index.remove(first?.id as string);
    expected.shift();
    if (i % 500 === 499) {
      // An older task comes back (a requeue): it goes in front of everything still queued.
      const back = all[i - 10] as TaskRecord;
      index.insert(back);
      expected.unshift(back.id);
      // A task in the middle is cancelled.
      const mid = expected.splice(Math.floor(expected.length / 2), 1)[0] as string;
      index.remove(mid);
    }
  }
  assert.equal(queue.size, expected.length);
  assert.deepEqual(walk(queue), expected);
  assert.equal(index.size, expected.length);
});
