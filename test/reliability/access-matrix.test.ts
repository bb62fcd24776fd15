/**
 * SPEC AUTH-001 to AUTH-005 and AUTH-008. The access matrix: every operation of protocol/operations.ts × every kind of principal × both
 * bindings. What each principal may do is derived from the operation's descriptor (its `auth` and
 * what it reaches, `scope`), so a new operation is covered as soon as it has a params fixture here
 * (the Record below does not compile without one).
 *
 * The world: repo A (`alpha/a`, public) and repo B (`beta/b`, private, admitting only the holder's
 * login). The holder holds a lease and an open offer in B. Principals: no token, a forged token, a
 * revoked worker's and a revoked maintainer's token, the holder, another worker, a maintainer of
 * A, a maintainer of B, the admin. Every operation targets B (or the holder's offer and lease).
 *
 * Three phases: every case that must be refused is refused with its code and writes nothing; every
 * read that is allowed answers; lists answer only what the principal may read (B's tasks, events,
 * settings and counts never reach another worker or A's maintainer). Then each allowed mutation,
 * by its least-privileged principal, is not refused for access.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io, type Socket } from 'socket.io-client';
import { OPERATIONS, type Ack, type OperationName } from '../../protocol/operations.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Metrics, Task } from '../../protocol/model.ts';
import { HttpClient } from '../../client/http-client.ts';
import { nextOffer, startPool } from '../helpers/coordinator.ts';
import { recordFigures } from '../helpers/figures.ts';

const A = 'alpha/a';
const B = 'beta/b';
const PRINCIPALS = ['no token', 'a forged token', 'a revoked worker token', 'a revoked maintainer token', 'the holder', 'another worker', 'the maintainer of A', 'the maintainer of B', 'the admin'] as const;
type Who = (typeof PRINCIPALS)[number];
type Binding = 'http' | 'socket';
/** What an operation's params name: the holder's offer or lease, something in B, or nothing (a list). */
type Target = 'held' | 'repo' | 'nothing';
const ACCESS_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_HOLDER', 'HELLO_REQUIRED']);

/** What `who` gets for `name`: 'allowed', or the codes a refusal may carry. Derived from the descriptor alone. */
function expectedAccess(name: OperationName, who: Who, binding: Binding, target: Target): 'allowed' | string[] {
  const d = OPERATIONS[name];
  const worker = who === 'the holder' || who === 'another worker';
  const maintainer = who === 'the maintainer of A' || who === 'the maintainer of B' || who === 'the admin';
  if (who === 'a forged token' || who === 'a revoked worker token' || who === 'a revoked maintainer token') return ['UNAUTHENTICATED'];
  if (who === 'no token') {
    if (d.auth === 'none') return 'allowed';
    // Before a hello (which needs a token) a socket may call only coordinator.info and worker.register.
    return binding === 'socket' ? ['UNAUTHENTICATED', 'HELLO_REQUIRED'] : ['UNAUTHENTICATED'];
  }
  if (d.auth === 'none' || (d.auth === 'any' && d.scope !== 'repo')) return 'allowed';
  if (d.auth === 'worker' && maintainer) return ['FORBIDDEN'];
  if ((d.auth === 'maintainer' || d.auth === 'admin') && worker) return ['FORBIDDEN'];
  if (d.auth === 'admin') return who === 'the admin' ? 'allowed' : ['FORBIDDEN'];
  // A list that names no repo answers what the caller may read (checked below), never a refusal.
  if (d.scope === 'repo' && target === 'nothing') return 'allowed';
  // What remains reaches B or the holder's own offer and lease.
  if (who === 'the maintainer of A') return d.scope === 'repo' ? ['FORBIDDEN'] : 'allowed';
  if (maintainer) return 'allowed';
  if (d.scope === 'own') return who === 'another worker' && target === 'held' ? ['NOT_HOLDER'] : 'allowed';
  // A repo read or claim in private B: the holder is admitted; another worker is told B does not exist.
  return who === 'the holder' ? 'allowed' : ['NOT_FOUND'];
}

test('every operation, by every kind of principal, on both bindings, is allowed or refused as its descriptor says', async () => {
  const pool = await startPool();
  const sockets: Socket[] = [];
  try {
    const admin = pool.admin;
    await pool.repo(A);
    // A ready task nobody can take (no worker has rust), so nothing in A changes hands during the test.
    const taskA = await pool.task(A, { title: 'alpha task', skills: ['rust'] });
    const holderLogin = 'holder-of-b';
    await pool.repo(B, { visibility: 'private', offer_timeout_ms: 600_000, policy: { logins: { allow: [holderLogin] } } });
    const taskB = await pool.task(B, { title: 'private beta task' });
    const holder = await pool.join({ github_login: holderLogin, capacity: 5 });
    const { lease } = await holder.accept((await nextOffer(holder)).offer_id);
    const offeredB = await pool.task(B, { title: 'offered next' });
    const offer = await nextOffer(holder);
    assert.equal(offer.task_id, offeredB);
    const other = await pool.join();
    const revokedWorker = await pool.join();
    await admin.call('worker.revoke', { worker_id: revokedWorker.worker!.id });
    const { token: tokenA } = await admin.call('maintainer.create', { name: 'alpha team', repos: ['alpha/*'] });
    const { token: tokenB } = await admin.call('maintainer.create', { name: 'beta team', repos: [B] });
    const { maintainer: gone, token: revokedMaintainer } = await admin.call('maintainer.create', { name: 'former', repos: ['*'] });
    await admin.call('maintainer.revoke', { maintainer_id: gone.id });

    const tokens: Record<Who, string | undefined> = {
      'no token': undefined,
      'a forged token': 'owpw_forged-token-value',
      'a revoked worker token': revokedWorker.token,
      'a revoked maintainer token': revokedMaintainer,
      'the holder': holder.token,
      'another worker': other.token,
      'the maintainer of A': tokenA,
      'the maintainer of B': tokenB,
      'the admin': pool.adminToken,
    };
    const params: Record<OperationName, Record<string, unknown>> = {
      'coordinator.info': {},
      'session.hello': { protocol_version: '0.1' },
      'worker.register': { github_login: 'newcomer', skills: [], capacity: 1, tools: [], capabilities: { can_run_tests: false, can_open_prs: false } },
      'worker.status': {},
      'worker.prs': {},
      'worker.update': { capacity: 5 },
      'offer.list': {},
      'offer.accept': { offer_id: offer.offer_id },
      'offer.decline': { offer_id: offer.offer_id },
      'task.claim': { task_id: offeredB },
      'lease.heartbeat': { lease_id: lease.lease_id, epoch: lease.epoch },
      'lease.release': { lease_id: lease.lease_id, epoch: lease.epoch },
      'lease.report': { lease_id: lease.lease_id, epoch: lease.epoch, state: 'in_progress' },
      'task.list': { repo: B },
      'task.get': { task_id: taskB },
      'task.explain': { task_id: taskB },
      'task.create': { repo: B, title: 'sneaky' },
      'task.create_many': { tasks: [{ repo: B, title: 'sneaky' }] },
      'task.update': { task_id: taskB, title: 'renamed' },
      'task.cancel': { task_id: taskB },
      'task.block': { task_id: taskB, reason: 'no' },
      'task.unblock': { task_id: taskB },
      'task.complete': { task_id: taskB, outcome: 'merged' },
      'task.report_checks': { task_id: taskB, head_sha: 'abc1234', checks: [] },
      'lease.cancel': { lease_id: lease.lease_id },
      'repo.configure': { repo: B, max_open_prs: 100 },
      'repo.get': { repo: B },
      'repo.list': {},
      'worker.list': {},
      'contributor.vouch': { repo: B, login: 'octocat' },
      'contributor.denounce': { repo: B, login: 'octocat', reason: 'spam' },
      'contributor.list': { repo: B },
      'policy.standings': { repo: B },
      'worker.set_trust': { worker_id: holder.worker!.id, trust: 3 },
      'worker.revoke': { worker_id: holder.worker!.id },
      'maintainer.create': { name: 'evil', repos: ['*'] },
      'maintainer.revoke': { maintainer_id: 'M-2' },
      'maintainer.list': {},
      'journal.read': { repo: B },
      'metrics.get': { repo: B },
    };
    const targetOf = (name: OperationName): Target =>
      'offer_id' in params[name] || 'lease_id' in params[name] ? 'held' : 'repo' in params[name] || 'task_id' in params[name] || 'tasks' in params[name] ? 'repo' : 'nothing';

    // One caller per principal and binding. A socket whose handshake is refused refuses every operation.
    const callers = new Map<string, (name: OperationName, p: Record<string, unknown>) => Promise<Ack<unknown>>>();
    let handshakesRefused = 0;
    for (const who of PRINCIPALS) {
      const token = tokens[who];
      const http = new HttpClient({ baseUrl: pool.url, ...(token ? { token } : {}) });
      callers.set(`http ${who}`, (name, p) => http.callRaw(name, p));
      const socket = io(pool.url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false });
      sockets.push(socket);
      const connected = await new Promise<boolean | string>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code ?? error.message));
      });
      if (connected !== true) {
        assert.equal(connected, 'UNAUTHENTICATED', `the socket handshake of ${who}`);
        handshakesRefused += 1;
        callers.set(`socket ${who}`, async () => ({ ok: false, error: { code: 'UNAUTHENTICATED', message: 'handshake refused' } }));
        continue;
      }
      if (token) {
        const hello = (await socket.emitWithAck('session.hello', { protocol_version: '0.1' })) as Ack<unknown>;
        assert.equal(hello.ok, true, `hello of ${who}`);
      }
      callers.set(`socket ${who}`, (name, p) => socket.emitWithAck(name, { ...p, ...(OPERATIONS[name].mutating && !OPERATIONS[name].idempotentByNature ? { idempotency_key: `k-${Math.random()}` } : {}) }) as Promise<Ack<unknown>>);
    }
    assert.equal(handshakesRefused, 3, 'the forged and both revoked tokens are refused at the socket handshake');

    const state = pool.coordinator.runtime.engine.state;
    const allowed: Array<{ name: OperationName; who: Who; binding: Binding }> = [];
    let refusals = 0;
    const seqBefore = state.seq;
    for (const [name, d] of Object.entries(OPERATIONS) as Array<[OperationName, (typeof OPERATIONS)[OperationName]]>) {
      for (const binding of ['http', 'socket'] as const) {
        if (binding === 'http' ? !d.http : d.binding === 'http') continue;
        for (const who of PRINCIPALS) {
          const expected = expectedAccess(name, who, binding, targetOf(name));
          if (expected === 'allowed') {
            allowed.push({ name, who, binding });
            continue;
          }
          const ack = await callers.get(`${binding} ${who}`)!(name, { ...params[name] });
          assert.equal(ack.ok, false, `${name} by ${who} over ${binding} must be refused`);
          if (!ack.ok) assert.ok(expected.includes(ack.error.code), `${name} by ${who} over ${binding}: expected ${expected.join('|')}, got ${ack.error.code} (${ack.error.message})`);
          refusals += 1;
        }
      }
    }
    await pool.coordinator.runtime.whenIdle();
    assert.equal(state.seq, seqBefore, 'no refused call wrote anything');
    const operations = Object.keys(OPERATIONS).length;
    assert.ok(refusals > operations * 8, `only ${refusals} refusals for ${operations} operations`);

    // Allowed reads answer; lists answer only what the caller may read.
    let reads = 0;
    for (const { name, who, binding } of allowed) {
      if (OPERATIONS[name].mutating) continue;
      const ack = await callers.get(`${binding} ${who}`)!(name, { ...params[name] });
      assert.equal(ack.ok, true, `${name} by ${who} over ${binding} must answer: ${ack.ok ? '' : `${ack.error.code} ${ack.error.message}`}`);
      reads += 1;
    }
    assert.ok(reads > operations, `only ${reads} allowed reads`);
    for (const binding of ['http', 'socket'] as const) {
      const read = async <T>(who: Who, name: OperationName, p: Record<string, unknown> = {}): Promise<T> => {
        const ack = await callers.get(`${binding} ${who}`)!(name, p);
        if (!ack.ok) throw new Error(`${name} by ${who} over ${binding}: ${ack.error.code} ${ack.error.message}`);
        return ack.data as T;
      };
      for (const who of ['another worker', 'the maintainer of A'] as const) {
        const { tasks } = await read<{ tasks: Task[] }>(who, 'task.list');
        assert.deepEqual(tasks.map((t) => t.id), [taskA], `${who} lists only A's task over ${binding}`);
        const { repos } = await read<{ repos: Array<{ settings: { repo: string } }> }>(who, 'repo.list');
        assert.deepEqual(repos.map((r) => r.settings.repo), [A], `${who} lists only repo A over ${binding}`);
        const m = await read<Metrics>(who, 'metrics.get');
        assert.deepEqual(m.tasks_by_state.ready, 1, `${who}'s metrics count A's one ready task over ${binding}`);
        assert.equal(Object.values(m.tasks_by_state).reduce((x, y) => x + y, 0), 1, `${who}'s metrics count no task of B`);
      }
      const journalA = await read<{ events: JournalEvent[] }>('the maintainer of A', 'journal.read', { limit: 1000 });
      assert.ok(journalA.events.some((e) => e.repo === A), 'A\'s maintainer reads A\'s events');
      assert.equal(journalA.events.filter((e) => e.repo !== undefined && e.repo !== A).length, 0, 'and no event of another repo');
      const journalB = await read<{ events: JournalEvent[] }>('the maintainer of B', 'journal.read', { limit: 1000 });
      assert.ok(journalB.events.some((e) => e.repo === B), 'B\'s maintainer reads B\'s events');
      assert.equal(journalB.events.filter((e) => e.repo !== undefined && e.repo !== B).length, 0, 'and no event of another repo');
      const held = await read<{ tasks: Task[] }>('the holder', 'task.list');
      assert.deepEqual(held.tasks.map((t) => t.id).sort(), [taskA, taskB, offeredB].sort(), `the holder lists A and the B it is admitted to over ${binding}`);
      const seenByHolder = await read<{ settings: Record<string, unknown> }>('the holder', 'repo.get', { repo: B });
      assert.equal(seenByHolder.settings.policy, undefined, 'a worker does not see the policy\'s login lists');
      const seenByMaintainer = await read<{ settings: Record<string, unknown> }>('the maintainer of B', 'repo.get', { repo: B });
      assert.ok(seenByMaintainer.settings.policy, 'B\'s maintainer does');
      const explained = await callers.get(`${binding} another worker`)!('task.explain', { task_id: taskA, worker_id: holder.worker!.id });
      assert.equal(explained.ok ? 'ok' : explained.error.code, 'FORBIDDEN', 'a worker explains a task only for itself');
    }

    // Each allowed mutation, by its least-privileged principal, is not refused for access.
    const order: Who[] = ['no token', 'the holder', 'another worker', 'the maintainer of B', 'the admin'];
    let mutations = 0;
    const mutationOrder = (Object.keys(OPERATIONS) as OperationName[]).filter((n) => OPERATIONS[n].mutating && OPERATIONS[n].http)
      // Ending the holder's lease and worker last, so the operations on them still find them.
      .sort((a, b) => Number(a === 'worker.revoke' || a === 'lease.cancel' || a === 'task.cancel') - Number(b === 'worker.revoke' || b === 'lease.cancel' || b === 'task.cancel'));
    for (const name of mutationOrder) {
      const who = order.find((w) => allowed.some((a) => a.name === name && a.who === w && a.binding === 'http'));
      assert.ok(who, `someone may call ${name}`);
      const ack = await callers.get(`http ${who}`)!(name, { ...params[name] });
      if (!ack.ok) assert.ok(!ACCESS_CODES.has(ack.error.code), `${name} by ${who} was refused for access: ${ack.error.code} ${ack.error.message}`);
      mutations += 1;
    }
    assert.ok(mutations >= 20, `only ${mutations} mutations tried`);
    recordFigures('access', { access_cases_tried: refusals + reads + mutations, access_cases_refused: refusals });
  } finally {
    for (const s of sockets) s.close();
    await pool.close();
  }
});
