/** The audit journal and metrics (SPEC §5.10). */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { JOURNAL_EVENTS, isJournalEventType, journalEventSchema, type JournalEvent } from '../../protocol/journal-events.ts';
import type { Lease } from '../../protocol/model.ts';
import { check, checkEqual, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { claimedTask, openPr } from '../scenarios.ts';

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();

/** Why an event does not match the schema of its type in SPEC §5.10, or undefined. */
function eventProblem(e: { seq: number; type: string }): string | undefined {
  const { type, seq } = e;
  if (!isJournalEventType(type)) return `unknown event type ${type} (seq ${seq})`;
  let validate = validators.get(type);
  if (!validate) {
    validate = ajv.compile(journalEventSchema(JOURNAL_EVENTS[type]));
    validators.set(type, validate);
  }
  return validate(e) ? undefined : `${type} (seq ${seq}): ${ajv.errorsText(validate.errors)}`;
}

function checkInOrder(events: readonly JournalEvent[], afterSeq: number, what: string): void {
  let previous = afterSeq;
  for (const e of events) {
    check(e.seq > previous, `${what}: seq ${e.seq} after ${previous}`);
    previous = e.seq;
  }
}

export const SUITE: Suite = {
  area: 'journal',
  tests: [
    {
      requirement: 'JOURNAL-001',
      title: 'every change is journaled in order with gapless, strictly increasing seq',
      async run(world) {
        const head = await world.journalHead();
        const { repo, task, worker, lease } = await claimedTask(world);
        await world.connect(worker.token);
        await world.admin('worker.set_trust', { worker_id: worker.id, trust: 1 });
        await openPr(worker, lease);
        await world.admin('task.complete', { task_id: task.id, outcome: 'merged' });
        const events = await world.journal(head);
        events.forEach((e, i) => checkEqual(e.seq, head + i + 1, 'seq (gapless from the head)'));
        const mine = events.filter((e) => e.repo === repo || e.worker_id === worker.id);
        const kinds = ['repo', 'task created', 'worker registered', 'lease', 'worker connected', 'trust', 'pr', 'merged'];
        const find = (pred: (e: JournalEvent) => boolean): number => mine.findIndex(pred);
        const positions = [
          find((e) => e.type.startsWith('repo.')),
          find((e) => e.task_id === task.id && e.type.startsWith('task.')),
          find((e) => e.worker_id === worker.id && /regist/.test(e.type)),
          find((e) => e.task_id === task.id && e.type.startsWith('lease.')),
          find((e) => e.worker_id === worker.id && /connect/.test(e.type)),
          find((e) => e.worker_id === worker.id && /trust/.test(e.type)),
          find((e) => e.task_id === task.id && e.type.startsWith('pr.')),
          find((e) => e.task_id === task.id && /merged/.test(e.type)),
        ];
        positions.forEach((p, i) => check(p !== -1, `no journal event for: ${kinds[i]} (saw ${mine.map((e) => e.type).join(', ')})`));
        check(positions.every((p, i) => i === 0 || p > (positions[i - 1] as number)), `events out of order: ${mine.map((e) => e.type).join(', ')}`);
      },
    },
    {
      requirement: 'JOURNAL-001',
      title: 'each kind of change is journaled as its event type of SPEC §5.10, with that type\'s references and data',
      timeoutMs: 30_000,
      async run(world) {
        const head = await world.journalHead();
        // Long deadlines where the test answers, 1 s ones only where it waits for an expiry.
        const repo = await world.repo({ offer_timeout_ms: 30_000, heartbeat_timeout_ms: 30_000, max_attempts: 5 });
        const fast = await world.repo({ offer_timeout_ms: 1000, heartbeat_timeout_ms: 1000, max_attempts: 5 });
        await world.maintainer([repo]);
        const w = await world.worker({ connect: false });
        await world.admin('worker.set_trust', { worker_id: w.id, trust: 1 });
        expectOk(await w.http('worker.update', { capacity: 4 }), 'worker.update');
        // Claimed, started, released; claimed and cancelled by the maintainer; another claimed and left to expire.
        const t1 = await world.task(repo);
        await world.admin('task.update', { task_id: t1.id, priority: 3 });
        const claim = async (taskId: string): Promise<Lease> => expectOk<{ lease: Lease }>(await w.http('task.claim', { task_id: taskId }), `claim of ${taskId}`).lease;
        let lease = await claim(t1.id);
        expectOk(await w.http('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'in_progress' }), 'in_progress');
        expectOk(await w.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), 'release');
        lease = await claim(t1.id);
        await world.admin('lease.cancel', { lease_id: lease.lease_id });
        const expiring = await world.task(fast);
        await claim(expiring.id);
        await world.untilState(expiring.id, 'ready', 5000);
        // Blocked and unblocked, then a PR opened and merged; another task closed.
        await world.admin('task.block', { task_id: t1.id, reason: 'hold' });
        await world.admin('task.unblock', { task_id: t1.id });
        await openPr(w, await claim(t1.id));
        await world.admin('task.complete', { task_id: t1.id, outcome: 'merged' });
        const t2 = await world.task(repo);
        await world.admin('task.cancel', { task_id: t2.id });
        await world.admin('task.cancel', { task_id: expiring.id });
        // Offers: one declined, one left to expire, one withdrawn when the worker goes offline.
        const online = await world.worker();
        const t3 = await world.task(repo);
        const first = await online.nextOffer(t3.id);
        expectOk(await online.call('offer.decline', { offer_id: first.offer_id }), 'decline');
        const t4 = await world.task(fast);
        const second = await online.nextOffer(t4.id);
        await online.socket.waitFor('offer.withdrawn', (p) => p.offer_id === second.offer_id, 5000);
        const third = await online.nextOffer(undefined, 5000);
        online.socket.close();
        await world.until(async () => (await world.getTask(third.task_id)).offer?.offer_id !== third.offer_id, `the offer ${third.offer_id} ends when its worker goes offline`);
        await world.admin('worker.revoke', { worker_id: w.id });

        const events = await world.journal(head);
        events.forEach((e, i) => checkEqual(e.seq, head + i + 1, 'seq (gapless from the head)'));
        const problems = events.map(eventProblem).filter((p) => p !== undefined);
        checkEqual(problems, [], 'events that do not match their type\'s schema');
        const has = (type: string, pred: (e: JournalEvent) => boolean): boolean => events.some((e) => e.type === type && pred(e));
        const about = (id: string) => (e: JournalEvent): boolean => (e as { task_id?: string }).task_id === id;
        const by = (id: string) => (e: JournalEvent): boolean => (e as { worker_id?: string }).worker_id === id;
        const expected: Array<[string, (e: JournalEvent) => boolean]> = [
          ['repo.configured', (e) => (e as { repo?: string }).repo === repo],
          ['maintainer.created', () => true],
          ['worker.registered', by(w.id)],
          ['worker.trust_changed', by(w.id)],
          ['worker.updated', by(w.id)],
          ['task.created', about(t1.id)],
          ['task.updated', about(t1.id)],
          ['lease.granted', about(t1.id)],
          ['task.started', about(t1.id)],
          ['lease.released', about(t1.id)],
          ['lease.cancelled', about(t1.id)],
          ['lease.expired', about(expiring.id)],
          ['task.blocked', about(t1.id)],
          ['task.unblocked', about(t1.id)],
          ['pr.opened', about(t1.id)],
          ['task.merged', about(t1.id)],
          ['task.closed', about(t2.id)],
          ['worker.connected', by(online.id)],
          ['offer.created', about(t3.id)],
          ['offer.declined', about(t3.id)],
          ['offer.expired', about(t4.id)],
          ['offer.withdrawn', about(third.task_id)],
          ['worker.disconnected', by(online.id)],
          ['worker.revoked', by(w.id)],
        ];
        const missing = expected.filter(([type, pred]) => !has(type, pred)).map(([type]) => type);
        checkEqual(missing, [], `event types missing from the journal (it has ${[...new Set(events.map((e) => e.type))].join(', ')})`);
      },
    },
    {
      requirement: 'JOURNAL-002',
      title: 'journal.read returns events after after_seq in order; a scoped maintainer sees only its repos',
      async run(world) {
        const head = await world.journalHead();
        const mine = await world.repo();
        const other = await world.repo();
        await world.task(mine);
        await world.task(other);
        const all = await world.journal(head);
        checkInOrder(all, head, 'admin read');
        const token = await world.maintainer([mine]);
        const scoped = expectOk<{ events: JournalEvent[] }>(await world.http.call('journal.read', { after_seq: head, limit: 1000 }, token), 'scoped journal.read').events;
        checkInOrder(scoped, head, 'scoped read');
        check(scoped.some((e) => e.repo === mine), 'the scoped maintainer does not see its repo\'s events');
        const leaked = scoped.filter((e) => (e.repo !== undefined && e.repo !== mine) || (e.repo === undefined && !e.type.startsWith('worker.')));
        checkEqual(leaked.map((e) => `${e.seq}:${e.type}:${e.repo ?? ''}`), [], 'events outside the maintainer\'s scope');
        const later = await world.journal(all[1]?.seq ?? head);
        check(later.every((e) => e.seq > (all[1]?.seq ?? head)), 'journal.read returned events at or before after_seq');
        const page = (await world.admin('journal.read', { after_seq: head, limit: 2 })).events;
        checkEqual(page.map((e) => e.seq), [head + 1, head + 2], 'seqs of journal.read after the head with limit 2');
      },
    },
    {
      requirement: 'JOURNAL-004',
      title: 'a maintainer subscribed with journal_after_seq receives every later event in order through journal.appended',
      async run(world) {
        const repo = await world.repo();
        const head = await world.journalHead();
        // Events before the hello (caught up from journal_after_seq) and after it (streamed).
        const before = await world.task(repo);
        const socket = await world.rawSocket(world.run.adminToken);
        expectOk(await socket.hello({ subscribe: ['journal'], journal_after_seq: head }), 'hello subscribing to the journal');
        const task = await world.task(repo);
        await world.admin('task.cancel', { task_id: task.id });
        await socket.waitFor('journal.appended', (p) => (p.events as JournalEvent[]).some((e) => e.task_id === task.id && e.type.includes('closed')), 5000);
        check(socket.has('journal.appended', (p) => (p.events as JournalEvent[]).some((e) => e.task_id === before.id && e.type === 'task.created')), `the task.created of ${before.id}, journaled after journal_after_seq but before the hello, was not pushed`);
        const seen = new Map<number, JournalEvent>();
        for (const n of socket.notifications) if (n.name === 'journal.appended') for (const e of n.payload.events as JournalEvent[]) seen.set(e.seq, e);
        const expected = await world.journal(head);
        const upTo = expected.findIndex((e) => e.task_id === task.id && e.type.includes('closed'));
        const missing = expected.slice(0, upTo + 1).filter((e) => !seen.has(e.seq)).map((e) => e.seq);
        checkEqual(missing, [], 'journal events not pushed to the subscriber');
      },
    },
    {
      requirement: 'METRIC-001',
      title: 'metrics.get reports utilization, lead time, requeue rate and PR acceptance rate derived from the journal',
      async run(world) {
        const { repo, task, worker, lease } = await claimedTask(world);
        expectOk(await worker.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), 'release');
        const again = expectOk<{ lease: typeof lease }>(await worker.http('task.claim', { task_id: task.id }), 'claim again').lease;
        await openPr(worker, again);
        await world.admin('task.complete', { task_id: task.id, outcome: 'merged' });
        const m = await world.admin('metrics.get', { repo });
        for (const key of ['utilization', 'lead_time_ms_median', 'requeue_rate', 'pr_acceptance_rate'] as const) check(key in m, `metrics lack ${key}`);
        checkEqual([m.leases_granted, m.requeues, m.requeue_rate, m.pr_acceptance_rate], [2, 1, 0.5, 1], 'repo metrics (leases granted, requeues, requeue rate, PR acceptance rate)');
        check(typeof m.lead_time_ms_median === 'number' && m.lead_time_ms_median >= 0, `lead time ${m.lead_time_ms_median}`);
      },
    },
  ],
};
