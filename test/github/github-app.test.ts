/**
 * The coordinator as a GitHub App (issue 15): JWT-authenticated App calls, installation tokens
 * minted, refreshed when GitHub refuses an expired one (nothing lost), the installation's repos
 * discovered and followed as they change (installation_repositories), status comments written as
 * `<slug>[bot]`, and a stranger's comment carrying the status marker never adopted.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { until } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool } from '../helpers/github-pool.ts';
import { STATUS_MARKER } from '../../coordinator/github/status-comments.ts';
import { changeInstallationRepos, suspendInstallation, uninstallApp } from '../../cli/demo/github/installation-events.ts';
import { GATES } from '../helpers/coordinator.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const APP = { id: 4242, slug: 'owp-app', privateKey: keys.privateKey, publicKey: keys.publicKey, installationId: 77 };

describe('the coordinator as a GitHub App', () => {
  test('issues become tasks through an installation token; comments are the bot\'s; a stranger\'s marker comment is left alone', async () => {
    const g = await startGitHubPool({ app: APP });
    try {
      const s = g.gh.state;
      const n = s.addIssue(REPO, { title: 'App route', labels: ['owp'] });
      // Someone pastes the marker first: it must not become the coordinator's comment.
      s.addComment(s.repo(REPO), s.issue(REPO, n), 'mallory', `${STATUS_MARKER}\nI am not the coordinator`);
      await g.poll();
      const tasks = (await g.pool.admin.call('task.list', { repo: REPO })).tasks;
      assert.equal(tasks.length, 1);
      assert.ok(s.requests.some((r) => r.method === 'POST' && r.path === `/app/installations/${APP.installationId}/access_tokens` && r.status === 201), 'an installation token was minted');
      assert.ok(s.requests.some((r) => r.path === '/app' && r.status === 200), 'the App asked who it is');
      const issueReads = s.requests.filter((r) => r.path === '/repos/acme/site/issues');
      assert.ok(issueReads.length > 0 && issueReads.every((r) => r.login === 'owp-app[bot]'), JSON.stringify(issueReads.map((r) => r.login)));

      const alice = await g.volunteer('alice');
      const offer = await until(() => [...alice.worker.offers.values()][0], 'an offer');
      await alice.worker.accept(offer.offer_id);
      await g.settled();
      const marked = await until(() => {
        const c = s.commentsOn(REPO, n).filter((x) => x.body.startsWith(STATUS_MARKER));
        return c.length === 2 ? c : undefined;
      }, 'the coordinator writes its own status comment');
      assert.equal(marked[0]?.user, 'mallory');
      assert.match(marked[0]?.body ?? '', /I am not the coordinator/, 'the stranger\'s comment is untouched');
      assert.equal(marked[1]?.user, 'owp-app[bot]');
    } finally {
      await g.close();
    }
  });

  test('an installation token that expires mid-run is refreshed on the 401 and nothing is lost', async () => {
    const g = await startGitHubPool({ app: APP });
    try {
      const s = g.gh.state;
      s.addIssue(REPO, { title: 'Before', labels: ['owp'] });
      await g.poll();
      const minted = (): number => s.requests.filter((r) => r.path.endsWith('/access_tokens') && r.status === 201).length;
      assert.equal(minted(), 1);
      s.apps.expireTokens();
      s.addIssue(REPO, { title: 'After', labels: ['owp'] });
      await g.poll();
      assert.ok(s.requests.some((r) => r.status === 401 && r.path.startsWith('/repos/acme/site')), 'GitHub refused the expired token');
      assert.equal(minted(), 2, 'a new token was minted once');
      const titles = (await g.pool.admin.call('task.list', { repo: REPO })).tasks.map((t) => t.title).sort();
      assert.deepEqual(titles, ['After', 'Before']);
    } finally {
      await g.close();
    }
  });

  test('a repository added to the installation is followed without a restart (installation_repositories)', async () => {
    const g = await startGitHubPool({ app: APP, webhooks: true, fake: { repos: [{ full_name: REPO }, { full_name: 'acme/docs' }] } });
    try {
      const s = g.gh.state;
      s.addIssue('acme/docs', { title: 'Docs task', labels: ['owp'] });
      await g.poll();
      assert.equal((await g.pool.admin.call('repo.list', {})).repos.some((r) => r.settings.repo === 'acme/docs'), false, 'not installed there yet');
      changeInstallationRepos(s, APP.installationId, { add: ['acme/docs'] });
      await g.settled();
      const t = await until(async () => (await g.pool.admin.call('task.list', { repo: 'acme/docs' })).tasks[0], 'the new repo\'s issue becomes a task');
      assert.equal(t.title, 'Docs task');
      assert.ok(s.deliveries.some((d) => d.event === 'installation_repositories' && d.status === 200));
      // Removed again: no longer followed (its tasks stay).
      changeInstallationRepos(s, APP.installationId, { remove: ['acme/docs'] });
      await g.settled();
      await until(() => g.integration.context.repo('acme/docs') === undefined, 'acme/docs is no longer followed');
    } finally {
      await g.close();
    }
  });

  test('the App uninstalled: its repos are let go at once (the delivery answers 200, no failing polls), the repo status says so, and PR reports are refused as unverifiable', async () => {
    const g = await startGitHubPool({ app: APP, webhooks: true });
    try {
      const s = g.gh.state;
      s.addIssue(REPO, { title: 'Before the uninstall', labels: ['owp'] });
      await g.poll();
      const alice = await g.volunteer('alice');
      const offer = await until(() => [...alice.worker.offers.values()][0], 'an offer');
      const { lease } = await alice.worker.accept(offer.offer_id);
      const pr = await alice.openPr(offer.task);

      uninstallApp(s, APP.installationId, 'acme');
      await g.settled();
      const delivery = s.deliveries.find((d) => d.event === 'installation' && d.action === 'deleted');
      assert.equal(delivery?.status, 200, 'answered 200: GitHub has nothing to redeliver');
      await until(() => g.integration.context.repo(REPO) === undefined, 'acme/site is no longer followed');
      const repo = await g.pool.admin.call('repo.get', { repo: REPO });
      assert.equal(repo.settings.source?.disconnected?.reason, 'app_uninstalled');
      assert.equal(repo.settings.source?.disconnected?.installation_id, APP.installationId);

      // Polls ask GitHub nothing more about the gone installation (no 401/404 loop).
      const before = s.requests.length;
      await g.poll();
      await g.poll();
      assert.equal(s.requests.length, before, 'no request after the uninstall');
      assert.ok(!g.logs.some((l) => /"level":50/.test(l) && /sync of acme\/site failed/.test(l)), 'no failing sync');

      // A report cannot be checked with GitHub now: refused, the lease kept, nothing counted.
      await assert.rejects(
        alice.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: pr.url, gates: GATES } }),
        (error: unknown) => (error as { code?: string }).code === 'UNAVAILABLE' && /GitHub App was uninstalled/.test((error as Error).message),
      );
      assert.equal((await g.pool.admin.call('task.get', { task_id: offer.task_id })).task.state, 'leased');
    } finally {
      await g.close();
    }
  });

  test('a suspended installation is let go (403s are not retried on every poll); unsuspended, its repos are followed again and the status clears', async () => {
    const g = await startGitHubPool({ app: APP, webhooks: true });
    try {
      const s = g.gh.state;
      await g.poll();
      suspendInstallation(s, APP.installationId, true, 'acme');
      await g.settled();
      assert.equal(s.deliveries.find((d) => d.event === 'installation' && d.action === 'suspend')?.status, 200);
      await until(() => g.integration.context.repo(REPO) === undefined, 'let go while suspended');
      assert.equal((await g.pool.admin.call('repo.get', { repo: REPO })).settings.source?.disconnected?.reason, 'app_suspended');

      s.addIssue(REPO, { title: 'While suspended', labels: ['owp'] });
      suspendInstallation(s, APP.installationId, false, 'acme');
      await g.settled();
      await until(() => g.integration.context.repo(REPO), 'followed again after unsuspend');
      await g.poll();
      const after = await g.pool.admin.call('repo.get', { repo: REPO });
      assert.equal(after.settings.source?.disconnected, undefined, 'the status no longer says disconnected');
      assert.deepEqual((await g.pool.admin.call('task.list', { repo: REPO })).tasks.map((t) => t.title), ['While suspended']);
    } finally {
      await g.close();
    }
  });

  test('an uninstall missed while the coordinator was down is found on the next discovery: the installation\'s repos are let go', async () => {
    const g = await startGitHubPool({ app: APP });
    try {
      await g.poll();
      // No webhook reaches the coordinator; GitHub simply no longer lists the installation.
      uninstallApp(g.gh.state, APP.installationId, 'acme');
      await (g.integration as unknown as { discover(): Promise<unknown> }).discover();
      assert.equal(g.integration.context.repo(REPO), undefined);
      assert.equal((await g.pool.admin.call('repo.get', { repo: REPO })).settings.source?.disconnected?.reason, 'app_uninstalled');
    } finally {
      await g.close();
    }
  });
});

test('an installation token is refreshed before it expires, from the expires_at GitHub answered', async () => {
  const { startFakeGitHub } = await import('../../cli/demo/github/server.ts');
  const { GitHubApp } = await import('../../coordinator/github/app-auth.ts');
  const gh = await startFakeGitHub({ repos: [REPO], apps: [{ id: APP.id, slug: APP.slug, publicKey: APP.publicKey, installations: [{ id: APP.installationId, account: 'acme', repositories: [REPO] }] }] });
  try {
    let clock = Date.now();
    const app = new GitHubApp({ apiUrl: gh.url, appId: APP.id, privateKey: APP.privateKey, now: () => clock });
    const tokens = app.tokensOf(APP.installationId);
    const first = await tokens.token();
    clock += 50 * 60_000;
    assert.equal(await tokens.token(), first, 'ten minutes left: still good');
    clock += 6 * 60_000;
    const second = await tokens.token();
    assert.notEqual(second, first, 'four minutes left (under the 5-minute margin): a new one');
    assert.equal(tokens.minted, 2);
    const client = await app.clientOf(APP.installationId);
    assert.equal(await client.viewerLogin(), 'owp-app[bot]');
  } finally {
    await gh.close();
  }
});
