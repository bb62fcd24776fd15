/**
 * The first-time walkthrough's steps are ticked from the session's state (extension/logic/walkthrough.ts):
 * joined, an offer taken, a PR submitted; whether or not VS Code saw the moment it happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { walkthroughStepId, walkthroughStepsDone } from '../../extension/logic/walkthrough.ts';
import type { Lease, SubmittedPr } from '../../protocol/model.ts';

const lease = { lease_id: 'L-1', task_id: 'T-1' } as Lease;
const pr = { task_id: 'T-2', state: 'pr_opened' } as SubmittedPr;

test('the steps a session shows done, in walkthrough order', () => {
  const seen = { handedOff: false, workViewShown: false };
  assert.deepEqual(walkthroughStepsDone({ state: 'not-joined', leases: [], submitted: [] }, seen), []);
  // Joined, even while the coordinator is out of reach: the window has its worker.
  assert.deepEqual(walkthroughStepsDone({ state: 'connecting', leases: [], submitted: [] }, seen), ['join']);
  assert.deepEqual(walkthroughStepsDone({ state: 'connected', leases: [], submitted: [] }, { handedOff: false, workViewShown: true }), ['join']);
  assert.deepEqual(walkthroughStepsDone({ state: 'connected', leases: [lease], submitted: [] }, seen), ['join', 'offer']);
  assert.deepEqual(walkthroughStepsDone({ state: 'connected', leases: [lease], submitted: [] }, { handedOff: true, workViewShown: false }), ['join', 'offer', 'work']);
  // A submitted PR needed an offer and the work; following it needs My work on screen.
  assert.deepEqual(walkthroughStepsDone({ state: 'connected', leases: [], submitted: [pr] }, seen), ['join', 'offer', 'work', 'submit']);
  assert.deepEqual(walkthroughStepsDone({ state: 'connected', leases: [], submitted: [pr] }, { handedOff: false, workViewShown: true }), ['join', 'offer', 'work', 'submit', 'submitted']);
});

test('a step is named as VS Code registers a contributed one', () => {
  assert.equal(walkthroughStepId('owp.owp', 'join'), 'owp.owp#owp.firstTask#join');
});
