/**
 * A coordinator's data directory after a long run, made quickly: tasks run their whole life
 * (created in bulk → offered → accepted → PR reported with its gate → merged) on the engine, their
 * events appended to a real LowdbStore in group commits, with snapshots as the runtime takes them
 * (every `snapshotEveryEvents`) and journal segments closed as the store closes them. The clock
 * is manual and spread over `spanMs`, so finished tasks get archived and hourly windows roll as in
 * a real run of that length. Used by the restart figure (bench/restart.ts) and its tests.
 */
import { ManualClock } from '../../coordinator/clock.ts';
import { Engine } from '../../coordinator/engine/engine.ts';
import type { Outcome } from '../../coordinator/engine/command.ts';
import type { Principal } from '../../coordinator/auth.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import type { OperationName } from '../../protocol/operations.ts';

export interface HistoryOptions {
  dir: string;
  /** Tasks that run their whole life. */
  tasks: number;
  /** Tasks left ready at the end (live state that recovery must bring back). */
  ready?: number;
  /** Simulated time the run covers (default one hour). */
  spanMs?: number;
  /** The admin token the data directory's bootstrap admin is made from. */
  adminToken: string;
  snapshotEveryEvents?: number;
  segmentBytes?: number;
  workers?: number;
}

export interface History {
  events: number;
  snapshots: number;
  endedAt: number;
}

const PER_REPO = 500;

export async function makeHistory(o: HistoryOptions): Promise<History> {
  const span = o.spanMs ?? 3_600_000;
  const clock = new ManualClock(Date.now() - span);
  const store = new LowdbStore(o.dir, o.segmentBytes ? { segmentBytes: o.segmentBytes } : {});
  await store.load();
  const engine = new Engine({ clock });
  let pending: StoredEvent[] = [];
  let sinceSnapshot = 0;
  let snapshots = 0;
  const flush = async (snapshot = true): Promise<void> => {
    if (pending.length === 0) return;
    await store.append(pending);
    sinceSnapshot += pending.length;
    pending = [];
    if (snapshot && sinceSnapshot >= (o.snapshotEveryEvents ?? 20_000)) {
      await store.saveSnapshot(engine.state.toSnapshot());
      sinceSnapshot = 0;
      snapshots += 1;
    }
  };
  const take = (outcome: Outcome): Outcome => {
    if (outcome.error) throw outcome.error;
    pending.push(...outcome.events);
    return outcome;
  };
  let key = 0;
  const call = (p: Principal, name: OperationName, params: Record<string, unknown>): any =>
    take(engine.execute(p, name, name === 'offer.list' ? params : { ...params, idempotency_key: `h${(key += 1)}` })).result;

  take(engine.bootstrapAdmins([o.adminToken]));
  const admin = engine.authenticate(o.adminToken) as Principal;
  const total = o.tasks + (o.ready ?? 0);
  const repos = Array.from({ length: Math.max(1, Math.ceil(total / PER_REPO)) }, (_, i) => `hist/r${i}`);
  for (const repo of repos) call(admin, 'repo.configure', { repo, max_open_prs: 1000, max_new_prs_per_hour: 1000 });
  const workers: Array<Principal & { kind: 'worker' }> = [];
  for (let i = 0; i < (o.workers ?? 8); i += 1) {
    const r = take(engine.execute({ kind: 'anonymous' }, 'worker.register', {
      idempotency_key: `w${i}`, github_login: `hist${i}`, skills: ['ts'], capacity: 4, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true },
    }));
    workers.push({ kind: 'worker', id: (r.result as { worker: { id: string } }).worker.id });
  }
  await flush();
  const step = span / Math.max(1, o.tasks);
  let done = 0;
  let created = 0;
  for (const w of workers) take(engine.connected(w.id));
  while (done < o.tasks) {
    // Bulk creation ahead of the workers, 1,000 a request, as the lifecycle's maintainer does.
    if (created - done < 2000 && created < o.tasks) {
      const n = Math.min(1000, o.tasks - created);
      const batch = Array.from({ length: n }, (_, i) => ({ repo: repos[Math.floor((created + i) / PER_REPO)], title: `task ${created + i}`, skills: ['ts'] }));
      call(admin, 'task.create_many', { tasks: batch });
      created += n;
    }
    take(engine.schedule());
    let round = 0;
    for (const w of workers) {
      const offers = call(w, 'offer.list', {}).offers as Array<{ offer_id: string }>;
      for (const offer of offers) {
        const { lease } = call(w, 'offer.accept', { offer_id: offer.offer_id });
        call(w, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/${lease.repo}/pull/${done + 1}`, gates: [{ name: 'tests', passed: true }] } });
        call(admin, 'task.complete', { task_id: lease.task_id, outcome: 'merged' });
        done += 1;
        round += 1;
      }
    }
    // Time moves once a round, so no offer of the round passes its deadline while others are taken.
    clock.advance(step * round);
    // The sweep: archives finished tasks once they are old enough, prunes idempotency keys.
    take(engine.tick());
    if (pending.length >= Math.min(2000, (o.snapshotEveryEvents ?? 20_000) / 4)) await flush();
  }
  for (let i = 0; i < (o.ready ?? 0); i += 1) {
    const repo = repos[Math.floor((created + i) / PER_REPO)];
    call(admin, 'task.create', { repo, title: `left ready ${i}`, skills: ['needs-nobody'] });
  }
  take(engine.tick());
  // The last events stay a tail after the last snapshot, as a process killed mid-run leaves them.
  await flush(false);
  await store.close();
  return { events: engine.state.seq, snapshots, endedAt: clock.now() };
}
