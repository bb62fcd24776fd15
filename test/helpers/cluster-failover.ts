/**
 * Failovers under load: a three-node cluster on PostgreSQL serves real workers and a maintainer
 * through a balancer (so most of them talk to followers), and its leader is taken out at a random
 * moment after leases and PRs were acknowledged: SIGKILL, SIGSTOP (alive but silent, then woken
 * after a standby took over) or a cut of its database link (its TCP proxy). Each time a standby
 * must lead in a higher term, and a deposed leader that comes back must follow. At the end the
 * journal, read straight from PostgreSQL, is checked: gapless, replays, every acknowledged change is
 * in it, no task ever had two live leases (across terms), the budgets held at every event, and
 * every event was written in the term that owned its seq (a deposed leader never wrote).
 */
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { newToken } from '../../coordinator/auth.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { OwpError } from '../../protocol/errors.ts';
import { budgetChecks, checkJournal, type BudgetChecks, type Violation } from './invariants.ts';
import { startCluster, type ClusterNodeProcess, type TestCluster } from './cluster.ts';
import { GATES } from './coordinator.ts';

export type Fault = 'kill' | 'stop' | 'cut';

export interface FailoverOptions {
  dir: string;
  faults: Fault[];
  workers?: number;
  random?: () => number;
}

export interface FailoverFigures {
  failovers: number;
  by_fault: Record<Fault, number>;
  /** Fault to a standby leading in a higher term, per failover (ms). */
  takeover_ms: number[];
  acknowledged: { tasks: number; leases: number; prs: number; merges: number };
  /** Leases granted before a failover and reported pr_opened after it: the worker kept its lease across the takeover. */
  leases_resumed: number;
  /** Calls that got no answer (a node died under them, or no leader yet): not acknowledged, so not checked. */
  unanswered: number;
  load_races: Record<string, number>;
  /** Deposed leaders that wrote nothing because their term was over (their log says so). */
  fenced_writes_refused: number;
  lost: number;
  events_checked: number;
  terms: number;
  budget_checks: BudgetChecks;
  violations: Violation[];
}

const REPO = 'ha/main';
const AREAS = ['docs', 'cli', 'core', 'tests', 'ui'];
const RACES = new Set(['OFFER_EXPIRED', 'LEASE_EXPIRED', 'STALE_EPOCH', 'OFFER_NOT_FOUND', 'LEASE_NOT_FOUND']);

type Kind = 'task.created' | 'lease.granted' | 'pr.opened' | 'task.merged';

export async function runFailovers(options: FailoverOptions): Promise<FailoverFigures> {
  const random = options.random ?? Math.random;
  const token = newToken('maintainer');
  const figures: FailoverFigures = {
    failovers: 0, by_fault: { kill: 0, stop: 0, cut: 0 }, takeover_ms: [], acknowledged: { tasks: 0, leases: 0, prs: 0, merges: 0 }, leases_resumed: 0,
    unanswered: 0, load_races: {}, fenced_writes_refused: 0, lost: 0, events_checked: 0, terms: 0, budget_checks: budgetChecks(), violations: [],
  };
  const fail = (invariant: string, message: string): void => void figures.violations.push({ invariant, message });
  const cluster = await startCluster({ dir: options.dir, token, nodes: 3, config: 'sweep_interval_ms: 50\nsnapshot_every_events: 40\n' });
  const acked: Array<{ kind: Kind; title: string; lease_id?: string }> = [];
  let faultsSoFar = 0;
  let running = true;
  const track = async <T>(what: string, call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      const code = error instanceof OwpError ? error.code : undefined;
      if (code === undefined || code === 'UNAVAILABLE') figures.unanswered += 1;
      else if (RACES.has(code)) figures.load_races[code] = (figures.load_races[code] ?? 0) + 1;
      else fail('load-refused', `${what}: ${code} ${(error as Error).message}`);
      return undefined;
    }
  };
  const clients: WorkerClient[] = [];
  const work: Array<Promise<void>> = [];
  let creator: Promise<void> = Promise.resolve();
  try {
    let { term } = await cluster.waitForLeader(0, 60_000);
    const admin = new HttpClient({ baseUrl: cluster.balancerUrl, token, timeoutMs: 10_000 });
    const configured = await retry(() => admin.call('repo.configure', { repo: REPO, max_open_prs: 4, max_new_prs_per_hour: 1000, heartbeat_timeout_ms: 4000, offer_timeout_ms: 4000, max_attempts: 20 }));
    if (!configured) throw new Error('could not configure the repo through the cluster');
    creator = (async () => {
      for (let i = 0; running; i += 1) {
        const ready = await track('task.list', () => admin.call('task.list', { state: 'ready', limit: 100 }));
        if (ready && ready.tasks.length < 6) {
          const title = `task ${i}`;
          const created = await track('task.create', () => admin.call('task.create', { repo: REPO, title, area: AREAS[i % AREAS.length] as string }));
          if (created) acked.push({ kind: 'task.created', title });
        }
        const prs = await track('task.list', () => admin.call('task.list', { state: 'pr_opened', limit: 10 }));
        for (const t of prs?.tasks ?? []) {
          const done = await track('task.complete', () => admin.call('task.complete', { task_id: t.id, outcome: 'merged' }));
          if (done) acked.push({ kind: 'task.merged', title: t.title });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    for (let w = 0; w < (options.workers ?? 4); w += 1) {
      const reg = await retry(() => admin.call('worker.register', { github_login: `ha-w${w}`, skills: [], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } }));
      if (!reg) throw new Error('could not register a worker through the cluster');
      const client = new WorkerClient({ url: cluster.balancerUrl, token: reg.token, retryForMs: cluster.leaseMs * 8, requestTimeoutMs: 3000, reconnectionDelayMs: 50, reconnectionDelayMaxMs: 500 });
      clients.push(client);
      client.on('offer', (offer) => {
        work.push((async () => {
          await new Promise((r) => setTimeout(r, Math.floor(random() * 100)));
          const accepted = await track('offer.accept', () => client.accept(offer.offer_id));
          if (!accepted) return;
          const { lease, task } = accepted;
          const grantedAt = faultsSoFar;
          acked.push({ kind: 'lease.granted', title: task.title, lease_id: lease.lease_id });
          // Some leases outlive a takeover: the worker keeps heartbeating through it and reports after.
          await new Promise((r) => setTimeout(r, random() < 0.3 ? 1000 + Math.floor(random() * 3000) : Math.floor(random() * 300)));
          if (!running) return;
          const pr = await track('lease.report', () => client.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/${REPO}/pull/${task.id.slice(2)}`, gates: GATES } }));
          if (!pr) return;
          acked.push({ kind: 'pr.opened', title: task.title, lease_id: lease.lease_id });
          if (faultsSoFar > grantedAt) figures.leases_resumed += 1;
        })());
      });
      await client.connect();
    }

    for (const fault of options.faults) {
      const mark = acked.length;
      const progressed = await waitUntil(() => acked.slice(mark).some((a) => a.kind === 'lease.granted') && acked.slice(mark).some((a) => a.kind === 'pr.opened'), 60_000);
      if (!progressed) {
        fail('load-made-progress', `before failover ${figures.failovers + 1}: no lease and PR acknowledged within 60 s`);
        break;
      }
      await new Promise((r) => setTimeout(r, Math.floor(random() * 500)));
      const { node: old } = await cluster.waitForLeader(term - 1, 30_000);
      const started = Date.now();
      await inflict(cluster, old, fault);
      faultsSoFar += 1;
      let next: { node: ClusterNodeProcess; term: number };
      try {
        next = await cluster.waitForLeader(term, 30_000);
      } catch (error) {
        fail('standby-takes-over', `${fault} of ${old.id} (term ${term}): ${(error as Error).message}`);
        break;
      }
      figures.takeover_ms.push(Date.now() - started);
      if (next.node.id === old.id) fail('standby-takes-over', `${fault}: ${old.id} still leads after its fault`);
      term = next.term;
      await recover(cluster, old, fault);
      if (fault !== 'kill') {
        // Back in touch, the deposed leader must follow: a node that kept leading would be split-brain.
        const followed = await waitUntilAsync(async () => (await cluster.status(old))?.leader === false, 30_000);
        if (!followed) fail('deposed-leader-follows', `${old.id} did not give up leading within 30 s after its ${fault} ended; its status: ${JSON.stringify(await cluster.status(old))}; its log ends:\n${old.proc.output().slice(-3000)}`);
      }
      figures.failovers += 1;
      figures.by_fault[fault] += 1;
    }
    // The workers came back and the cluster still makes progress after the last failover.
    const mark = acked.length;
    if (!(await waitUntil(() => acked.slice(mark).some((a) => a.kind === 'pr.opened'), 60_000))) fail('load-made-progress', 'no PR acknowledged within 60 s after the last failover');
  } finally {
    running = false;
    await creator.catch(() => undefined);
    for (const c of clients) c.close();
    await Promise.all(work);
    try {
      await checkFinal(cluster, acked, figures, fail);
    } finally {
      await cluster.stop();
    }
  }
  for (const a of acked) {
    if (a.kind === 'task.created') figures.acknowledged.tasks += 1;
    else if (a.kind === 'lease.granted') figures.acknowledged.leases += 1;
    else if (a.kind === 'pr.opened') figures.acknowledged.prs += 1;
    else figures.acknowledged.merges += 1;
  }
  return figures;
}

async function inflict(cluster: TestCluster, node: ClusterNodeProcess, fault: Fault): Promise<void> {
  if (fault === 'kill') {
    await node.proc.stop('SIGKILL');
  } else if (fault === 'stop') {
    node.paused = true;
    node.proc.child.kill('SIGSTOP');
  } else {
    node.db.cut();
  }
  void cluster;
}

async function recover(cluster: TestCluster, node: ClusterNodeProcess, fault: Fault): Promise<void> {
  if (fault === 'kill') {
    // The node comes back as a new process (as a supervisor restarts it) and joins as a follower.
    await node.db.close();
    await cluster.startNode(node.id);
  } else if (fault === 'stop') {
    node.proc.child.kill('SIGCONT');
    node.paused = false;
  } else {
    node.db.restore();
  }
}

async function checkFinal(cluster: TestCluster, acked: Array<{ kind: Kind; title: string; lease_id?: string }>, figures: FailoverFigures, fail: (invariant: string, message: string) => void): Promise<void> {
  const { rows, terms } = await journalWithTerms(cluster);
  figures.terms = terms.length;
  figures.events_checked = rows.length;
  const events = rows.map((r) => r.event);
  for (const v of checkJournal(events, undefined, figures.budget_checks)) fail(v.invariant, v.message);
  for (const v of checkTerms(rows, terms)) fail(v.invariant, v.message);
  // What the journal proves, keyed like the acks (task titles are unique).
  const titles = new Map<string, string>();
  const keys = new Set<string>();
  for (const e of events) {
    const title = titles.get(e.task_id ?? '') ?? '?';
    if (e.type === 'task.created') {
      const created = (e.data.task as { title: string }).title;
      titles.set(e.task_id as string, created);
      keys.add(`task.created|${created}|`);
    } else if (e.type === 'lease.granted' || e.type === 'pr.opened') keys.add(`${e.type}|${title}|${String(e.data.lease_id)}`);
    else if (e.type === 'task.merged') keys.add(`task.merged|${title}|`);
  }
  for (const a of acked) {
    if (keys.has(`${a.kind}|${a.title}|${a.lease_id ?? ''}`)) continue;
    figures.lost += 1;
    fail('no-acknowledged-change-lost', `acknowledged ${a.kind} of "${a.title}"${a.lease_id ? ` (${a.lease_id})` : ''} is not in the journal`);
  }
  for (const node of cluster.nodes) figures.fenced_writes_refused += (node.proc.output().match(/term \d+ is over/g) ?? []).length;
}

/**
 * Every event was written in the term that owned its seq: the newest term taken at or before it
 * (owp_terms.first_seq is the journal's end + 1 at the takeover). A deposed leader that wrote after
 * a takeover shows as an older term past a newer term's first seq.
 */
export function checkTerms(rows: ReadonlyArray<{ seq: string; term: string; event: StoredEvent }>, terms: ReadonlyArray<{ term: string; holder: string; first_seq: string }>): Violation[] {
  let t = 0;
  for (const r of rows) {
    const seq = Number(r.seq);
    while (t + 1 < terms.length && Number((terms[t + 1] as { first_seq: string }).first_seq) <= seq) t += 1;
    const owner = terms[t];
    if (!owner || Number(owner.term) !== Number(r.term)) {
      return [{ invariant: 'written-in-its-term', message: `seq ${seq} (${r.event.type}) was written in term ${r.term}, but term ${owner?.term ?? '?'} (${owner?.holder ?? '?'}) owned it: a deposed leader wrote` }];
    }
  }
  return [];
}

/** The journal and the terms, straight from PostgreSQL. */
export async function journalWithTerms(cluster: TestCluster): Promise<{ rows: Array<{ seq: string; term: string; event: StoredEvent }>; terms: Array<{ term: string; holder: string; first_seq: string }> }> {
  const rows = await cluster.query<{ seq: string; term: string; event: StoredEvent }>('SELECT seq, term, event FROM owp_journal ORDER BY seq');
  const terms = await cluster.query<{ term: string; holder: string; first_seq: string }>('SELECT term, holder, first_seq FROM owp_terms ORDER BY term');
  return { rows, terms };
}

/** Calls again on UNAVAILABLE (and on a dropped connection) until it answers, as a client does while a standby takes over. */
export async function retry<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline || (error instanceof OwpError && error.code !== 'UNAVAILABLE')) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  return waitUntilAsync(async () => predicate(), timeoutMs);
}

export async function waitUntilAsync(predicate: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
