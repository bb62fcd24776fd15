/**
 * Proof that the kit can fail: each deliberately broken coordinator (the reference with one
 * test-only defect, run as its own process) must fail exactly the requirement ids its defect
 * breaks, and pass everything else at MUST level. One test file per defect under defects/, so
 * each full kit run gets its own time budget on a busy machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failedRequirements, runSuite } from '../../conformance/runner.ts';
import type { DefectName } from './defective-coordinator.ts';
import { startSut } from './sut-process.ts';

export const EXPECTED_FAILURES: Record<Exclude<DefectName, 'none'>, string[]> = {
  // Area locks gone: two active tasks share an area, explain cannot name the holder, an open PR no longer holds its area,
  // a task in a held area is offered.
  'no-area-locks': ['AREA-001', 'EXPLAIN-001', 'OFFER-002', 'OFFER-011', 'REPORT-003'],
  // The budget a policy sets is off by one too.
  'budget-off-by-one': ['BUDGET-001', 'POL-003'],
  // A stale epoch on a held lease is taken, so the order of refusals (FENCE-003) is wrong too.
  'no-fencing': ['FENCE-001', 'FENCE-003'],
  // Replays run again: a second task, no reuse error, a replayed registration makes a new worker and a
  // replayed bulk create makes its tasks twice.
  'idempotency-ignored': ['AUTH-007', 'IDEM-002', 'IDEM-003', 'MAINT-007'],
};

export function defectTest(defect: Exclude<DefectName, 'none'>): void {
  const expected = EXPECTED_FAILURES[defect];
  test(`the kit fails a coordinator with defect ${defect} on exactly ${expected.join(', ')}`, async () => {
    const sut = await startSut(['--import', 'tsx', 'test/conformance/defective-coordinator.ts', '--defect', defect]);
    try {
      // The kit's tests mostly wait on protocol timeouts: more at once cut the wall time.
      const report = await runSuite({ url: sut.url, token: sut.token, level: 'MUST', concurrency: 8 });
      const failed = failedRequirements(report);
      const detail = report.tests.filter((t) => t.status === 'fail').map((t) => `${t.requirement}: ${t.message}`).join('\n');
      assert.deepEqual(failed.sort(), [...expected].sort(), `failed requirements:\n${detail}`);
    } finally {
      await sut.stop();
    }
  });
}
