/**
 * Signed deliveries for every event the coordinator follows, as the GitHub-shaped server sends
 * them (X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256): each is accepted when signed with
 * the secret, and the very same body is refused (401) when signed with another; a repo with its own
 * secret (token route) takes only deliveries signed with it.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { GATES, nextOffer } from '../helpers/coordinator.ts';
import { REPO, WEBHOOK_SECRET, startGitHubPool } from '../helpers/github-pool.ts';
import { changeInstallationRepos } from '../../cli/demo/github/installation-events.ts';

const EVENTS = ['issues', 'issue_comment', 'pull_request', 'push', 'check_run', 'check_suite', 'status', 'installation_repositories'];

async function post(url: string, event: string, body: string, secret: string): Promise<number> {
  const res = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await sign(secret, body) },
  });
  await res.body?.cancel();
  return res.status;
}

describe('signed webhook deliveries', () => {
  test('every followed event arrives signed and is taken; the same body under another secret is refused', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const app = { id: 4242, slug: 'owp-app', privateKey: keys.privateKey, publicKey: keys.publicKey, installationId: 77 };
    const g = await startGitHubPool({ app, webhooks: true, fake: { repos: [{ full_name: REPO }, { full_name: 'acme/docs' }] } });
    try {
      await g.pool.repo(REPO, { required_checks: ['build'] });
      const s = g.gh.state;
      const n = s.addIssue(REPO, { title: 'Signed', labels: ['owp'] });
      s.addComment(s.repo(REPO), s.issue(REPO, n), 'maintainer-mo', 'Go ahead');
      await g.poll();
      const alice = await g.volunteer('alice');
      const offer = await nextOffer(alice.worker);
      const { lease } = await alice.worker.accept(offer.offer_id);
      const pr = await alice.openPr(offer.task);
      await alice.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: pr.url, gates: GATES } });
      s.pushFiles(REPO, pr.branch, { 'a.md': 'a\n' }, { author: 'alice' });
      const head = s.repo(REPO).branches.get(pr.branch)?.at(-1)?.sha as string;
      s.ci.addCheckRun(REPO, { head_sha: head, name: 'build', conclusion: 'success' });
      s.ci.setStatus(REPO, head, { context: 'lint', state: 'success' });
      changeInstallationRepos(s, app.installationId, { add: ['acme/docs'] });
      await g.settled();
      for (const event of EVENTS) {
        const sent = s.deliveries.filter((d) => d.event === event);
        assert.ok(sent.length > 0, `the server sent ${event}`);
        assert.ok(sent.every((d) => d.status === 200), `${event}: ${JSON.stringify(sent.map((d) => [d.status, d.error]))}`);
        const body = (sent[0] as { body: string }).body;
        assert.equal(await post(g.pool.url, event, body, 'not the secret'), 401, `${event} signed with another secret`);
        assert.equal(await post(g.pool.url, event, body, WEBHOOK_SECRET), 200, `${event} signed again with the secret (a new delivery id)`);
      }
      assert.equal((await g.pool.admin.call('task.get', { task_id: offer.task_id })).task.state, 'pr_opened', 'the CI events counted the PR');
    } finally {
      await g.close();
    }
  });

  test('a repo with its own secret takes only deliveries signed with it', async () => {
    const g = await startGitHubPool({ repoWebhookSecret: 'acme-site-only' });
    try {
      const body = (repo: string): string => JSON.stringify({ action: 'opened', issue: { number: 1 }, repository: { full_name: repo } });
      assert.equal(await post(g.pool.url, 'issues', body(REPO), 'acme-site-only'), 200);
      assert.equal(await post(g.pool.url, 'issues', body(REPO), WEBHOOK_SECRET), 401, 'the section\'s secret does not speak for a repo with its own');
      assert.equal(await post(g.pool.url, 'issues', body('acme/other'), 'acme-site-only'), 401, 'acme/site\'s secret does not speak for another repo');
      assert.equal(await post(g.pool.url, 'issues', body('acme/other'), WEBHOOK_SECRET), 200);
    } finally {
      await g.close();
    }
  });
});
