/**
 * The conformance kit (MUST level) against the reference coordinator on PostgreSQL: a three-node
 * cluster with the kit connected to a follower (every change relayed to the leader, notifications
 * through socket.io's PostgreSQL adapter), and a single node on PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { failedRequirements, runSuite } from '../../conformance/runner.ts';
import { newToken } from '../../coordinator/auth.ts';
import { DEFAULT_CLUSTER } from '../../coordinator/cluster/node.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startCluster } from '../helpers/cluster.ts';
import '../helpers/postgres.ts';

for (const nodes of [3, 1]) {
  test(`conformance kit: ${nodes === 3 ? 'a three-node cluster, the kit connected to a follower' : 'a single node on PostgreSQL'}`, async () => {
    const dir = tempDir('owp-conf-');
    const token = newToken('maintainer');
    // The kit registers a worker or more per test from one address, past the default registration limits.
    const config = 'sweep_interval_ms: 50\nrate_limits:\n  register: { per_second: 0, burst: 0 }\n  register_total: { per_second: 0, burst: 0 }\n';
    // The kit tests the protocol, not failover (cluster-failover does): the nodes keep the product's
    // lease (5 s, renewed every second), so a loaded machine that holds up the database for a second
    // or two does not make the leader step down in the middle of the kit, as the short lease of the
    // failover tests (1.5 s) once did under the full suite.
    const cluster = await startCluster({ dir, token, nodes, config, leaseMs: DEFAULT_CLUSTER.leaseMs, renewIntervalMs: DEFAULT_CLUSTER.renewIntervalMs });
    try {
      const { node: leader } = await cluster.waitForLeader(0, 60_000);
      const target = nodes > 1 ? cluster.nodes.find((n) => n.id !== leader.id) : leader;
      assert.ok(target);
      if (nodes > 1) assert.equal((await cluster.status(target))?.leader, false, 'the kit talks to a follower');
      const report = await runSuite({ url: target.url, token, level: 'MUST', concurrency: 8 });
      const detail = report.tests.filter((t) => t.status === 'fail').map((t) => `${t.requirement}: ${t.message}`).join('\n');
      // On a failure, what each node said about leading (a step-down, a takeover) goes with it.
      assert.deepEqual(failedRequirements(report), [], `failed requirements:\n${detail}\nthe nodes on leading:\n${cluster.leadingLog()}`);
      assert.ok(report.tests.filter((t) => t.status === 'pass').length > 80);
    } finally {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
