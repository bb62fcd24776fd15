/**
 * The repo policy's rules about contributors and the budget's own course (SPEC §9.3, POL-005 to
 * POL-009, POL-012), for a coordinator that declares the `policy` capability: per-contributor caps over
 * every worker of a login, rules in report mode, vouch and denounce, and the adaptive review
 * budget, all observed over the wire (claims, repo.get, journal.read).
 */
import type { Lease, Task } from '../../protocol/model.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { ConformanceTest, Suite } from '../types.ts';
import type { KitWorker, World } from '../world.ts';
import { openPr } from '../scenarios.ts';

const ROOMY = { max_open_prs: 50, max_new_prs_per_hour: 50 };

async function claim(worker: KitWorker, taskId: string, what: string): Promise<Lease> {
  return expectOk<{ lease: Lease; task: Task }>(await worker.http('task.claim', { task_id: taskId }), what).lease;
}

async function refusedBy(worker: KitWorker, taskId: string, rule: string, what: string): Promise<void> {
  const error = expectError(await worker.http('task.claim', { task_id: taskId }), 'POLICY_DENIED', what);
  checkEqual(error.details?.rule, rule, `${what}: details.rule`);
}

function test(requirement: string, title: string, run: (world: World) => Promise<void>): ConformanceTest {
  return { requirement, title, capability: 'policy', run };
}

export const SUITE: Suite = {
  area: 'policy-contributors',
  tests: [
    test('POL-005', 'contributor_cap: one cap over every worker of a login (compared without case), raised by a merge', async (world) => {
      const repo = await world.repo({ ...ROOMY, policy: { contributor_cap: { base: 1, per_merge: 1, max: 2 } } });
      const laptop = await world.worker({ connect: false });
      const desktop = await world.worker({ connect: false, extra: { github_login: laptop.login.toUpperCase() } });
      const other = await world.worker({ connect: false });
      const first = await world.task(repo);
      const lease = await claim(laptop, first.id, 'first claim of the login');
      const second = await world.task(repo);
      await refusedBy(desktop, second.id, 'contributor_cap', 'claim by another worker of the same login at its cap');
      await claim(other, (await world.task(repo)).id, 'claim by another login');
      await openPr(laptop, lease);
      await refusedBy(desktop, second.id, 'contributor_cap', 'claim while the login\'s PR is open');
      await world.admin('task.complete', { task_id: first.id, outcome: 'merged' });
      await claim(desktop, second.id, 'claim after the merge raised the cap to 2');
    }),
    test('POL-006', 'a rule in report mode refuses nothing and journals what it would have refused, once', async (world) => {
      const worker = await world.worker({ connect: false, capacity: 10 });
      const repo = await world.repo({ ...ROOMY, policy: { logins: { deny: [worker.login] }, modes: { login_deny: 'report' } } });
      const head = await world.journalHead();
      const task = await world.task(repo);
      await claim(worker, task.id, 'claim by a denied login while login_deny is in report mode');
      const explained = await world.admin('task.explain', { task_id: (await world.task(repo)).id, worker_id: worker.id });
      const verdict = explained.policy?.find((v) => v.rule === 'login_deny');
      checkEqual([verdict?.passed, verdict?.mode], [false, 'report'], 'task.explain verdict of the rule in report mode');
      const hits = (await world.journal(head, repo)).filter((e) => e.type === 'policy.dry_run_hit');
      checkEqual(hits.map((e) => [e.task_id, e.worker_id, (e.data as { rule?: string }).rule]), [[task.id, worker.id, 'login_deny']], 'policy.dry_run_hit events');
    }),
    test('POL-007', 'only maintainers vouch or denounce; a denounced login is refused work and a vouch lifts it', async (world) => {
      const repo = await world.repo(ROOMY);
      const worker = await world.worker({ connect: false });
      expectError(await worker.http('contributor.denounce', { repo, login: worker.login, reason: 'self' }), 'FORBIDDEN', 'a worker denouncing');
      await world.admin('contributor.denounce', { repo, login: worker.login.toUpperCase(), reason: 'floods PRs' });
      const task = await world.task(repo);
      await refusedBy(worker, task.id, 'denounced', 'claim by a denounced login (no policy file)');
      await world.admin('contributor.vouch', { repo, login: worker.login });
      await claim(worker, task.id, 'claim after a vouch replaced the denouncement');
    }),
    test('POL-008', 'vouch_required: tasks from the tier go only to vouched logins', async (world) => {
      const repo = await world.repo({ ...ROOMY, policy: { vouch: { from_tier: 1 } } });
      const stranger = await world.worker({ connect: false, trust: 1 });
      const known = await world.worker({ connect: false, trust: 1 });
      await world.admin('contributor.vouch', { repo, login: known.login });
      const tier1 = await world.task(repo, { tier: 1 });
      await refusedBy(stranger, tier1.id, 'vouch_required', 'tier-1 claim by a login nobody vouched for');
      await claim(stranger, (await world.task(repo, { tier: 0 })).id, 'tier-0 claim by the same login');
      await claim(known, tier1.id, 'tier-1 claim by a vouched login');
    }),
    test('POL-009', 'the adaptive budget moves max_open_prs with PR outcomes, within its bounds, journaling each move', async (world) => {
      const repo = await world.repo({ max_open_prs: 2, max_new_prs_per_hour: 50, policy: { budget: { adaptive: { floor: 1, ceiling: 3, target_review_hours: 24 } } } });
      const worker = await world.worker({ connect: false, capacity: 10 });
      const head = await world.journalHead();
      const outcome = async (result: 'merged' | 'closed'): Promise<number> => {
        const task = await world.task(repo);
        await openPr(worker, await claim(worker, task.id, `claim before a PR ${result}`));
        await world.admin('task.complete', { task_id: task.id, outcome: result });
        const { settings, budget } = await world.admin('repo.get', { repo });
        checkEqual(budget.max_open_prs, settings.max_open_prs, 'the budget serves the effective max_open_prs');
        checkEqual(budget.adaptive, { floor: 1, ceiling: 3 }, 'budget.adaptive');
        return settings.max_open_prs;
      };
      checkEqual(await outcome('merged'), 3, 'max_open_prs after a PR merged at once (2 + 1)');
      checkEqual(await outcome('merged'), 3, 'max_open_prs at the ceiling');
      checkEqual(await outcome('closed'), 1, 'max_open_prs after a PR closed unmerged (3 × 0.5, rounded down)');
      checkEqual(await outcome('closed'), 1, 'max_open_prs at the floor');
      const moves = (await world.journal(head, repo)).filter((e) => e.type === 'budget.adapted').map((e) => e.data as { from: number; to: number; reason: string });
      checkEqual(moves.map((m) => [m.from, m.to]), [[2, 3], [3, 1]], 'budget.adapted events: one per change, none at a bound');
      for (const m of moves) check(typeof m.reason === 'string' && m.reason.length > 0, 'a budget.adapted event has its reason');
    }),
    test('POL-012', 'policy.standings: one item per login with the counts and cap the scheduler uses, the maintainers\' word, paged on both bindings', async (world) => {
      const repo = await world.repo({ ...ROOMY, policy: { contributor_cap: { base: 1, per_merge: 2, max: 4, bypass: [] } } });
      const laptop = await world.worker({ connect: false });
      const desktop = await world.worker({ connect: false, extra: { github_login: laptop.login.toUpperCase() } });
      const other = await world.worker({ connect: false });
      const merged = await world.task(repo);
      await openPr(laptop, await claim(laptop, merged.id, 'first claim'));
      await world.admin('task.complete', { task_id: merged.id, outcome: 'merged' });
      const open = await world.task(repo);
      await openPr(desktop, await claim(desktop, open.id, 'claim by the same login\'s second worker'));
      await claim(laptop, (await world.task(repo)).id, 'a live lease');
      await world.admin('contributor.denounce', { repo, login: other.login, reason: 'floods PRs' });
      const bystander = await world.worker({ connect: false });
      await world.admin('contributor.vouch', { repo, login: 'cf-never-registered', reason: 'met at a sprint' });
      const socket = await world.connect(world.run.adminToken);
      const bindings: Array<[string, (params: Record<string, unknown>) => Promise<unknown>]> = [
        ['HTTP', async (params) => expectOk(await world.adminRaw('policy.standings', params), 'policy.standings over HTTP')],
        ['socket.io', async (params) => expectOk(await socket.call('policy.standings', params), 'policy.standings over socket.io')],
      ];
      for (const [binding, call] of bindings) {
        const rows: Array<Record<string, unknown>> = [];
        let cursor: string | undefined;
        for (let pageNo = 0; pageNo < 10; pageNo += 1) {
          const data = (await call({ repo, limit: 1, ...(cursor ? { cursor } : {}) })) as { standings: Array<Record<string, unknown>>; next_cursor?: string };
          check(data.standings.length <= 1, `${binding}: a page of limit 1 had ${data.standings.length} items`);
          rows.push(...data.standings);
          cursor = data.next_cursor;
          if (cursor === undefined) break;
        }
        const by = (login: string): Record<string, unknown> | undefined => rows.find((r) => String(r.login).toLowerCase() === login.toLowerCase());
        checkEqual(rows.filter((r) => String(r.login).toLowerCase() === laptop.login).length, 1, `${binding}: the login of two workers is one item`);
        const mine = by(laptop.login);
        checkEqual([mine?.open_prs, mine?.live_leases, mine?.open_offers, mine?.merged_prs, mine?.in_use, mine?.cap, mine?.at_cap], [1, 1, 0, 1, 2, 3, false], `${binding}: the two-worker login's counts and cap (base 1 + 2 × 1 merged)`);
        checkEqual([by(other.login)?.status, by(other.login)?.in_use], ['denounced', 0], `${binding}: the denounced login is listed with nothing held`);
        checkEqual(by('cf-never-registered')?.status, 'vouched', `${binding}: a vouched login no worker uses yet`);
        check(by(bystander.login) === undefined, `${binding}: a login with nothing here is left out`);
      }
      expectError(await other.http('policy.standings', { repo }), 'FORBIDDEN', 'a worker reading policy.standings');
    }),
  ],
};
