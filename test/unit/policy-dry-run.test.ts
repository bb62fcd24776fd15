/**
 * Rules in report mode (`.owp/policy.yml` `modes: { <rule>: report }`): they refuse nothing, and
 * each offer or claim they would have refused is journaled as policy.dry_run_hit, once per task,
 * worker and rule, so a maintainer sees a rule's effect before enforcing it without the journal
 * growing with every re-offer. On the engine with the repo policy hooks, as the coordinator runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRepoPolicy, explainRepoPolicy } from '../../coordinator/policy.ts';
import { State } from '../../coordinator/state/state.ts';
import type { RepoPolicy } from '../../protocol/policy-schema.ts';
import { checkPolicyText } from '../../protocol/policy-schema.ts';
import { EngineHarness } from '../helpers/engine.ts';

const REPO = 'o/dry';
const OFFER_TIMEOUT_MS = 1000;

function harness(policy: RepoPolicy, budget = { max_open_prs: 50, max_new_prs_per_hour: 50 }): EngineHarness {
  const h = new EngineHarness({ policy: checkRepoPolicy, explainPolicy: explainRepoPolicy });
  h.repo(REPO, { ...budget, offer_timeout_ms: OFFER_TIMEOUT_MS, max_attempts: 10, policy });
  return h;
}

function hits(h: EngineHarness): Array<{ task_id?: string; worker_id?: string; rule: string; via: string }> {
  return h.journal.flatMap((e) => (e.type === 'policy.dry_run_hit' ? [{ task_id: e.task_id, worker_id: e.worker_id, rule: e.data.rule, via: e.data.via }] : []));
}

test('a rule in report mode refuses nothing and journals the claim it would have refused, with task.explain saying so', () => {
  const h = harness({ contributor_cap: { base: 1 }, modes: { contributor_cap: 'report' } });
  const ada = h.worker({ github_login: 'ada', capacity: 5 });
  const first = h.task(REPO);
  const second = h.task(REPO);
  h.ok(ada, 'task.claim', { task_id: first });
  assert.deepEqual(hits(h), []);
  h.ok(ada, 'task.claim', { task_id: second });
  assert.deepEqual(hits(h), [{ task_id: second, worker_id: ada.id, rule: 'contributor_cap', via: 'claim' }]);
  const third = h.task(REPO);
  const explained = h.ok(h.admin, 'task.explain', { task_id: third, worker_id: ada.id });
  assert.deepEqual(explained.policy.find((v: { rule: string }) => v.rule === 'contributor_cap'), {
    rule: 'contributor_cap', passed: false, mode: 'report', message: `${ada.id}'s contributor holds 2 of their cap 1 in ${REPO} (0 open PR(s), 2 lease(s), 0 offer(s); 0 merged PR(s) here, trust 0)`,
  });
  assert.equal(explained.offerable, true, 'a rule in report mode does not make the task unofferable');
  // The same policy enforced refuses the claim.
  const enforced = harness({ contributor_cap: { base: 1 } });
  const bob = enforced.worker({ github_login: 'bob', capacity: 5 });
  enforced.ok(bob, 'task.claim', { task_id: enforced.task(REPO) });
  assert.equal(enforced.refused(bob, 'task.claim', { task_id: enforced.task(REPO) }), 'POLICY_DENIED');
});

test('a task offered again and again to the same worker records its dry-run hit once', () => {
  const h = harness({ logins: { deny: ['ada'] }, modes: { login_deny: 'report' } });
  const ada = h.worker({ github_login: 'ada', capacity: 5 });
  const task = h.task(REPO);
  let offers = 0;
  for (let round = 0; round < 4; round += 1) {
    h.settle();
    const offer = h.offerOf(ada);
    assert.equal(offer?.task_id, task, `round ${round}: the denied login is still offered the task (report mode)`);
    offers += 1;
    h.ok(ada, 'offer.decline', { offer_id: offer?.offer_id });
    h.advance(OFFER_TIMEOUT_MS + 1);
  }
  assert.equal(offers, 4);
  assert.deepEqual(hits(h), [{ task_id: task, worker_id: ada.id, rule: 'login_deny', via: 'offer' }]);
  assert.deepEqual(h.engine.state.repos.get(REPO)?.stats.dry_run_hits, { login_deny: 1 });
  // What was recorded survives a snapshot, so a restart does not record the hit again.
  const restored = State.fromSnapshot(h.engine.state.toSnapshot());
  assert.deepEqual(restored.durableView(), h.engine.state.durableView());
  assert.deepEqual(restored.tasks.get(task)?.dry_run_seen, h.engine.state.tasks.get(task)?.dry_run_seen);
  // The task as served does not carry the record.
  assert.equal('dry_run_seen' in h.ok(h.admin, 'task.get', { task_id: task }).task, false);
});

test('a budget limit in report mode lets offers past it and records each, while an enforced one holds', () => {
  const h = harness({ modes: { max_open_prs: 'report' } }, { max_open_prs: 1, max_new_prs_per_hour: 50 });
  const ada = h.worker({ github_login: 'ada', capacity: 1 });
  const bob = h.worker({ github_login: 'bob', capacity: 1 });
  h.task(REPO);
  h.task(REPO);
  h.settle();
  assert.ok(h.offerOf(ada) && h.offerOf(bob), 'both workers are offered a task past max_open_prs 1');
  assert.deepEqual(hits(h).map((x) => x.rule), ['max_open_prs']);

  const enforced = harness({}, { max_open_prs: 1, max_new_prs_per_hour: 50 });
  const cy = enforced.worker({ github_login: 'cy', capacity: 1 });
  const dee = enforced.worker({ github_login: 'dee', capacity: 1 });
  enforced.task(REPO);
  enforced.task(REPO);
  enforced.settle();
  assert.equal([enforced.offerOf(cy), enforced.offerOf(dee)].filter(Boolean).length, 1);
});

test('modes takes rule ids and enforce or report, nothing else', () => {
  assert.deepEqual(checkPolicyText('modes:\n  contributor_cap: report\n  max_open_prs: enforce\n').diagnostics, []);
  const checked = checkPolicyText('modes:\n  contributor_capp: report\n  login_deny: warn\n');
  assert.equal(checked.value, undefined);
  assert.equal(checked.diagnostics.filter((d) => d.severity === 'error').length, 2, JSON.stringify(checked.diagnostics.map((d) => d.message)));
});
