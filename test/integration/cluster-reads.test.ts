/**
 * Reads a follower answers from its own copy (coordinator/cluster/follower-reads.ts), on real
 * processes: they answer what the leader answers, scoped the same for every principal; a client
 * reads its own writes; and a copy that cannot catch up (its database link blackholed, and its link
 * to the leader down while changes are made, so they are not pushed to it either) never gives
 * a stale answer or honours a revoked token: the read goes to the leader, which resolves the token
 * again; the leader's pushes over the relay link move a copy whose database link is silent.
 * Without the read index the follower answers from its stale copy (test:defects
 * follower-read-no-index); without the leader's token check a revoked token still reads through a
 * lagging follower (test:defects relay-stale-principal); without the push a copy cut from its
 * database hands every read to the leader (test:defects no-durable-push).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { HttpClient } from '../../client/http-client.ts';
import { newToken } from '../../coordinator/auth.ts';
import { DEFAULT_CLUSTER } from '../../coordinator/cluster/node.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startCluster, type ClusterNodeProcess } from '../helpers/cluster.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitUntilAsync } from '../helpers/cluster-failover.ts';
import '../helpers/postgres.ts';

async function followerReads(node: ClusterNodeProcess, token: string): Promise<{ copy: number; leader: number }> {
  const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const count = (served: string): number => Number(new RegExp(`^owp_cluster_follower_reads_total\\{served="${served}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { copy: count('copy'), leader: count('leader') };
}

test('cluster: a follower answers reads from its copy as the leader would, reads your writes, and hands a read to the leader rather than answer stale', async () => {
  const dir = tempDir('owp-reads-');
  const token = newToken('maintainer');
  // Reads, not failover: the nodes keep the product's lease (5 s, renewed every second), so a loaded
  // machine does not make the leader step down in the middle (cluster-failover has the short one).
  const cluster = await startCluster({ dir, token, nodes: 2, ingress: true, leaseMs: DEFAULT_CLUSTER.leaseMs, renewIntervalMs: DEFAULT_CLUSTER.renewIntervalMs });
  try {
    const { node: leader } = await cluster.waitForLeader(0, 60_000);
    const follower = cluster.nodes.find((n) => n.id !== leader.id) as ClusterNodeProcess;
    const viaF = new HttpClient({ baseUrl: follower.url, token, timeoutMs: 30_000 });
    const viaL = new HttpClient({ baseUrl: leader.url, token, timeoutMs: 30_000 });

    // Which node leads, as every node sees it; the leader reports each follower's lag.
    const metricsOf = async (node: ClusterNodeProcess): Promise<string> => (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    for (const node of [leader, follower]) assert.match(await metricsOf(node), new RegExp(`^owp_cluster_leader_info\\{node="${leader.id}"\\} 1$`, 'm'), `${node.id} names the leader`);
    assert.ok(await waitUntilAsync(async () => new RegExp(`^owp_cluster_follower_lag_seconds\\{node="${follower.id}"\\} 0$`, 'm').test(await metricsOf(leader)), 10_000), 'the leader reports the follower\'s lag');

    // Writes through the follower, read back through it at once: its own writes, from its copy.
    await viaF.call('repo.configure', { repo: 'reads/a', max_open_prs: 2 });
    await viaF.call('repo.configure', { repo: 'reads/b', max_open_prs: 2 });
    const a = (await viaF.call('task.create', { repo: 'reads/a', title: 'in a', skills: ['ts'] })).task;
    const b = (await viaF.call('task.create', { repo: 'reads/b', title: 'in b', skills: ['ts'] })).task;
    const before = await followerReads(follower, token);
    assert.equal((await viaF.call('task.get', { task_id: a.id })).task.title, 'in a');
    assert.equal((await viaF.call('repo.get', { repo: 'reads/b' })).settings.max_open_prs, 2);
    const after = await followerReads(follower, token);
    assert.equal(after.copy - before.copy, 2, 'both reads were answered from the follower\'s copy');

    // Scoped the same on both nodes: a maintainer of reads/a only, a worker, an anonymous caller.
    const scoped = await viaF.call('maintainer.create', { name: 'a only', repos: ['reads/a'] });
    const { token: workerToken } = await new HttpClient({ baseUrl: follower.url, timeoutMs: 30_000 }).call('worker.register', { github_login: 'reader', skills: ['ts'], capacity: 1, tools: [], capabilities: { can_run_tests: true, can_open_prs: true } });
    for (const who of [scoped.token, workerToken, undefined]) {
      const onF = new HttpClient({ baseUrl: follower.url, timeoutMs: 30_000, ...(who ? { token: who } : {}) });
      const onL = new HttpClient({ baseUrl: leader.url, timeoutMs: 30_000, ...(who ? { token: who } : {}) });
      for (const [name, params] of [['task.list', {}], ['repo.list', {}], ['task.get', { task_id: b.id }], ['task.get', { task_id: a.id }], ['repo.get', { repo: 'reads/b' }], ['task.explain', { task_id: a.id }], ['metrics.get', { repo: 'reads/b' }]] as const) {
        const [f, l] = [await onF.callRaw(name, params), await onL.callRaw(name, params)];
        assert.deepEqual(f.ok ? { ok: true, data: f.data } : { ok: false, code: f.error.code }, l.ok ? { ok: true, data: l.data } : { ok: false, code: l.error.code }, `${name} ${JSON.stringify(params)} for ${who?.slice(0, 5) ?? 'anonymous'}: the follower answers as the leader`);
      }
    }
    const scopedList = (await new HttpClient({ baseUrl: follower.url, token: scoped.token }).call('task.list', {})).tasks;
    assert.deepEqual(scopedList.map((t) => t.repo), ['reads/a'], 'the scoped maintainer sees only its repo through the follower');

    // The follower's copy cannot move: its database link is silent, and its link to the leader
    // (which carries each commit's events) is down while changes are made on the leader. Those
    // changes are still what a read through the follower answers once the link is back.
    follower.db.blackhole();
    // The leader pushes each commit over the relay link: the follower's copy moves without its database.
    const pushed = (await viaL.call('task.create', { repo: 'reads/a', title: 'pushed while the database link is silent' })).task;
    const beforePush = await followerReads(follower, token);
    assert.equal((await viaF.call('task.get', { task_id: pushed.id })).task.title, 'pushed while the database link is silent');
    const afterPush = await followerReads(follower, token);
    assert.deepEqual([afterPush.copy - beforePush.copy, afterPush.leader - beforePush.leader], [1, 0], 'answered from the copy the push moved on');
    (leader.ingress as TcpProxy).cut();
    const c = (await viaL.call('task.create', { repo: 'reads/a', title: 'made while the follower is cut off' })).task;
    await viaL.call('maintainer.revoke', { maintainer_id: scoped.maintainer.id });
    (leader.ingress as TcpProxy).restore();
    assert.equal((await viaF.call('task.get', { task_id: c.id })).task.title, 'made while the follower is cut off');
    const revoked = await new HttpClient({ baseUrl: follower.url, token: scoped.token, timeoutMs: 30_000 }).callRaw('task.list', {});
    assert.equal(revoked.ok ? 'answered' : revoked.error.code, 'UNAUTHENTICATED', `a token revoked on the leader reads nothing through a lagging follower: ${JSON.stringify(revoked)}`);
    const handed = await followerReads(follower, token);
    assert.ok(handed.leader >= 1, `the follower handed the reads to the leader (${JSON.stringify(handed)})`);
    follower.db.restore();

    // Caught up again, it answers from its copy.
    const listed = await viaF.call('task.list', { repo: 'reads/a' });
    assert.ok(listed.tasks.some((t) => t.id === c.id));
  } catch (error) {
    if (error instanceof Error) error.message += `\nthe nodes on leading:\n${cluster.leadingLog()}`;
    throw error;
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
