/**
 * The sweep archives finished tasks (merged, closed) once they have been finished for
 * `archiveAfterMs`, in creation order, and only those: it reads the state's set of finished tasks,
 * which the fold and a snapshot's restore keep equal to the live tasks in a terminal state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../coordinator/engine/engine.ts';
import { State } from '../../coordinator/state/state.ts';
import { isTerminal } from '../../protocol/states.ts';
import { EngineHarness } from '../helpers/engine.ts';

function finishedMatchesTasks(state: State): void {
  const terminal = [...state.tasks.values()].filter((t) => isTerminal(t.state)).map((t) => t.id).sort();
  assert.deepEqual([...state.finished].map((t) => t.id).sort(), terminal);
}

test('finished tasks are archived in creation order once due; live ones stay, also after a snapshot', () => {
  const h = new EngineHarness({ archiveAfterMs: 1000 });
  h.repo('o/r');
  const ids = Array.from({ length: 5 }, () => h.task('o/r'));
  // Cancelled newest first: archiving still follows creation order.
  for (const id of [ids[3], ids[1], ids[0]]) h.ok(h.admin, 'task.cancel', { task_id: id as string });
  finishedMatchesTasks(h.engine.state);
  assert.equal(h.engine.state.finished.size, 3);
  h.clock.advance(500);
  assert.equal(h.engine.tick().events.filter((e) => e.type === 'task.archived').length, 0, 'not due yet');
  // A restored state finds the same finished tasks.
  const restored = State.fromSnapshot(JSON.parse(JSON.stringify(h.engine.state.toSnapshot())));
  finishedMatchesTasks(restored);
  const engine = new Engine({ clock: h.clock, state: restored, archiveAfterMs: 1000 });
  h.clock.advance(600);
  for (const e of [h.engine, engine]) {
    const archived = e.tick().events.filter((ev) => ev.type === 'task.archived').map((ev) => ev.task_id);
    assert.deepEqual(archived, [ids[0], ids[1], ids[3]]);
    assert.equal(e.state.finished.size, 0);
    assert.deepEqual([...e.state.tasks.keys()], [ids[2], ids[4]]);
    finishedMatchesTasks(e.state);
  }
});
