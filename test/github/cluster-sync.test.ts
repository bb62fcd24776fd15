/**
 * The GitHub sync on a cluster, against the GitHub-shaped server: the leader alone runs it;
 * webhooks that reach a follower are passed on to the leader; delivery ids are recorded in
 * PostgreSQL, so after the leader is SIGKILLed and a standby takes over, a redelivery is still
 * recognised and not applied twice; and the new leader continues from the sync state the old one
 * saved (it closes the task of an issue the old leader linked). Without the delivery log in the
 * database the redelivery after the takeover is taken as new (test:defects github-deliveries-in-memory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { HttpClient } from '../../client/http-client.ts';
import { newToken } from '../../coordinator/auth.ts';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startCluster, type ClusterNodeProcess } from '../helpers/cluster.ts';
import { waitUntilAsync } from '../helpers/cluster-failover.ts';
import '../helpers/postgres.ts';

const REPO = 'acme/site';
const SECRET = 'cluster-webhook-secret';

/** Posts a delivery as GitHub does (signed over the exact body); returns the status and the answer. */
async function deliver(url: string, id: string, event: string, body: string): Promise<{ status: number; data: Record<string, unknown> | undefined }> {
  const res = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  const answer = (await res.json()) as { data?: Record<string, unknown> };
  return { status: res.status, data: answer.data };
}

test('cluster: the GitHub sync runs on the leader, webhooks reach it through a follower, and a takeover neither forgets a delivery nor the issue links', async () => {
  const gh = await startFakeGitHub({ tokens: [{ token: 'ghp_cluster_token', login: 'owp-bot', permissions: { issues: 'write', pull_requests: 'read' } }], repos: [REPO] });
  const dir = tempDir('owp-cluster-gh-');
  const token = newToken('maintainer');
  process.env.OWP_TEST_CLUSTER_GH_TOKEN = 'ghp_cluster_token';
  process.env.OWP_TEST_CLUSTER_GH_SECRET = SECRET;
  const config = [
    'sweep_interval_ms: 50',
    'github:',
    `  api_url: ${gh.url}`,
    '  token_env: OWP_TEST_CLUSTER_GH_TOKEN',
    '  webhook_secret_env: OWP_TEST_CLUSTER_GH_SECRET',
    '  poll_interval_ms: 0',
    '  repos:',
    `    - repo: ${REPO}`,
    '',
  ].join('\n');
  const cluster = await startCluster({ dir, token, nodes: 2, config });
  try {
    const { node: leader, term } = await cluster.waitForLeader(0, 60_000);
    const follower = cluster.nodes.find((n) => n.id !== leader.id) as ClusterNodeProcess;
    const viaF = new HttpClient({ baseUrl: follower.url, token, timeoutMs: 30_000 });
    // The leader connected the repo when the sync started on it.
    assert.ok(await waitUntilAsync(async () => (await viaF.callRaw('repo.get', { repo: REPO })).ok, 30_000), 'the leader made the connected repo');

    // GitHub's webhook points at the follower: it passes each delivery on to the leader.
    gh.state.webhooks.hook = { url: `${follower.url}/webhooks/github`, secret: SECRET };
    const first = gh.state.addIssue(REPO, { title: 'Made before the takeover', labels: ['owp'] });
    await gh.state.settled();
    const delivery = gh.state.webhooks.deliveries.at(-1);
    assert.ok(delivery);
    assert.equal(delivery.status, 200, 'the follower answered with the leader\'s 200');
    const tasks = async (): Promise<Array<{ id: string; title: string; state: string }>> => (await viaF.call('task.list', { repo: REPO })).tasks;
    assert.deepEqual((await tasks()).map((t) => t.title), ['Made before the takeover']);
    assert.match(leader.proc.output(), /the sync runs on this node/);
    assert.doesNotMatch(follower.proc.output(), /the sync runs on this node/, 'the follower does not run the sync');

    const again = await deliver(follower.url, delivery.id, delivery.event, delivery.body);
    assert.deepEqual([again.status, again.data?.duplicate], [200, true], 'a redelivery is recognised');

    // The leader dies; the follower takes over, and with it the sync.
    await leader.proc.stop('SIGKILL');
    const next = await cluster.waitForLeader(term, 30_000);
    assert.equal(next.node.id, follower.id);
    assert.ok(await waitUntilAsync(async () => /the sync runs on this node/.test(follower.proc.output()), 30_000), 'the new leader runs the sync');

    const afterTakeover = await deliver(follower.url, delivery.id, delivery.event, delivery.body);
    assert.deepEqual([afterTakeover.status, afterTakeover.data?.duplicate], [200, true], 'the delivery taken before the takeover is recognised after it');
    assert.equal((await tasks()).length, 1, 'and not applied twice');

    // The issue the old leader linked to its task: closing it closes that task on the new leader.
    gh.state.updateIssue(REPO, first, { state: 'closed' });
    gh.state.addIssue(REPO, { title: 'Made after the takeover', labels: ['owp'] });
    await gh.state.settled();
    assert.deepEqual(gh.state.webhooks.deliveries.slice(-2).map((d) => d.status), [200, 200]);
    const now = await tasks();
    assert.deepEqual(now.map((t) => [t.title, t.state]).sort(), [['Made after the takeover', 'ready'], ['Made before the takeover', 'closed']]);
  } finally {
    await cluster.stop();
    await gh.close();
    rmSync(dir, { recursive: true, force: true });
    delete process.env.OWP_TEST_CLUSTER_GH_TOKEN;
    delete process.env.OWP_TEST_CLUSTER_GH_SECRET;
  }
});
