/** The audit journal and metrics (SPEC §5.10). */
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { check, checkEqual, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { claimedTask, openPr } from '../scenarios.ts';

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
      },
    },
    {
      requirement: 'JOURNAL-004',
      title: 'a maintainer subscribed with journal_after_seq receives every later event in order through journal.appended',
      async run(world) {
        const repo = await world.repo();
        const head = await world.journalHead();
        const socket = await world.rawSocket(world.run.adminToken);
        expectOk(await socket.hello({ subscribe: ['journal'], journal_after_seq: head }), 'hello subscribing to the journal');
        const task = await world.task(repo);
        await world.admin('task.cancel', { task_id: task.id });
        await socket.waitFor('journal.appended', (p) => (p.events as JournalEvent[]).some((e) => e.task_id === task.id && e.type.includes('closed')), 5000);
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
