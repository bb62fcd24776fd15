/**
 * The access matrix: every protected operation, with valid params, tried by every principal that
 * must not succeed — no token, a bad token, a revoked token, another worker, a worker on
 * maintainer operations, a maintainer on worker operations, a maintainer of another repo, a
 * scoped maintainer on admin operations. Every case must be refused with the right code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATIONS, type OperationName } from '../../protocol/operations.ts';
import { HttpClient } from '../../client/http-client.ts';
import { nextOffer, startPool } from '../helpers/coordinator.ts';
import { recordFigures } from '../helpers/figures.ts';

test('every protected operation is refused to everyone who must not call it', async () => {
  const pool = await startPool();
  try {
    await pool.repo('mine/r');
    await pool.repo('theirs/r');
    await pool.task('theirs/r', { title: 'their task' });
    const holder = await pool.join({ capacity: 5 });
    const offer = await nextOffer(holder);
    const { lease } = await holder.accept(offer.offer_id);
    await pool.task('theirs/r', { title: 'offered next' });
    const offer2 = await nextOffer(holder);
    const other = await pool.join();
    const revoked = await pool.join();
    await pool.admin.call('worker.revoke', { worker_id: revoked.worker!.id });
    const { token: scopedToken } = await pool.admin.call('maintainer.create', { name: 'mine', repos: ['mine/*'] });

    const params: Record<OperationName, Record<string, unknown>> = {
      'coordinator.info': {},
      'session.hello': { protocol_version: '0.1' },
      'worker.register': {},
      'worker.status': {},
      'worker.update': { capacity: 2 },
      'offer.list': {},
      'offer.accept': { offer_id: offer2.offer_id },
      'offer.decline': { offer_id: offer2.offer_id },
      'task.claim': { task_id: offer2.task_id },
      'lease.heartbeat': { lease_id: lease.lease_id, epoch: lease.epoch },
      'lease.release': { lease_id: lease.lease_id, epoch: lease.epoch },
      'lease.report': { lease_id: lease.lease_id, epoch: lease.epoch, state: 'in_progress' },
      'task.list': {},
      'task.get': { task_id: lease.task_id },
      'task.explain': { task_id: lease.task_id },
      'task.create': { repo: 'theirs/r', title: 'sneaky' },
      'task.update': { task_id: lease.task_id, title: 'renamed' },
      'task.cancel': { task_id: lease.task_id },
      'task.block': { task_id: lease.task_id, reason: 'no' },
      'task.unblock': { task_id: lease.task_id },
      'task.complete': { task_id: lease.task_id, outcome: 'merged' },
      'task.report_checks': { task_id: lease.task_id, head_sha: 'abc1234', checks: [] },
      'lease.cancel': { lease_id: lease.lease_id },
      'repo.configure': { repo: 'theirs/r', max_open_prs: 100 },
      'repo.get': { repo: 'theirs/r' },
      'repo.list': {},
      'worker.list': {},
      'contributor.vouch': { repo: 'theirs/r', login: 'octocat' },
      'contributor.denounce': { repo: 'theirs/r', login: 'octocat', reason: 'spam' },
      'contributor.list': { repo: 'theirs/r' },
      'worker.set_trust': { worker_id: holder.worker!.id, trust: 3 },
      'worker.revoke': { worker_id: holder.worker!.id },
      'maintainer.create': { name: 'evil', repos: ['*'] },
      'journal.read': {},
      'metrics.get': {},
    };
    const as = (token?: string) => new HttpClient({ baseUrl: pool.url, ...(token ? { token } : {}) });
    const callers = {
      'no token': as(),
      'a bad token': as('owpw_forged-token-value'),
      'a revoked token': as(revoked.token),
      'another worker': as(other.token),
      'a maintainer of another repo': as(scopedToken),
    };
    let tried = 0;
    let refused = 0;
    const expect = async (who: keyof typeof callers, name: OperationName, codes: string[]): Promise<void> => {
      tried += 1;
      const ack = await callers[who].callRaw(name, { ...params[name] });
      assert.equal(ack.ok, false, `${name} by ${who} must be refused`);
      if (!ack.ok) {
        assert.ok(codes.includes(ack.error.code), `${name} by ${who}: expected ${codes.join('|')}, got ${ack.error.code}`);
        refused += 1;
      }
    };
    for (const [name, d] of Object.entries(OPERATIONS) as Array<[OperationName, (typeof OPERATIONS)[OperationName]]>) {
      if (d.auth === 'none' || !d.http) continue;
      await expect('no token', name, ['UNAUTHENTICATED']);
      await expect('a bad token', name, ['UNAUTHENTICATED']);
      await expect('a revoked token', name, ['UNAUTHENTICATED']);
      if (d.auth === 'maintainer' || d.auth === 'admin') await expect('another worker', name, ['FORBIDDEN']);
      if (d.auth === 'worker') await expect('a maintainer of another repo', name, ['FORBIDDEN']);
      if (d.auth === 'admin') await expect('a maintainer of another repo', name, ['FORBIDDEN']);
      if (d.auth === 'maintainer' && name !== 'worker.list' && name !== 'journal.read') await expect('a maintainer of another repo', name, ['FORBIDDEN']);
    }
    for (const name of ['offer.accept', 'offer.decline', 'lease.heartbeat', 'lease.release', 'lease.report'] as const) {
      await expect('another worker', name, ['NOT_HOLDER']);
    }
    recordFigures('access', { access_cases_tried: tried, access_cases_refused: refused });
    assert.equal(refused, tried);
    assert.ok(tried > 80, `only ${tried} access cases`);
    // Nothing changed hands: the holder still holds its lease and the task is untouched.
    const { task } = await pool.admin.call('task.get', { task_id: lease.task_id });
    assert.equal(task.state, 'leased');
    assert.equal(task.title, 'their task');
  } finally {
    await pool.close();
  }
});
