/**
 * Three nodes starting against a slow database (every node's link to PostgreSQL delays each chunk
 * both ways, so a takeover takes longer than the leadership lease): the first node to take the lease
 * keeps it through its slow takeover instead of leading on a lapsed lease and stepping down at once
 * (which let the next node take over, and the next: the cluster flapped while it started, and
 * commands relayed meanwhile failed with "the leader did not answer"). Every node then serves: a
 * worker registers and says hello through one follower, a task made through the other reaches it.
 * Nothing here is timed; the waits are generous bounds for a loaded machine. A node stalled for
 * longer than the lease later on (a loaded machine) rightly steps down, and a command that meets
 * that answers UNAVAILABLE ("retry"): the commands retry as a client does (cluster-failover.ts,
 * `retry`), and what is checked is that no second term came while the cluster started, the
 * flapping a lapsed takeover made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { newToken } from '../../coordinator/auth.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startCluster, type ClusterNodeProcess } from '../helpers/cluster.ts';
import { retry, waitUntilAsync } from '../helpers/cluster-failover.ts';
import '../helpers/postgres.ts';

/** A leader that flapped while starting took its next term within seconds of the first (a lease, then a takeover); well past that, a new term is a stalled node's correct step-down. */
const START_MS = 10_000;

test('cluster: three nodes start on a slow database; the first leader keeps its lease through its takeover and every node serves', async () => {
  const dir = tempDir('owp-cluster-start-');
  const token = newToken('maintainer');
  // 100 ms each way: a round trip stays well inside the 1.5 s lease, but a takeover (its reads, its
  // first commit, new connections) takes about as long as the lease or longer.
  const cluster = await startCluster({ dir, token, nodes: 3, dbDelayMs: 150 });
  const clients: WorkerClient[] = [];
  try {
    const { node: leader, term } = await cluster.waitForLeader(0, 120_000);
    // The start: no second term until START_MS after the first (the database's clock for both).
    for (;;) {
      const [row] = await cluster.query<{ age_ms: string; gap_ms: string | null }>(
        "SELECT (extract(epoch FROM clock_timestamp() - min(started_at)) * 1000)::bigint AS age_ms, (extract(epoch FROM (SELECT started_at FROM owp_terms ORDER BY term OFFSET 1 LIMIT 1) - min(started_at)) * 1000)::bigint AS gap_ms FROM owp_terms",
      );
      const gap = row?.gap_ms === null || row?.gap_ms === undefined ? null : Number(row.gap_ms);
      if (gap !== null) assert.ok(gap >= START_MS, `a second term was taken ${gap} ms after the first: the first leader lost its lease while taking over`);
      if (Number(row?.age_ms) >= START_MS) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const [f1, f2] = cluster.nodes.filter((n) => n.id !== leader.id) as [ClusterNodeProcess, ClusterNodeProcess];
    const ready = async (n: ClusterNodeProcess): Promise<boolean> => (await fetch(`${n.url}/readyz`).catch(() => null))?.status === 200;
    for (const n of cluster.nodes) assert.ok(await waitUntilAsync(() => ready(n), 120_000), `${n.id} is ready`);

    const viaF2 = new HttpClient({ baseUrl: f2.url, token, timeoutMs: 60_000 });
    await retry(() => viaF2.call('repo.configure', { repo: 'start/slow', max_open_prs: 5 }));
    const { token: workerToken } = await retry(() => WorkerClient.register(f1.url, { github_login: 'slow-db', skills: ['ts'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } }));
    const worker = new WorkerClient({ url: f1.url, token: workerToken, requestTimeoutMs: 60_000, retryForMs: 60_000 });
    clients.push(worker);
    await worker.connect();
    const { task } = await retry(() => viaF2.call('task.create', { repo: 'start/slow', title: 'made through the other follower', skills: ['ts'] }));
    assert.ok(await waitUntilAsync(async () => [...worker.offers.values()].some((o) => o.task.id === task.id), 60_000), 'the task is offered to the worker on the other follower');
    const offer = [...worker.offers.values()].find((o) => o.task.id === task.id);
    const lease = await worker.accept(offer?.offer_id as string);
    assert.equal(lease.task.id, task.id);

    // The first term ever taken is the first leader's (no second one came while it started, above).
    const [first] = await cluster.query<{ term: string; holder: string }>('SELECT term, holder FROM owp_terms ORDER BY term LIMIT 1');
    assert.deepEqual([Number(first?.term), first?.holder], [term, leader.id], 'the first term is the one the first leader took');
  } catch (error) {
    // What each node logged says which step of the start went wrong.
    console.error(cluster.leadingLog());
    throw error;
  } finally {
    for (const c of clients) c.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
