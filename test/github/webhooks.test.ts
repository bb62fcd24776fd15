import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign, verify } from '@octokit/webhooks-methods';
import { FileSyncStateStore, SyncState } from '../../coordinator/github/sync-state.ts';
import { until } from '../helpers/coordinator.ts';
import { REPO, WEBHOOK_SECRET, startGitHubPool } from '../helpers/github-pool.ts';

// GitHub's published test vector (docs: "Validating webhook deliveries").
const VECTOR = {
  secret: 'It\'s a Secret to Everybody',
  payload: 'Hello, World!',
  signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
};

function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/webhooks/github`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

describe('GitHub webhooks', () => {
  test('GitHub\'s published signature test vector verifies', async () => {
    assert.equal(await sign(VECTOR.secret, VECTOR.payload), VECTOR.signature);
    assert.equal(await verify(VECTOR.secret, VECTOR.payload, VECTOR.signature), true);
    assert.equal(createHmac('sha256', VECTOR.secret).update(VECTOR.payload).digest('hex'), VECTOR.signature.slice('sha256='.length));
  });

  test('a missing or bad X-Hub-Signature-256 is refused; the vector\'s signature is accepted', async () => {
    assert.equal(WEBHOOK_SECRET, VECTOR.secret, 'the pool uses the vector\'s secret');
    const g = await startGitHubPool();
    try {
      const url = g.pool.url;
      const headers = { 'x-github-event': 'issues', 'x-github-delivery': 'vector-1' };
      const missing = await post(url, VECTOR.payload, headers);
      assert.equal(missing.status, 401);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
      const bad = await post(url, VECTOR.payload, { ...headers, 'x-hub-signature-256': VECTOR.signature.replace(/.$/, '0') });
      assert.equal(bad.status, 401);
      const tampered = await post(url, 'Hello, World?', { ...headers, 'x-hub-signature-256': VECTOR.signature });
      assert.equal(tampered.status, 401);
      const sha1Only = await post(url, VECTOR.payload, { ...headers, 'x-hub-signature': `sha1=${createHmac('sha1', VECTOR.secret).update(VECTOR.payload).digest('hex')}` });
      assert.equal(sha1Only.status, 401, 'the SHA-1 signature alone is not enough');
      assert.equal(Object.keys(g.integration.context.state.data.deliveries).length, 0, 'unsigned requests leave no trace in the delivery log');
      // The right signature passes the check; "Hello, World!" is then refused only for not being JSON.
      const signed = await post(url, VECTOR.payload, { ...headers, 'x-hub-signature-256': VECTOR.signature });
      assert.equal(signed.status, 400);
      assert.match(((await signed.json()) as { error: { message: string } }).error.message, /not JSON/);
      const get = await fetch(`${url}/webhooks/github`);
      assert.equal(get.status, 405);
    } finally {
      await g.close();
    }
  });

  test('a replayed delivery is ignored, and delivery ids survive a restart', async () => {
    const g = await startGitHubPool({ webhooks: true, store: 'lowdb' });
    try {
      const s = g.gh.state;
      const n = s.addIssue(REPO, { title: 'Webhook me', labels: ['owp'] });
      await g.settled();
      await until(async () => (await g.pool.admin.call('task.list', { repo: REPO })).tasks.length === 1, 'task from the webhook');
      const opened = s.deliveries.find((d) => d.event === 'issues' && d.action === 'opened');
      assert.ok(opened);
      assert.equal(opened.status, 200);

      s.updateIssue(REPO, n, { labels: [] });
      await g.settled();
      const [cancelled] = (await g.pool.admin.call('task.list', { repo: REPO })).tasks;
      assert.equal(cancelled?.state, 'closed');
      // Relabel without a delivery: only the replay below reaches the coordinator.
      const hook = s.webhook;
      s.webhook = undefined;
      s.updateIssue(REPO, n, { labels: ['owp'] }, 'maintainer-mo');
      s.webhook = hook;

      const before = s.requests.length;
      await s.redeliver(opened.id);
      const replay = s.deliveries.at(-1);
      assert.equal(replay?.id, opened.id);
      assert.equal(replay?.status, 200);
      await g.settled();
      assert.equal(s.requests.length, before, 'the replay made the coordinator do nothing, not even ask GitHub');
      assert.equal((await g.pool.admin.call('task.list', { repo: REPO })).tasks.length, 1, 'no task from the replay');
      assert.ok(g.logs.some((l) => l.includes(`delivery ${opened.id} (issues) seen before; ignored`)));

      // The log is on disk: a restarted coordinator still knows the id.
      assert.ok(g.stateFile);
      const reloaded = new SyncState(new FileSyncStateStore(g.stateFile));
      assert.ok(Object.hasOwn(reloaded.data.deliveries, opened.id));
    } finally {
      await g.close();
    }
  });

  test('the delivery log is durable and bounded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owp-deliveries-'));
    try {
      const path = join(dir, 'github-sync.json');
      const first = new SyncState(new FileSyncStateStore(path));
      assert.equal(await first.firstDelivery('d-1', 1000), true);
      assert.equal(await first.firstDelivery('d-1', 1001), false);
      assert.ok(existsSync(path));
      const reopened = new SyncState(new FileSyncStateStore(path));
      assert.equal(await reopened.firstDelivery('d-1', 2000), false, 'seen before the restart');
      // Ids older than a week are dropped.
      assert.equal(await reopened.firstDelivery('d-2', 8 * 24 * 3_600_000), true);
      assert.equal(Object.hasOwn(reopened.data.deliveries, 'd-1'), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
