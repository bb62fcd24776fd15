/**
 * One short history that makes the coordinator write every event type it writes, through the
 * runtime's public calls on a manual clock. The journal-event tests check each event as served
 * against its wire schema; `npx tsx test/helpers/every-event.ts DIR` writes the history into a
 * lowdb data dir (test/fixtures/journal-0.1/ was written so, by the coordinator before the typed
 * journal, and must keep loading).
 */
import { ManualClock } from '../../coordinator/clock.ts';
import { Runtime } from '../../coordinator/runtime.ts';
import type { Principal } from '../../coordinator/auth.ts';
import type { Store } from '../../coordinator/store/store.ts';
import { OPERATIONS, type OperationName } from '../../protocol/operations.ts';

const ADMIN = 'owpm_every_event_admin';
const REPO = 'octo/every';
const GATES = [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0 }];

export async function writeEveryEvent(store: Store): Promise<Runtime> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const runtime = await Runtime.open({ store, clock, timers: false, adminTokens: [ADMIN] });
  const admin = runtime.authenticate(ADMIN) as Principal;
  let key = 0;
  const call = async (p: Principal, name: OperationName, params: Record<string, unknown> = {}): Promise<any> => {
    const ack = await runtime.call(p, name, OPERATIONS[name].mutating ? { idempotency_key: `k${(key += 1)}`, ...params } : params);
    if (!ack.ok) throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
    return ack.data;
  };
  const profile = { skills: ['docs'], capacity: 3, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };
  const register = async (login: string): Promise<Principal> => {
    const { worker } = await call({ kind: 'anonymous' }, 'worker.register', { github_login: login, ...profile, idempotency_key: `register-${login}` });
    return { kind: 'worker', id: worker.id };
  };
  const offerOf = async (w: Principal): Promise<{ offer_id: string; task_id: string }> => {
    await runtime.sweep();
    const [offer] = (await call(w, 'offer.list')).offers;
    if (!offer) throw new Error(`no offer for ${w.kind === 'worker' ? w.id : ''}`);
    return offer;
  };

  await call(admin, 'repo.configure', { repo: REPO, max_open_prs: 10, max_new_prs_per_hour: 10, max_attempts: 5 });
  const { maintainer } = await call(admin, 'maintainer.create', { name: 'docs team', repos: [REPO] });
  await call(admin, 'maintainer.revoke', { maintainer_id: maintainer.id, reason: 'left the team' });
  const ada = await register('ada');
  await call({ kind: 'anonymous' }, 'worker.register', { github_login: 'ada', ...profile, idempotency_key: 'register-ada' }); // worker.token_rotated
  const bob = await register('bob');
  const adaId = ada.kind === 'worker' ? ada.id : '';
  const bobId = bob.kind === 'worker' ? bob.id : '';
  await call(ada, 'worker.update', { capacity: 4 });
  await call(admin, 'worker.set_trust', { worker_id: bobId, trust: 1 });

  const first = (await call(admin, 'task.create', { repo: REPO, title: 'first', area: 'docs' })).task.id;
  await call(admin, 'task.update', { task_id: first, priority: 5 });
  await runtime.workerConnected(adaId);
  // offer.created, then offer.declined
  const declined = await offerOf(ada);
  await call(ada, 'offer.decline', { offer_id: declined.offer_id, reason: 'not now' });
  // offer.expired: bob lets his offer pass its deadline
  await runtime.workerConnected(bobId);
  await offerOf(bob);
  clock.advance(31_000);
  await runtime.sweep();
  // offer.withdrawn: ada goes offline with an open offer
  await offerOf(ada);
  await runtime.workerDisconnected(adaId);
  await runtime.workerConnected(adaId);
  // lease.granted by accept, task.started, pr.opened, task.merged
  const accepted = await offerOf(ada);
  const { lease } = await call(ada, 'offer.accept', { offer_id: accepted.offer_id });
  await call(ada, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'in_progress' });
  await call(ada, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/octo/every/pull/1', number: 1, gates: GATES } });
  await call(admin, 'task.complete', { task_id: first, outcome: 'merged' });

  // Offline from here, so nothing is offered: lease.granted by claim, lease.released, lease.expired, lease.cancelled
  await runtime.workerDisconnected(adaId);
  await runtime.workerDisconnected(bobId);
  const second = (await call(admin, 'task.create', { repo: REPO, title: 'second' })).task.id;
  const claim = async (taskId: string): Promise<{ lease_id: string; epoch: number }> => (await call(ada, 'task.claim', { task_id: taskId })).lease;
  const released = await claim(second);
  await call(ada, 'lease.release', { lease_id: released.lease_id, epoch: released.epoch, reason: 'stuck' });
  await claim(second);
  clock.advance(31_000);
  await runtime.sweep();
  const cancelled = await claim(second);
  await call(admin, 'lease.cancel', { lease_id: cancelled.lease_id, reason: 'reassigning' });
  // task.blocked by the worker, task.unblocked, task.blocked by a maintainer, task.closed (cancelled)
  const blocked = await claim(second);
  await call(ada, 'lease.report', { lease_id: blocked.lease_id, epoch: blocked.epoch, state: 'blocked', reason: 'needs a decision' });
  await call(admin, 'task.unblock', { task_id: second });
  await call(admin, 'task.block', { task_id: second, reason: 'on hold' });
  await call(admin, 'task.cancel', { task_id: second, reason: 'not needed' });
  // contributor.standing_set
  await call(admin, 'contributor.vouch', { repo: REPO, login: 'ada', reason: 'known contributor' });
  // task.closed with a PR outcome; policy.dry_run_hit: the claim goes past max_open_prs 0 in report mode
  // (an adaptive budget at its floor 0: the closed PR cannot lower it, so no budget.adapted yet)
  await call(admin, 'repo.configure', { repo: REPO, max_open_prs: 0, policy: { modes: { max_open_prs: 'report' }, budget: { adaptive: { floor: 0, ceiling: 5, target_review_hours: 1 } } } });
  const third = (await call(admin, 'task.create', { repo: REPO, title: 'third' })).task.id;
  const prLease = await claim(third);
  await call(ada, 'lease.report', { lease_id: prLease.lease_id, epoch: prLease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/octo/every/pull/2', gates: GATES } });
  await call(admin, 'task.complete', { task_id: third, outcome: 'closed', reason: 'superseded' });
  // Gates proven by CI: pr.attached, pr.checks_updated (failed), pr.checks_timed_out, a new head that passes (pr.checks_updated, pr.opened)
  await call(admin, 'repo.configure', { repo: REPO, required_checks: ['build'], checks_timeout_ms: 60_000 });
  const fourth = (await call(admin, 'task.create', { repo: REPO, title: 'fourth' })).task.id;
  const ciLease = await claim(fourth);
  await call(ada, 'lease.report', { lease_id: ciLease.lease_id, epoch: ciLease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/octo/every/pull/3', gates: GATES, head_sha: 'aaaaaaa' } });
  await call(admin, 'task.report_checks', { task_id: fourth, head_sha: 'aaaaaaa', checks: [{ name: 'build', status: 'failure', url: 'https://ci.example/build/1' }] });
  clock.advance(61_000);
  await runtime.sweep();
  await call(admin, 'task.report_checks', { task_id: fourth, head_sha: 'bbbbbbb', checks: [{ name: 'build', status: 'success' }] });
  // budget.adapted: merged as soon as it counted, within the target review time: 0 → 1
  await call(admin, 'task.complete', { task_id: fourth, outcome: 'merged' });
  // task.archived, worker.revoked
  clock.advance(11 * 60_000);
  await runtime.sweep();
  await call(admin, 'worker.revoke', { worker_id: bobId, reason: 'left' });
  await runtime.whenIdle();
  return runtime;
}

if (process.argv[1]?.endsWith('every-event.ts')) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npx tsx test/helpers/every-event.ts DIR');
  const { LowdbStore } = await import('../../coordinator/store/lowdb.ts');
  const runtime = await writeEveryEvent(new LowdbStore(dir));
  await runtime.close();
}
