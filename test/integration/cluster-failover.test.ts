/**
 * A three-node cluster on a real PostgreSQL (helpers/postgres.ts), its leader taken out under load
 * from workers on every node: SIGKILL, SIGSTOP and a cut of its database link, once each here
 * (`npm run test:reliability` runs many: test/reliability/cluster-failover.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers/coordinator.ts';
import { runFailovers } from '../helpers/cluster-failover.ts';
import '../helpers/postgres.ts';

test('cluster: the leader is killed, paused and cut from the database under load; a standby leads each time, nothing acknowledged is lost, no task has two leases across terms', async () => {
  const dir = tempDir('owp-ha-');
  try {
    const figures = await runFailovers({ dir, faults: ['kill', 'stop', 'cut'] });
    assert.deepEqual(figures.violations.slice(0, 5), []);
    assert.equal(figures.failovers, 3);
    assert.ok(figures.acknowledged.leases >= 3 && figures.acknowledged.prs >= 3, `leases and PRs were acknowledged: ${JSON.stringify(figures.acknowledged)}`);
    assert.ok(figures.terms >= 4, `each failover took a new term: ${figures.terms} terms`);
    assert.ok(figures.budget_checks.open_prs_checks > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
