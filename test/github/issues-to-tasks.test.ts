import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { nextOffer, until } from '../helpers/coordinator.ts';
import { BOT_LOGIN, REPO, startGitHubPool } from '../helpers/github-pool.ts';
import type { Task } from '../../protocol/model.ts';

async function tasks(pool: { admin: { call(name: 'task.list', p: Record<string, unknown>): Promise<{ tasks: Task[] }> } }): Promise<Task[]> {
  return (await pool.admin.call('task.list', { repo: REPO })).tasks;
}

describe('GitHub issues become tasks', () => {
  test('labelled open issues become tasks with fields from labels and the owp block; others are skipped', async () => {
    const g = await startGitHubPool();
    try {
      const s = g.gh.state;
      const plain = s.addIssue(REPO, { title: 'Fix the typo in the README', labels: ['owp'], body: 'It says "recieve".' });
      const labelled = s.addIssue(REPO, { title: 'Document the CLI', labels: ['owp', 'owp:area=docs', 'owp:tier=1', 'owp:effort=2', 'owp:skill=docs', 'owp:skill=ts'] });
      const block = s.addIssue(REPO, {
        title: 'Add tests for the parser',
        labels: ['OWP', 'owp:tier=2'],
        user: 'maintainer-mo',
        body: 'Please add tests.\n\n```owp\narea: tests\ntier: 0\neffort: 3\nskills: [ts, testing]\npriority: 5\nacceptance:\n  - Parser edge cases are covered\n```\n',
      });
      const strangerBlock = s.addIssue(REPO, { title: 'Stranger asks for tier 0', labels: ['owp'], user: 'drive-by', body: '```owp\ntier: 0\narea: core\n```' });
      s.addIssue(REPO, { title: 'Not labelled', labels: ['bug'] });
      s.addIssue(REPO, { title: 'Closed', labels: ['owp'], state: 'closed' });
      s.addIssue(REPO, { title: 'Locked', labels: ['owp'], locked: true });
      s.addIssue(REPO, { title: 'Assigned', labels: ['owp'], assignees: ['someone'] });
      const referenced = s.addIssue(REPO, { title: 'Someone is on it', labels: ['owp'] });
      s.openPull(REPO, 'someone', { head: 'fix-it', title: 'Fix it', body: `Fixes #${referenced}` });

      await g.poll();
      const list = await tasks(g.pool);
      const byIssue = new Map(list.map((t) => [t.issue?.number, t]));
      assert.deepEqual([...byIssue.keys()].sort(), [plain, labelled, block, strangerBlock].sort(), 'only qualifying issues became tasks');

      const a = byIssue.get(plain) as Task;
      assert.equal(a.title, 'Fix the typo in the README');
      assert.equal(a.body, 'It says "recieve".');
      assert.equal(a.issue?.url, `https://github.com/${REPO}/issues/${plain}`);
      assert.equal(a.tier, 0);
      assert.equal(a.effort, 1);
      assert.equal(a.state, 'ready');

      const b = byIssue.get(labelled) as Task;
      assert.equal(b.area, 'docs');
      assert.equal(b.tier, 1);
      assert.equal(b.effort, 2);
      assert.deepEqual(b.skills, ['docs', 'ts']);

      const c = byIssue.get(block) as Task;
      assert.equal(c.area, 'tests');
      assert.equal(c.tier, 2, 'a label wins over the block');
      assert.equal(c.effort, 3);
      assert.deepEqual(c.skills, ['ts', 'testing']);
      assert.equal(c.priority, 5);
      assert.deepEqual(c.acceptance, ['Parser edge cases are covered']);

      const d = byIssue.get(strangerBlock) as Task;
      assert.equal(d.area, undefined, 'a block from an author without write access is not read');

      // A second pass finds nothing new and asks GitHub only conditionally (304s, no rate limit used).
      const before = s.requests.length;
      await g.poll();
      assert.equal((await tasks(g.pool)).length, 4);
      const second = s.requests.slice(before);
      assert.ok(second.length > 0);
      assert.ok(second.every((r) => r.method === 'GET' && r.status === 304 && r.headers['if-none-match']), `every re-poll request is a 304: ${JSON.stringify(second.map((r) => [r.path, r.status]))}`);
      assert.ok(s.requests.every((r) => r.login === BOT_LOGIN), 'the coordinator only uses its own token');
      assert.ok(s.requests.every((r) => r.method === 'GET' || r.path.includes('/comments')), 'nothing but reads and comments');
    } finally {
      await g.close();
    }
  });

  test('a backlog of labelled issues becomes tasks in one task.create_many, in one durable write', async () => {
    const g = await startGitHubPool();
    try {
      const numbers = Array.from({ length: 40 }, (_, i) => g.gh.state.addIssue(REPO, { title: `Backlog item ${i}`, labels: ['owp'] }));
      const commits: number[] = [];
      g.pool.coordinator.runtime.on('commit', (c) => commits.push(c.events));
      await g.poll();
      const list = await tasks(g.pool);
      assert.deepEqual(list.map((t) => t.issue?.number).sort((a, b) => (a ?? 0) - (b ?? 0)), numbers);
      const ops = [...g.pool.coordinator.runtime.engine.state.idempotency.values()].map((r) => r.op);
      assert.deepEqual(ops.filter((op) => op.startsWith('task.create')), ['task.create_many'], 'one bulk request, no single creates');
      assert.ok(commits.includes(40), `the 40 tasks were written together: commits of ${JSON.stringify(commits)} events`);
      // The links are kept: the next poll creates nothing and adopts nothing twice.
      await g.poll();
      assert.equal((await tasks(g.pool)).length, 40);
    } finally {
      await g.close();
    }
  });

  test('edits on GitHub flow into a task nobody has taken yet', async () => {
    const g = await startGitHubPool({ webhooks: true });
    try {
      const n = g.gh.state.addIssue(REPO, { title: 'Old title', labels: ['owp'] });
      await g.settled();
      g.gh.state.updateIssue(REPO, n, { title: 'New title', labels: ['owp', 'owp:tier=1', 'owp:area=docs'] });
      await g.settled();
      const [t] = await tasks(g.pool);
      assert.equal(t?.title, 'New title');
      assert.equal(t?.tier, 1);
      assert.equal(t?.area, 'docs');
      assert.equal(t?.state, 'ready');
    } finally {
      await g.close();
    }
  });

  test('lists are paginated (more than 100 labelled issues)', async () => {
    const g = await startGitHubPool();
    try {
      for (let i = 0; i < 105; i += 1) g.gh.state.addIssue(REPO, { title: `Issue ${i}`, labels: ['owp'] });
      await g.poll();
      assert.equal((await g.pool.admin.call('task.list', { repo: REPO, limit: 500 })).tasks.length, 105);
      assert.ok(g.gh.state.requestsTo('GET', `/repos/${REPO}/issues`).some((r) => r.query.page === '2'));
    } finally {
      await g.close();
    }
  });

  test('an issue closed or unlabelled upstream cancels its task and tells the worker holding it', async () => {
    const g = await startGitHubPool();
    try {
      const s = g.gh.state;
      const first = s.addIssue(REPO, { title: 'First', labels: ['owp'] });
      const second = s.addIssue(REPO, { title: 'Second', labels: ['owp'] });
      await g.poll();
      const v = await g.volunteer('alice', { capacity: 1 });
      const offer = await nextOffer(v.worker);
      const { lease } = await v.worker.accept(offer.offer_id);
      const cancelled = new Promise<{ lease_id: string; cause: string; reason: string }>((resolve) => v.worker.once('lease.cancelled', resolve));
      const held = offer.task.issue?.number as number;
      const other = held === first ? second : first;

      s.updateIssue(REPO, held, { state: 'closed' });
      s.updateIssue(REPO, other, { labels: [] });
      await g.poll();
      const note = await cancelled;
      assert.equal(note.lease_id, lease.lease_id);
      assert.equal(note.cause, 'task_closed');
      assert.match(note.reason, new RegExp(`issue #${held} was closed on GitHub`));
      const list = await tasks(g.pool);
      assert.ok(list.every((t) => t.state === 'closed'), JSON.stringify(list.map((t) => [t.id, t.state])));
      assert.match(list.find((t) => t.issue?.number === other)?.closed_reason ?? '', /label owp was removed/);

      // Labelling (or reopening) it again offers it again, as a new task.
      s.updateIssue(REPO, other, { labels: ['owp'] });
      await g.poll();
      const again = (await tasks(g.pool)).filter((t) => t.issue?.number === other);
      assert.equal(again.length, 2);
      assert.ok(again.some((t) => t.state === 'closed') && again.some((t) => t.state === 'ready' || t.state === 'offered'), JSON.stringify(again.map((t) => t.state)));
    } finally {
      await g.close();
    }
  });

  test('rate-limit answers are waited out, not failed', async () => {
    const g = await startGitHubPool();
    try {
      g.gh.state.addIssue(REPO, { title: 'Patience', labels: ['owp'] });
      g.gh.state.exhaustRateLimit(1200);
      await g.poll();
      assert.equal((await tasks(g.pool)).length, 1);
      const statuses = g.gh.state.requests.map((r) => r.status);
      assert.ok(statuses.includes(403), 'GitHub answered with a rate limit first');
      assert.ok(g.logs.some((l) => /rate limited/.test(l)), g.logs.join('\n'));

      g.gh.state.addIssue(REPO, { title: 'Secondary', labels: ['owp'] });
      g.gh.state.secondaryRateLimit(1, 1);
      await g.poll();
      assert.equal((await tasks(g.pool)).length, 2);
    } finally {
      await g.close();
    }
  });

  test('a rate limit resetting far ahead is waited out: no request until the reset, said once in the log', async () => {
    let clock = Date.now();
    const g = await startGitHubPool({ now: () => clock });
    try {
      g.gh.state.addIssue(REPO, { title: 'Later', labels: ['owp'] });
      g.gh.state.exhaustRateLimit(20 * 60_000);
      await g.poll();
      const refused = g.gh.state.requests.length;
      assert.ok(g.gh.state.requests.some((r) => r.status === 403), 'GitHub said the limit is used up');
      const said = (): number => g.logs.filter((l) => /rate limit is used up until/.test(l)).length;
      assert.equal(said(), 1);
      // Polls before the reset send nothing and say nothing new.
      clock += 5 * 60_000;
      await g.poll();
      await g.poll();
      assert.equal(g.gh.state.requests.length, refused, 'no request while paused');
      assert.equal(said(), 1, 'logged once, not on every poll');
      assert.equal((await tasks(g.pool)).length, 0);
      // After the reset the sync goes on.
      g.gh.state.exhaustRateLimit(0);
      clock += 16 * 60_000;
      await g.poll();
      assert.equal((await tasks(g.pool)).length, 1);
    } finally {
      await g.close();
    }
  });

  test('a webhook alone turns a newly labelled issue into a task (no poll)', async () => {
    const g = await startGitHubPool({ webhooks: true });
    try {
      const n = g.gh.state.addIssue(REPO, { title: 'Pushed by webhook', labels: ['owp'] });
      await g.settled();
      const t = await until(async () => (await tasks(g.pool)).find((x) => x.issue?.number === n), 'task from webhook');
      assert.equal(t.title, 'Pushed by webhook');
      assert.ok(g.gh.state.deliveries.some((d) => d.event === 'issues' && d.status === 200));
    } finally {
      await g.close();
    }
  });
});
