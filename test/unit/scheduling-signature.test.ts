/**
 * The scheduler skips every ready task whose signature no idle worker could take (within a pass).
 * That is right only if the signature holds everything worker eligibility reads of a task; these
 * tests check it against what eligibility, with every repo policy rule on, really reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ELIGIBILITY_FIELDS, schedulingSignature } from '../../coordinator/engine/eligibility.ts';
import { checkRepoPolicy, explainRepoPolicy } from '../../coordinator/policy.ts';
import type { TaskRecord } from '../../coordinator/state/records.ts';
import type { RepoPolicy } from '../../protocol/policy-schema.ts';
import { EngineHarness } from '../helpers/engine.ts';

/** A policy with every rule that looks at a task or a worker. */
const EVERY_RULE: RepoPolicy = {
  logins: { allow: ['ada', 'bob', 'cy'], deny: ['mallory'] },
  safe_lanes: { below_trust: 1, lanes: ['docs'] },
  tiers: [{ from_tier: 1, min_trust: 2 }],
  max_active_per_worker: 2,
  contributor_cap: { base: 1, per_merge: 2, per_trust: 1, max: 4, count_drafts: false, bypass: ['cy'] },
  areas: { core: { max_active: 1, min_trust: 1 }, 'core/db': { risky: true, min_trust: 3, allow: ['cy'] } },
};

function pool(): { h: EngineHarness; repo: string } {
  const h = new EngineHarness({ policy: checkRepoPolicy, explainPolicy: explainRepoPolicy });
  const repo = 'o/signature';
  h.repo(repo, { policy: EVERY_RULE, max_open_prs: 50, max_new_prs_per_hour: 50 });
  h.worker({ github_login: 'ada', skills: ['docs', 'ts'], capacity: 3 }, 0);
  h.worker({ github_login: 'bob', skills: ['ts', 'sql'], capacity: 1 }, 1);
  h.worker({ github_login: 'cy', skills: ['docs', 'ts', 'sql'], capacity: 5 }, 3);
  h.worker({ github_login: 'mallory', skills: ['docs', 'ts', 'sql'], capacity: 5 }, 3);
  return { h, repo };
}

const SHAPES = [
  { area: 'docs', tier: 0, effort: 1, skills: ['docs'] },
  { area: 'core', tier: 1, effort: 2, skills: ['ts'] },
  { area: 'core/db', tier: 2, effort: 1, skills: ['sql', 'ts'] },
  { tier: 0, effort: 4, skills: [] },
];

test('worker eligibility, with every policy rule on, reads a task only through its signature fields and its id', () => {
  const { h, repo } = pool();
  const read = new Set<string>();
  for (const shape of SHAPES) {
    const task = h.engine.state.tasks.get(h.task(repo, shape)) as TaskRecord;
    const watched = new Proxy(task, {
      get(target, key, receiver) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key, receiver);
      },
    });
    for (const w of h.engine.state.workers.values()) {
      for (const holdingTask of [false, true]) h.engine.eligibility.workerReasons(watched, w, { holdingTask, forOffer: true });
      explainRepoPolicy({ task: watched, worker: w.record, repo: h.engine.state.repos.get(repo)!.settings, state: h.engine.state });
    }
  }
  const allowed = new Set<string>([...ELIGIBILITY_FIELDS, 'id']);
  assert.deepEqual([...read].filter((field) => !allowed.has(field)), [], 'eligibility read a task field the scheduling signature leaves out');
  for (const field of ELIGIBILITY_FIELDS) assert.ok(read.has(field), `${field} is in the signature but eligibility never reads it`);
});

test('ready tasks that differ only outside the signature get the same verdict from every worker', () => {
  const { h, repo } = pool();
  for (const shape of SHAPES) {
    const a = h.engine.state.tasks.get(h.task(repo, { ...shape, title: 'first', priority: 5, body: 'a', x_source: 'one' })) as TaskRecord;
    h.clock.advance(1000);
    const b = h.engine.state.tasks.get(h.task(repo, { ...shape, title: 'second', priority: -5, body: 'b', acceptance: ['x'] })) as TaskRecord;
    assert.equal(schedulingSignature(a), schedulingSignature(b));
    for (const w of h.engine.state.workers.values()) {
      const verdict = (t: TaskRecord): string[] => h.engine.eligibility.workerReasons(t, w, { holdingTask: false, forOffer: true }).map((r) => r.code);
      assert.deepEqual(verdict(a), verdict(b), `${w.record.github_login} on ${JSON.stringify(shape)}`);
    }
  }
});

test('a change to any signature field changes the signature', () => {
  const base: Pick<TaskRecord, 'id' | (typeof ELIGIBILITY_FIELDS)[number]> = { id: 'T-1', repo: 'o/r', area: 'docs', tier: 0, effort: 1, skills: ['docs', 'ts'] };
  const variants = [{ repo: 'o/other' }, { area: 'core' }, { area: undefined }, { tier: 1 }, { effort: 2 }, { skills: ['docs'] }];
  for (const v of variants) assert.notEqual(schedulingSignature({ ...base, ...v }), schedulingSignature(base), JSON.stringify(v));
  assert.equal(schedulingSignature({ ...base, skills: ['ts', 'docs'] }), schedulingSignature(base), 'skill order does not matter');
});
