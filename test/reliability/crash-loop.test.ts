import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/coordinator.ts';
import { runCrashLoops } from '../helpers/crash-loop.ts';
import { recordFigures } from '../helpers/figures.ts';
import { mountLossyFs } from '../helpers/lossyfs.ts';

const LOOPS = Number(process.env.OWP_CRASH_LOOPS ?? 4);

test(`coordinator SIGKILLed and its disk power-failed at random moments under load (${LOOPS} loops): nothing acknowledged is lost, invariants hold`, async () => {
  const fs = await mountLossyFs();
  const dir = tempDir('owp-crash-');
  try {
    const figures = await runCrashLoops({ dir, dataDir: join(fs.mountpoint, 'data'), loops: LOOPS, fs });
    recordFigures('crash-loops', { ...figures, violations: figures.violations.length, first_violations: figures.violations.slice(0, 5) });
    assert.deepEqual(figures.violations.slice(0, 5), []);
    assert.equal(figures.loops, LOOPS);
    assert.equal(figures.power_failures, LOOPS, 'every kill was followed by a power failure');
    assert.ok(figures.acknowledged.leases >= LOOPS && figures.acknowledged.prs >= LOOPS, `every loop acknowledged leases and PRs: ${JSON.stringify(figures.acknowledged)}`);
    assert.ok(figures.acknowledged_changes_checked >= figures.acknowledged.tasks + figures.acknowledged.leases + figures.acknowledged.prs);
    assert.ok(figures.budget_checks.hourly_at_limit > 0, 'the hourly budget was binding at least once');
    // At full size the loops must really land inside writes, or they prove little about fsync.
    if (LOOPS >= 50) {
      assert.ok(figures.kills_inside_write >= LOOPS / 4, `only ${figures.kills_inside_write} of ${LOOPS} kills landed inside a write`);
      assert.ok(figures.torn_tails_recovered > 0, 'some power failures tore the journal, and the coordinator said it cut the torn tail');
    }
  } finally {
    await fs.unmount();
    rmSync(dir, { recursive: true, force: true });
  }
});
