/**
 * Vouch and denounce through a real coordinator (HTTP, real store): the protocol operations, the
 * rules they feed (denounced, vouch_required), who may call them, and `owp vouch` / `owp denounce`
 * as a maintainer runs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { OwpError } from '../../protocol/errors.ts';
import { GATES, nextOffer, startPool, type TestPool } from '../helpers/coordinator.ts';
import { cliWorld, runOwp } from '../helpers/cli-world.ts';

const REPO = 'acme/vouched';
const ROOMY = { max_open_prs: 50, max_new_prs_per_hour: 50 };

async function volunteer(pool: TestPool, login: string): Promise<{ id: string; http: HttpClient }> {
  const { worker, token } = await WorkerClient.register(pool.url, { github_login: login, skills: ['docs'], capacity: 5, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  return { id: worker.id, http: new HttpClient({ baseUrl: pool.url, token }) };
}

async function refusal(promise: Promise<unknown>): Promise<OwpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OwpError) return error;
    throw error;
  }
  assert.fail('expected the coordinator to refuse');
}

test('a denounced login is refused and never offered work in that repo', async () => {
  const pool = await startPool();
  try {
    await pool.repo(REPO, ROOMY);
    await pool.repo('acme/other', ROOMY);
    const mallory = await volunteer(pool, 'mallory');
    const held = await pool.task(REPO, { title: 'held' });
    await mallory.http.call('task.claim', { task_id: held });
    const { contributor } = await pool.admin.call('contributor.denounce', { repo: REPO, login: 'Mallory', reason: 'floods PRs' });
    assert.deepEqual({ ...contributor, at: 0 }, { login: 'Mallory', status: 'denounced', reason: 'floods PRs', by: 'admin', at: 0 });
    const next = await pool.task(REPO, { title: 'next' });
    const error = await refusal(mallory.http.call('task.claim', { task_id: next }));
    assert.equal(error.code, 'POLICY_DENIED');
    assert.equal(error.details?.rule, 'denounced');
    // Another repo is not concerned.
    await mallory.http.call('task.claim', { task_id: await pool.task('acme/other', { title: 'elsewhere' }) });
    // Connected, mallory is not offered the task; a newcomer is.
    const online = await pool.join({ github_login: 'mallory' });
    const newcomer = await pool.join({ github_login: 'newcomer' });
    const offer = await nextOffer(newcomer);
    assert.equal(offer.task_id, next);
    assert.equal((await new HttpClient({ baseUrl: pool.url, token: online.token }).call('offer.list', {})).offers.length, 0);
    const { contributors } = await pool.admin.call('contributor.list', { repo: REPO });
    assert.deepEqual(contributors.map((c) => [c.login, c.status]), [['Mallory', 'denounced']]);
  } finally {
    await pool.close();
  }
});

test('vouch_required keeps tasks from a tier up for vouched contributors; a maintainer of another repo may not vouch', async () => {
  const pool = await startPool();
  try {
    await pool.repo(REPO, { ...ROOMY, policy: { vouch: { from_tier: 1 } } });
    const ada = await volunteer(pool, 'ada');
    await pool.admin.call('worker.set_trust', { worker_id: ada.id, trust: 2 });
    const easy = await pool.task(REPO, { title: 'easy', tier: 0 });
    const hard = await pool.task(REPO, { title: 'hard', tier: 1, area: 'core' });
    const error = await refusal(ada.http.call('task.claim', { task_id: hard }));
    assert.equal(error.details?.rule, 'vouch_required');
    await ada.http.call('task.claim', { task_id: easy });
    const { token } = await pool.admin.call('maintainer.create', { name: 'elsewhere', repos: ['other/*'] });
    const outsider = new HttpClient({ baseUrl: pool.url, token });
    assert.equal((await refusal(outsider.call('contributor.vouch', { repo: REPO, login: 'ada' }))).code, 'FORBIDDEN');
    assert.equal((await refusal(ada.http.call('contributor.vouch', { repo: REPO, login: 'ada' }))).code, 'FORBIDDEN');
    await pool.admin.call('contributor.vouch', { repo: REPO, login: 'ada' });
    await ada.http.call('task.claim', { task_id: hard });
  } finally {
    await pool.close();
  }
});

test('owp vouch and owp denounce, as a maintainer runs them', async () => {
  const world = await cliWorld();
  const { pool } = world;
  try {
    await pool.repo(REPO, ROOMY);
    const vouched = await world.owp(['vouch', '@ada', '--repo', REPO, '--reason', 'reviewed her first PRs']);
    assert.equal(vouched.code, 0, vouched.stderr);
    assert.match(vouched.stdout, /@ada vouched by admin: reviewed her first PRs/);
    const noReason = await world.owp(['denounce', '@mallory', '--repo', REPO]);
    assert.equal(noReason.code, 2, noReason.stdout);
    assert.match(noReason.stderr, /needs --reason/);
    assert.equal((await world.owp(['denounce', '@mallory', '--repo', REPO, '--reason', 'spam'])).code, 0);
    const listed = await world.owp(['vouch', '--list', '--repo', REPO]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), ['@ada vouched by admin: reviewed her first PRs', '@mallory denounced by admin: spam']);
  } finally {
    await world.close();
  }
});

test('owp contributor export and import: a repo\'s list round-trips through a Trustdown file (VOUCHED.td), other platforms skipped', async () => {
  const world = await cliWorld({ prefix: 'owp-vouch-' });
  const { pool, dir } = world;
  try {
    await pool.repo(REPO, ROOMY);
    await pool.repo('acme/other', ROOMY);
    await pool.admin.call('contributor.vouch', { repo: REPO, login: 'ada', reason: 'reviewed her first PRs' });
    await pool.admin.call('contributor.denounce', { repo: REPO, login: 'mallory', reason: 'floods   PRs' });
    const file = join(dir, 'VOUCHED.td');
    const exported = await world.owp(['contributor', 'export', file, '--repo', REPO]);
    assert.equal(exported.code, 0, exported.stderr);
    const text = readFileSync(file, 'utf8');
    assert.deepEqual(text.split('\n').filter((l) => l && !l.startsWith('#')), ['github:ada reviewed her first PRs', '-github:mallory floods PRs']);
    // Another project's file, as mitchellh/vouch writes it: a bare login, another platform, a comment.
    writeFileSync(file, `${text}# from upstream\nbob\n-codeberg:spammer spam\n-github:eve leaked a token\n`);
    const dry = await world.owp(['contributor', 'import', file, '--repo', 'acme/other', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /4 change\(s\) \(dry run: nothing changed\), 0 already so, 1 line\(s\) skipped/);
    assert.deepEqual((await pool.admin.call('contributor.list', { repo: 'acme/other' })).contributors, []);
    const imported = await world.owp(['contributor', 'import', file, '--repo', 'acme/other']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /skipped .*VOUCHED\.td:\d+: platform codeberg is not GitHub/);
    const list = (await pool.admin.call('contributor.list', { repo: 'acme/other' })).contributors.map((c) => [c.login, c.status, c.reason]);
    assert.deepEqual(list.sort(), [['ada', 'vouched', 'reviewed her first PRs'], ['bob', 'vouched', `imported from ${file}`], ['eve', 'denounced', 'leaked a token'], ['mallory', 'denounced', 'floods PRs']]);
    // Importing again changes nothing.
    const again = await world.owp(['contributor', 'import', file, '--repo', 'acme/other']);
    assert.match(again.stdout, /0 change\(s\), 4 already so/);
  } finally {
    await world.close();
  }
});

test('owp contributor list and owp policy explain show each contributor against their cap as the scheduler counts them', async () => {
  const pool = await startPool();
  try {
    await pool.repo(REPO, { ...ROOMY, policy: { contributor_cap: { base: 1, per_merge: 2, max: 10 } } });
    const laptop = await volunteer(pool, 'ada');
    const desktop = await volunteer(pool, 'ADA');
    const first = await pool.task(REPO);
    const claimed = await laptop.http.call('task.claim', { task_id: first });
    await laptop.http.call('lease.report', { lease_id: claimed.lease.lease_id, epoch: claimed.lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/${REPO}/pull/1`, gates: GATES } });
    await pool.admin.call('task.complete', { task_id: first, outcome: 'merged' });
    await desktop.http.call('task.claim', { task_id: await pool.task(REPO) });
    await pool.admin.call('contributor.denounce', { repo: REPO, login: 'mallory', reason: 'floods PRs' });
    const env = { OWP_COORDINATOR_URL: pool.url, OWP_TOKEN: pool.adminToken };

    const listed = await runOwp(['contributor', 'list', '--repo', REPO], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), [
      '@ada  holds 1 of cap 3 (contributor_cap: base 1 + 2 × 1 merged PR = 3); 0 open PRs, 1 lease, 0 offers, 1 merged',
      '@mallory  holds 0 of cap 1 (contributor_cap: base 1 + 2 × 0 merged PRs = 1); 0 open PRs, 0 leases, 0 offers, 0 merged; DENOUNCED by admin: floods PRs',
    ]);
    const json = JSON.parse((await runOwp(['contributor', 'list', '--repo', REPO, '--json'], { env })).stdout) as Array<{ login: string; cap?: number }>;
    assert.deepEqual(json.map((r) => [r.login, r.cap]), [['ada', 3], ['mallory', 1]]);

    const explained = await runOwp(['policy', 'explain', '--task', await pool.task(REPO), '--worker', laptop.id], { env });
    assert.equal(explained.code, 0, explained.stdout + explained.stderr);
    assert.match(explained.stdout, /pass {2}contributor_cap +.*holds 1 of their cap 3/);
    assert.match(explained.stdout, /^Contributor: @ada {2}holds 1 of cap 3 \(contributor_cap: base 1 \+ 2 × 1 merged PR = 3\)/m);
  } finally {
    await pool.close();
  }
});
