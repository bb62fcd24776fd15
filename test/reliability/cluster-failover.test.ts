/**
 * Failovers at full size (`npm run test:reliability` sets OWP_FAILOVERS): a three-node cluster on a
 * real PostgreSQL under load, its leader SIGKILLed, SIGSTOPped or cut from the database at random
 * moments, many times. `npm test` runs three: one of each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers/coordinator.ts';
import { runFailovers, type Fault } from '../helpers/cluster-failover.ts';
import { recordFigures } from '../helpers/figures.ts';
import '../helpers/postgres.ts';

const FAILOVERS = Number(process.env.OWP_FAILOVERS ?? 3);

test(`cluster: ${FAILOVERS} failovers under load (SIGKILL, SIGSTOP, database link cut, at random): a standby leads each time, nothing acknowledged is lost, invariants hold across terms`, async () => {
  const dir = tempDir('owp-ha-');
  const kinds: Fault[] = ['kill', 'stop', 'cut'];
  // Every kind at least once, then at random.
  const faults = Array.from({ length: FAILOVERS }, (_, i) => (i < kinds.length ? kinds[i] : kinds[Math.floor(Math.random() * kinds.length)]) as Fault);
  try {
    const figures = await runFailovers({ dir, faults, workers: 6 });
    const sorted = [...figures.takeover_ms].sort((a, b) => a - b);
    recordFigures('cluster-failover', { ...figures, takeover_ms: undefined, takeover_p50_ms: sorted[Math.floor(sorted.length / 2)] ?? null, takeover_max_ms: sorted.at(-1) ?? null, violations: figures.violations.length, first_violations: figures.violations.slice(0, 5) });
    assert.deepEqual(figures.violations.slice(0, 5), []);
    assert.equal(figures.failovers, FAILOVERS);
    assert.ok(figures.terms > FAILOVERS, `each failover took a new term: ${figures.terms} terms`);
    assert.ok(figures.acknowledged.prs >= FAILOVERS, `PRs were acknowledged throughout: ${JSON.stringify(figures.acknowledged)}`);
    if (FAILOVERS >= 20) assert.ok(figures.leases_resumed > 0, 'some leases were kept across a takeover and finished after it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
