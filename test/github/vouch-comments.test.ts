/**
 * `/owp vouch @login` and `/owp denounce @login reason` as comments on a connected repo (webhook
 * issue_comment), accepted only from people with triage rights or more (the collaborator
 * permission API), carried out as contributor.vouch / contributor.denounce and answered in a reply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOT_LOGIN, BOT_TOKEN, REPO, startGitHubPool } from '../helpers/github-pool.ts';
import { parseVouchCommand } from '../../coordinator/github/vouch-comments.ts';

test('the command is the first /owp vouch|denounce @login line; anything else is no command', () => {
  assert.deepEqual(parseVouchCommand('Thanks!\n/owp vouch @ada-l  reviewed her PRs \nmore'), { action: 'vouch', login: 'ada-l', reason: 'reviewed her PRs' });
  assert.deepEqual(parseVouchCommand('/owp denounce @spam-bot floods PRs'), { action: 'denounce', login: 'spam-bot', reason: 'floods PRs' });
  assert.equal(parseVouchCommand('please /owp vouch @ada'), undefined, 'only at the start of a line');
  assert.equal(parseVouchCommand('/owp vouch @-bad'), undefined);
  assert.equal(parseVouchCommand('/owp vouch ada'), undefined, 'the login needs its @');
});

test('a collaborator vouches and denounces by comment; anyone else is refused in a reply and nothing changes', async () => {
  const g = await startGitHubPool({ webhooks: true });
  try {
    await g.pool.repo(REPO, { max_open_prs: 5 });
    const s = g.gh.state;
    const issue = s.addIssue(REPO, { title: 'Who may work here' });
    const repo = s.repo(REPO);
    const replies = () => s.commentsOn(REPO, issue).filter((c) => c.user !== 'maintainer-mo' && c.user !== 'stranger').map((c) => c.body);
    const standings = async () => (await g.pool.admin.call('contributor.list', { repo: REPO })).contributors.map((c) => [c.login, c.status]);

    s.addComment(repo, s.issueOf(repo, issue), 'stranger', '/owp vouch @stranger');
    await g.settled();
    assert.deepEqual(await standings(), []);
    assert.match(replies().at(-1) ?? '', /@stranger only people with triage rights or more on acme\/site may vouch \(your role: read\)\. Nothing changed\./);
    const asked = s.requestsTo('GET', `/repos/${REPO}/collaborators/stranger/permission`);
    assert.equal(asked.length, 1, 'the role was asked of GitHub');

    s.addComment(repo, s.issueOf(repo, issue), 'maintainer-mo', 'Welcome!\n/owp vouch @ada reviewed her first PRs');
    await g.settled();
    assert.deepEqual(await standings(), [['ada', 'vouched']]);
    assert.match(replies().at(-1) ?? '', /✅ @ada is vouched for in acme\/site \(by @maintainer-mo\)\./);

    s.addComment(repo, s.issueOf(repo, issue), 'maintainer-mo', '/owp denounce @mallory');
    await g.settled();
    assert.match(replies().at(-1) ?? '', /needs a reason/);
    s.addComment(repo, s.issueOf(repo, issue), 'maintainer-mo', '/owp denounce @mallory floods PRs');
    await g.settled();
    assert.deepEqual((await standings()).sort(), [['ada', 'vouched'], ['mallory', 'denounced']]);
    const mallory = (await g.pool.admin.call('contributor.list', { repo: REPO })).contributors.find((c) => c.login === 'mallory');
    assert.equal(mallory?.reason, `floods PRs (@maintainer-mo on #${issue})`);
  } finally {
    await g.close();
  }
});

test('with comments: false the commands still work but OWP writes no reply (its token may only read issues)', async () => {
  const g = await startGitHubPool({
    webhooks: true,
    repo: { comments: false },
    fake: { tokens: [{ token: BOT_TOKEN, login: BOT_LOGIN, permissions: { issues: 'read', pull_requests: 'read' } }] },
  });
  try {
    await g.pool.repo(REPO, { max_open_prs: 5 });
    const s = g.gh.state;
    const issue = s.addIssue(REPO, { title: 'Who may work here' });
    const repo = s.repo(REPO);
    s.addComment(repo, s.issueOf(repo, issue), 'stranger', '/owp vouch @stranger');
    s.addComment(repo, s.issueOf(repo, issue), 'maintainer-mo', '/owp vouch @ada reviewed her first PRs');
    await g.settled();
    const standings = (await g.pool.admin.call('contributor.list', { repo: REPO })).contributors.map((c) => [c.login, c.status]);
    assert.deepEqual(standings, [['ada', 'vouched']]);
    assert.equal(s.requestsTo('POST', `/repos/${REPO}/issues/${issue}/comments`).length, 0, 'no reply was attempted');
    assert.deepEqual(s.commentsOn(REPO, issue).map((c) => c.user), ['stranger', 'maintainer-mo']);
    assert.equal(g.logs.filter((l) => /not replying on #\d+ \(comments: false\)/.test(l)).length, 2, 'both outcomes are logged instead');
  } finally {
    await g.close();
  }
});
