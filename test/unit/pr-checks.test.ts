import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLine, checksSummary, newlyFailed, type CheckView } from '../../client/pr-checks.ts';

const build: CheckView = { name: 'build', status: 'failure', url: 'https://github.com/acme/site/runs/1' };
const lint: CheckView = { name: 'lint', status: 'pending' };
const test1: CheckView = { name: 'test (ubuntu-latest)', status: 'success' };

test('each required check reads as a line with its state and link', () => {
  assert.equal(checkLine(build), '✗ build failed — https://github.com/acme/site/runs/1');
  assert.equal(checkLine(lint), '… lint pending');
  assert.equal(checkLine(test1), '✓ test (ubuntu-latest) passed');
});

test('the summary counts what passed and names what failed and what is pending', () => {
  assert.equal(checksSummary([build, lint, test1]), '1 of 3 required checks passed; build failed; lint pending');
  assert.equal(checksSummary([test1]), '1 of 1 required check passed');
  assert.equal(checksSummary([]), 'no required checks');
});

test('a failure is news once: not again while it stays red, again after it passed in between', () => {
  assert.deepEqual(newlyFailed(undefined, [build, lint]), [build]);
  assert.deepEqual(newlyFailed([build, lint], [build, { ...lint, status: 'failure' }]), [{ ...lint, status: 'failure' }]);
  assert.deepEqual(newlyFailed([{ ...build, status: 'pending' }], [build]), [build]);
  assert.deepEqual(newlyFailed([build], [build]), []);
});
