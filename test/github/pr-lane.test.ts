/**
 * Policy rule pr_lane against the GitHub-shaped server: the coordinator reads a reported PR's
 * changed files (the pulls files API, paginated), infers their areas with the contract's areas,
 * and refuses, flags or only records a PR that strays beyond its task's area; task.explain, the
 * status comment and the journal show it. task.explain also warns when a live lease holds an area
 * that contains the task's.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, nextOffer } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool, type GitHubPool, type Volunteer } from '../helpers/github-pool.ts';
import { branchName } from '../../protocol/branch-name.ts';
import { DEFAULT_CONTRACT } from '../../client/contract.ts';
import { openPullRequest } from '../../client/pull-request.ts';
import { STATUS_MARKER } from '../../coordinator/github/status-comments.ts';
import type { Task } from '../../protocol/model.ts';

const AREAS = { 'core/db': ['src/db/**'], core: ['src/**'], docs: ['docs/**', '*.md'] };

/** The volunteer's next offer (re-aimed at `area`), a branch with `files` pushed, and its PR opened on GitHub. */
async function prTouching(g: GitHubPool, v: Volunteer, area: string, files: Record<string, string>): Promise<{ task: Task; lease: { lease_id: string; epoch: number }; url: string; number: number }> {
  const offer = await nextOffer(v.worker);
  const { lease } = await v.worker.accept(offer.offer_id);
  const task = (await g.pool.admin.call('task.get', { task_id: offer.task_id })).task;
  const branch = branchName(DEFAULT_CONTRACT.branch, { task_id: task.id, title: task.title });
  g.gh.state.pushFiles(REPO, branch, files, { author: v.login });
  const opened = await openPullRequest({ token: v.githubToken, owner: 'acme', repo: 'site', head: branch, base: 'main', task, contract: DEFAULT_CONTRACT, apiBaseUrl: g.gh.url, attribution: `Opened by ${v.login} via OWP` });
  assert.equal(task.area, area);
  return { task, lease, ...opened };
}

async function setup(prLane: 'refuse' | 'flag' | undefined, issues: number): Promise<{ g: GitHubPool; alice: Volunteer }> {
  const g = await startGitHubPool({ webhooks: true });
  await g.pool.repo(REPO, { max_open_prs: 10, areas: AREAS, policy: prLane ? { pr_lane: prLane } : {} });
  for (let i = 0; i < issues; i += 1) g.gh.state.addIssue(REPO, { title: `Fix the database layer ${i}`, labels: ['owp'] });
  await g.poll();
  // Tasks from issues have no area until a maintainer gives one.
  for (const t of (await g.pool.admin.call('task.list', { repo: REPO })).tasks) await g.pool.admin.call('task.update', { task_id: t.id, area: 'core/db' });
  return { g, alice: await g.volunteer('alice') };
}

describe('a PR stays in its lane (policy rule pr_lane)', () => {
  test('refuse: a PR touching another area and an unowned path is refused with POLICY_DENIED naming the rule; one in its area counts', async () => {
    const { g, alice } = await setup('refuse', 1);
    try {
      // 120 files in the task's area, past one page of 100: the coordinator reads every page.
      const inLane = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`src/db/m${i}.ts`, `export const m${i} = ${i};\n`]));
      const { task, lease, url, number } = await prTouching(g, alice, 'core/db', { ...inLane, 'docs/guide.md': 'Guide\n', 'Makefile': 'all:\n' });
      const refused = await alice.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url, gates: GATES } }).then(() => undefined, (e: { code: string; message: string; details: Record<string, unknown> }) => e);
      assert.equal(refused?.code, 'POLICY_DENIED');
      assert.equal(refused?.details.rule, 'pr_lane');
      assert.deepEqual(refused?.details.stray, ['docs']);
      assert.deepEqual(refused?.details.unmatched, ['Makefile']);
      assert.match(refused?.message ?? '', /strays beyond its task's area core\/db: it touches area docs and 1 path\(s\) no area owns \(Makefile\)/);
      assert.equal((await g.pool.admin.call('task.get', { task_id: task.id })).task.state, 'leased', 'the refusal changed nothing');
      const pages = g.gh.state.requestsTo('GET', new RegExp(`^/repos/${REPO}/pulls/${number}/files`));
      assert.ok(pages.length >= 2, `every page of the files was read (${pages.length} requests)`);

      // The volunteer removes the doc: the Makefile, which no area owns, still strays.
      const branch = branchName(DEFAULT_CONTRACT.branch, { task_id: task.id, title: task.title });
      g.gh.state.pushFiles(REPO, branch, { 'docs/guide.md': null });
      const still = await alice.worker.request('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url, gates: GATES } }).then(() => undefined, (e: { code: string; details: Record<string, unknown> }) => e);
      assert.deepEqual([still?.code, still?.details.stray, still?.details.unmatched], ['POLICY_DENIED', [], ['Makefile']]);
      // Without it, the PR now counts.
      g.gh.state.pushFiles(REPO, branch, { 'Makefile': null });
      const { task: counted } = await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url, gates: GATES } });
      const lane = (counted.pr as { x_github?: { lane?: Record<string, unknown> } }).x_github?.lane;
      assert.deepEqual(lane, { task_area: 'core/db', areas: ['core/db'], files: 120, stray: [], unmatched: [], verdict: 'in_lane' });
    } finally {
      await g.close();
    }
  });

  test('flag: a stray PR counts, marked in x_github.lane, task.explain and the status comment; a live lease on a parent area is a warning', async () => {
    const { g, alice } = await setup('flag', 1);
    try {
      const { task, lease, url, number } = await prTouching(g, alice, 'core/db', { 'src/db/a.ts': 'a\n', 'src/api/b.ts': 'b\n' });
      const { task: counted } = await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url, gates: GATES } });
      assert.equal(counted.state, 'pr_opened');
      const lane = (counted.pr as { x_github?: { lane?: Record<string, unknown> } }).x_github?.lane;
      assert.deepEqual(lane, { task_area: 'core/db', areas: ['core/db', 'core'], files: 2, stray: ['core'], unmatched: [], verdict: 'flagged' });
      const explained = await g.pool.admin.call('task.explain', { task_id: task.id });
      assert.deepEqual(explained.warnings?.map((w) => [w.code, w.message]), [['pr_lane', 'the PR strays beyond area core/db: touches core (flagged by policy rule pr_lane)']]);
      await g.settled();
      const comment = g.gh.state.commentsOn(REPO, task.issue?.number as number).find((c) => c.body.startsWith(STATUS_MARKER));
      assert.match(comment?.body ?? '', new RegExp(`In review.*#${number}.*strays beyond its task's area \`core/db\`: it touches area \`core\` — \\*\\*flagged\\*\\* for the maintainers`));

      // A live lease on the parent area core (only bob can take it) makes a task in core/db/index warn about the overlap.
      const bob = await g.volunteer('bob', { skills: ['rust'] });
      const parent = (await g.pool.admin.call('task.create', { repo: REPO, title: 'core work', area: 'core', skills: ['rust'] })).task;
      const held = await nextOffer(bob.worker);
      assert.equal(held.task_id, parent.id);
      await bob.worker.accept(held.offer_id);
      const other = parent;
      const third = await g.pool.admin.call('task.create', { repo: REPO, title: 'index the db', area: 'core/db/index', skills: ['go'] });
      const warned = await g.pool.admin.call('task.explain', { task_id: third.task.id });
      assert.deepEqual(warned.warnings?.map((w) => w.code), ['lease_overlap']);
      assert.match(warned.warnings?.[0]?.message ?? '', new RegExp(`${other.id} \\(area core\\) holds a live lease likely to touch the same paths as area core/db/index`));
    } finally {
      await g.close();
    }
  });

  test('without the rule, the PR\'s areas are recorded and a stray is noted, not refused', async () => {
    const { g, alice } = await setup(undefined, 1);
    try {
      const { lease, url } = await prTouching(g, alice, 'core/db', { 'README.md': 'hi\n' });
      const { task: counted } = await alice.worker.report(lease.lease_id, { state: 'pr_opened', pr: { url, gates: GATES } });
      const lane = (counted.pr as { x_github?: { lane?: Record<string, unknown> } }).x_github?.lane;
      assert.equal(lane?.verdict, 'allowed');
      assert.deepEqual(lane?.stray, ['docs']);
    } finally {
      await g.close();
    }
  });
});
