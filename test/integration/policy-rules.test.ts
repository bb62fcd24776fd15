/**
 * Each repo policy rule refusing and allowing, through a real coordinator (HTTP + socket.io, real
 * store): workers claim over HTTP without connecting, so no offer races the claim; the scheduler
 * tests connect workers and watch what they are offered.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { RepoPolicy } from '../../protocol/policy-schema.ts';
import { nextOffer, startPool, type TestPool } from '../helpers/coordinator.ts';

const REPO = 'acme/site';
/** Budget wide enough that only the policy decides. */
const ROOMY = { max_open_prs: 50, max_new_prs_per_hour: 50 };

interface Volunteer {
  id: string;
  login: string;
  http: HttpClient;
}

let logins = 0;

async function volunteer(pool: TestPool, options: { login?: string; trust?: number; capacity?: number } = {}): Promise<Volunteer> {
  logins += 1;
  const login = options.login ?? `policy-vol${logins}`;
  const { worker, token } = await WorkerClient.register(pool.url, {
    github_login: login,
    skills: ['docs'],
    capacity: options.capacity ?? 5,
    tools: ['none'],
    capabilities: { can_run_tests: true, can_open_prs: true },
  });
  if (options.trust !== undefined) await pool.admin.call('worker.set_trust', { worker_id: worker.id, trust: options.trust });
  return { id: worker.id, login, http: new HttpClient({ baseUrl: pool.url, token }) };
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

async function assertRefusedBy(who: Volunteer, taskId: string, rule: string): Promise<void> {
  const error = await refusal(who.http.call('task.claim', { task_id: taskId }));
  assert.equal(error.code, 'POLICY_DENIED', error.message);
  assert.equal(error.details?.rule, rule);
  assert.match(error.message, new RegExp(`policy rule ${rule}`));
}

async function assertClaims(who: Volunteer, taskId: string): Promise<void> {
  const { task } = await who.http.call('task.claim', { task_id: taskId });
  assert.equal(task.state, 'leased');
}

async function withPolicy(policy: RepoPolicy, run: (pool: TestPool) => Promise<void>): Promise<void> {
  const pool = await startPool();
  try {
    await pool.repo(REPO, { ...ROOMY, policy });
    await run(pool);
  } finally {
    await pool.close();
  }
}

describe('repo policy rules', () => {
  test('login_deny refuses a denied login and allows others', () =>
    withPolicy({ logins: { deny: ['mallory'] } }, async (pool) => {
      const t1 = await pool.task(REPO, { area: 'docs' });
      const mallory = await volunteer(pool, { login: 'mallory' });
      await assertRefusedBy(mallory, t1, 'login_deny');
      const explained = await mallory.http.call('task.explain', { task_id: t1, worker_id: mallory.id });
      assert.doesNotMatch(JSON.stringify(explained), /mallory/, 'explain answers any caller, so it names workers by id, not login');
      await assertClaims(await volunteer(pool), t1);
    }));

  test('login_allow admits only listed logins', () =>
    withPolicy({ logins: { allow: ['alice'] } }, async (pool) => {
      const t1 = await pool.task(REPO, { area: 'docs' });
      await assertRefusedBy(await volunteer(pool), t1, 'login_allow');
      await assertClaims(await volunteer(pool, { login: 'alice' }), t1);
    }));

  test('safe_lanes keeps workers below the trust level in the safe lanes', () =>
    withPolicy({ safe_lanes: { below_trust: 1 } }, async (pool) => {
      const core = await pool.task(REPO, { area: 'core' });
      const docs = await pool.task(REPO, { area: 'docs/api' });
      const newcomer = await volunteer(pool, { trust: 0 });
      await assertRefusedBy(newcomer, core, 'safe_lanes');
      await assertClaims(newcomer, docs);
      await assertClaims(await volunteer(pool, { trust: 1 }), core);
    }));

  test('tier_trust asks more trust than the tier for high tiers', () =>
    withPolicy({ tiers: [{ from_tier: 2, min_trust: 3 }] }, async (pool) => {
      const risky = await pool.task(REPO, { tier: 2 });
      const plain = await pool.task(REPO, { tier: 1, area: 'x' });
      const two = await volunteer(pool, { trust: 2 });
      await assertRefusedBy(two, risky, 'tier_trust');
      await assertClaims(two, plain);
      await assertClaims(await volunteer(pool, { trust: 3 }), risky);
    }));

  test('max_active_per_worker caps what one worker holds in the repo', () =>
    withPolicy({ max_active_per_worker: 1 }, async (pool) => {
      const t1 = await pool.task(REPO, { area: 'a' });
      const t2 = await pool.task(REPO, { area: 'b' });
      const w = await volunteer(pool, { capacity: 10 });
      await assertClaims(w, t1);
      await assertRefusedBy(w, t2, 'max_active_per_worker');
      await assertClaims(await volunteer(pool), t2);
    }));

  test('area_max_active limits active tasks across an area and its sub-areas', () =>
    withPolicy({ areas: { core: { max_active: 1 } } }, async (pool) => {
      const db = await pool.task(REPO, { area: 'core/db' });
      const api = await pool.task(REPO, { area: 'core/api' });
      const elsewhere = await pool.task(REPO, { area: 'docs' });
      await assertClaims(await volunteer(pool), db);
      const second = await volunteer(pool);
      await assertRefusedBy(second, api, 'area_max_active');
      await assertClaims(second, elsewhere);
    }));

  test('area_trust needs the area\'s trust unless the login is on its allow list', () =>
    withPolicy({ areas: { core: { min_trust: 2, allow: ['alice'] } } }, async (pool) => {
      const t1 = await pool.task(REPO, { area: 'core' });
      await assertRefusedBy(await volunteer(pool, { trust: 1 }), t1, 'area_trust');
      await assertClaims(await volunteer(pool, { login: 'alice', trust: 0 }), t1);
      const t2 = await pool.task(REPO, { area: 'core/db' });
      await assertClaims(await volunteer(pool, { trust: 2 }), t2);
    }));

  test('risky_area denies by default, even at full trust, and opens only to an explicit grant', () =>
    withPolicy({ areas: { release: { risky: true }, ci: { risky: true, allow: ['carol'] }, infra: { risky: true, min_trust: 2 } } }, async (pool) => {
      const release = await pool.task(REPO, { area: 'release' });
      const ci = await pool.task(REPO, { area: 'ci' });
      const infra = await pool.task(REPO, { area: 'infra/dns' });
      const veteran = await volunteer(pool, { trust: 3, capacity: 10 });
      await assertRefusedBy(veteran, release, 'risky_area');
      await assertRefusedBy(veteran, ci, 'risky_area');
      await assertClaims(await volunteer(pool, { login: 'carol', trust: 0 }), ci);
      await assertRefusedBy(await volunteer(pool, { trust: 1 }), infra, 'risky_area');
      await assertClaims(veteran, infra);
    }));

  test('the policy budget sets the repo budget, which refuses beyond it', async () => {
    const pool = await startPool();
    try {
      await pool.repo(REPO, { policy: { budget: { max_open_prs: 1, max_new_prs_per_hour: 10 } } });
      const { settings } = await pool.admin.call('repo.get', { repo: REPO });
      assert.equal(settings.max_open_prs, 1);
      assert.equal(settings.max_new_prs_per_hour, 10);
      const t1 = await pool.task(REPO, { area: 'a' });
      const t2 = await pool.task(REPO, { area: 'b' });
      const w = await volunteer(pool);
      await assertClaims(w, t1);
      const other = await volunteer(pool);
      const error = await refusal(other.http.call('task.claim', { task_id: t2 }));
      assert.equal(error.code, 'BUDGET_EXHAUSTED');
      const explained = await pool.admin.call('task.explain', { task_id: t2, worker_id: other.id });
      assert.deepEqual(explained.policy?.find((v) => v.rule === 'max_open_prs')?.passed, false);
      assert.deepEqual(explained.policy?.find((v) => v.rule === 'max_new_prs_per_hour')?.passed, true);
    } finally {
      await pool.close();
    }
  });

  test('the scheduler never offers what the policy refuses, and explain names the rule', () =>
    withPolicy({ safe_lanes: { below_trust: 1, lanes: ['docs'] } }, async (pool) => {
      const core = await pool.task(REPO, { area: 'core', priority: 10 });
      const docs = await pool.task(REPO, { area: 'docs' });
      const newcomer = await pool.join({ skills: ['docs'] });
      const offer = await nextOffer(newcomer);
      assert.equal(offer.task_id, docs, 'the higher-priority core task is skipped for a trust-0 worker');
      const explained = await pool.admin.call('task.explain', { task_id: core });
      assert.equal(explained.offerable, false);
      const why = explained.reasons.find((r) => r.code === 'no_eligible_worker');
      assert.ok(why, JSON.stringify(explained));
      assert.match(why.message, /policy rule safe_lanes/);
    }));

  test('task.explain with a worker gives every rule\'s verdict (the dry run)', () =>
    withPolicy({
      logins: { deny: ['mallory'] },
      safe_lanes: { below_trust: 1 },
      tiers: [{ from_tier: 1, min_trust: 1 }],
      max_active_per_worker: 2,
      areas: { core: { max_active: 3, min_trust: 1 } },
    }, async (pool) => {
      const task = await pool.task(REPO, { area: 'core/db', tier: 1 });
      const w = await volunteer(pool, { trust: 0 });
      const explained = await pool.admin.call('task.explain', { task_id: task, worker_id: w.id });
      const verdicts = Object.fromEntries((explained.policy ?? []).map((v) => [v.rule, v.passed]));
      assert.deepEqual(verdicts, {
        login_deny: true,
        safe_lanes: false,
        tier_trust: false,
        max_active_per_worker: true,
        area_max_active: true,
        area_trust: false,
        max_open_prs: true,
        max_new_prs_per_hour: true,
      });
      const failed = (explained.policy ?? []).find((v) => v.rule === 'area_trust');
      assert.match(failed?.message ?? '', /area core needs trust ≥ 1/);
    }));

  test('a repo policy survives a restart on the durable store', async () => {
    const pool = await startPool('lowdb');
    try {
      await pool.repo(REPO, { ...ROOMY, policy: { logins: { deny: ['mallory'] } } });
      const t1 = await pool.task(REPO);
      await pool.restart();
      await assertRefusedBy(await volunteer(pool, { login: 'mallory' }), t1, 'login_deny');
      await pool.repo(REPO, { policy: {} });
      await assertClaims(await volunteer(pool, { login: 'mallory' }), t1);
    } finally {
      await pool.close();
    }
  });
});
