import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers/coordinator.ts';
import { runCrashLoops } from '../helpers/crash-loop.ts';
import { recordFigures } from '../helpers/figures.ts';

const LOOPS = Number(process.env.OWP_CRASH_LOOPS ?? 4);

test(`coordinator SIGKILLed at random moments under load (${LOOPS} loops): nothing acknowledged is lost, invariants hold`, async () => {
  const dir = tempDir('owp-crash-');
  try {
    const figures = await runCrashLoops(dir, LOOPS);
    recordFigures('crash-loops', { ...figures, violations: figures.violations.length });
    assert.deepEqual(figures.violations, []);
    assert.equal(figures.loops, LOOPS);
    assert.ok(figures.acknowledged_changes_checked > LOOPS * 5, `only ${figures.acknowledged_changes_checked} acknowledged changes were checked`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
