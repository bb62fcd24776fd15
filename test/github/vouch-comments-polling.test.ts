/**
 * `/owp vouch|denounce` comments on a repo connected by polling: read from GitHub's repo-wide
 * comment list (`since` the last poll, conditionally), with the same role check and reply as the
 * webhook, and acted on once per comment however it arrives (webhook, poll, after a restart).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO, startGitHubPool } from '../helpers/github-pool.ts';
import { iso } from '../../cli/demo/github/model.ts';
import { MemorySyncStateStore, SyncState } from '../../coordinator/github/sync-state.ts';

const COMMENTS = `/repos/${REPO}/issues/comments`;

test('polling: a collaborator\'s command is carried out and answered once; a reader is refused; an old comment edited later is history', async () => {
  const g = await startGitHubPool();
  try {
    await g.pool.repo(REPO, { max_open_prs: 5 });
    const s = g.gh.state;
    const repo = s.repo(REPO);
    const issue = s.addIssue(REPO, { title: 'Who may work here' });
    const replies = () => s.commentsOn(REPO, issue).filter((c) => c.user !== 'maintainer-mo' && c.user !== 'stranger').map((c) => c.body);
    const standings = async () => (await g.pool.admin.call('contributor.list', { repo: REPO })).contributors.map((c) => [c.login, c.status]).sort();

    // Written before OWP watched the repo: history, not a command to it.
    const before = s.addComment(repo, s.issueOf(repo, issue), 'maintainer-mo', '/owp denounce @ada long ago');
    before.created_at = before.updated_at = iso(Date.now() - 3_600_000);
    await g.poll();
    assert.deepEqual(await standings(), []);

    s.addComment(repo, s.issueOf(repo, issue), 'stranger', '/owp vouch @stranger');
    s.addComment(repo, s.issueOf(repo, issue), 'maintainer-mo', 'Welcome!\n/owp vouch @ada reviewed her first PRs');
    await g.poll();
    assert.deepEqual(await standings(), [['ada', 'vouched']]);
    assert.equal(replies().length, 2, replies().join('\n'));
    assert.match(replies()[0] ?? '', /@stranger only people with triage rights or more on acme\/site may vouch \(your role: read\)/);
    assert.match(replies()[1] ?? '', /✅ @ada is vouched for in acme\/site \(by @maintainer-mo\)\./);
    const listed = s.requestsTo('GET', COMMENTS);
    assert.ok(listed.length >= 1 && listed.every((r) => r.query.since !== undefined && r.query.sort === 'updated'), 'read with since, oldest update first');

    // The next poll reads OWP's own replies (its since moves past them), the one after asks with
    // that new since once; from then on nothing is new: the same since, answered 304, nothing acted on again.
    await g.poll();
    await g.poll();
    const asked = s.requestsTo('GET', COMMENTS).length;
    await g.poll();
    await g.poll();
    const again = s.requestsTo('GET', COMMENTS).slice(asked);
    assert.ok(again.length >= 1 && again.every((r) => r.status === 304), `unchanged polls are conditional: ${again.map((r) => r.status).join(',')}`);
    assert.equal(replies().length, 2);

    // The old comment edited now comes back in the list but was created before the watermark.
    s.editComment(repo, before, '/owp denounce @ada changed my mind', 'maintainer-mo');
    await g.poll();
    assert.deepEqual(await standings(), [['ada', 'vouched']]);
    assert.equal(replies().length, 2);
  } finally {
    await g.close();
  }
});

test('a comment delivered by webhook is not acted on again by the poll that reads it later', async () => {
  const g = await startGitHubPool({ webhooks: true });
  try {
    await g.pool.repo(REPO, { max_open_prs: 5 });
    const s = g.gh.state;
    const repo = s.repo(REPO);
    const issue = s.addIssue(REPO, { title: 'Who may work here' });
    await g.poll();
    s.addComment(repo, s.issueOf(repo, issue), 'maintainer-mo', '/owp denounce @mallory floods PRs');
    await g.settled();
    await g.poll();
    await g.poll();
    const replies = s.commentsOn(REPO, issue).filter((c) => c.user !== 'maintainer-mo');
    assert.equal(replies.length, 1, replies.map((c) => c.body).join('\n'));
    assert.ok(s.requestsTo('GET', COMMENTS).length >= 1, 'the poll did read the comments');
    const events = (await g.pool.admin.call('journal.read', { repo: REPO })).events.filter((e) => e.type === 'contributor.standing_set');
    assert.equal(events.length, 1);
  } finally {
    await g.close();
  }
});

test('a comment acted on is remembered across a restart; one whose action failed is handed back', async () => {
  const store = new MemorySyncStateStore();
  const first = new SyncState(store);
  const taken = first.takeComment(7, 1000);
  assert.ok(taken);
  assert.equal(first.takeComment(7, 1001), undefined, 'taken while it runs');
  await taken.done();
  assert.equal(new SyncState(store).takeComment(7, 2000), undefined, 'after a restart');
  const failing = first.takeComment(8, 1000);
  failing?.failed();
  assert.ok(first.takeComment(8, 1002), 'a failed one may be tried again');
  const replyFailed = first.takeComment(9, 1000);
  await replyFailed?.done();
  replyFailed?.failed();
  assert.equal(first.takeComment(9, 1003), undefined, 'one that failed after it was recorded (its reply) is not acted on again');
});
