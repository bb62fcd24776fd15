/**
 * Crash loops: a real coordinator process under load from real workers is SIGKILLed at a random
 * moment after it acknowledged leases and PRs, and, on lossyfs, the power fails too: every write
 * and directory change not yet synced is dropped (or a random prefix of each file's gets through).
 * Then a coordinator restarts on what is left, and recovery is checked over the wire against that
 * coordinator's own `journal.read` and state: every acknowledged change is in its journal, the
 * journal is gapless and replays, its state equals the replay, and the scheduling and budget
 * invariants (max_open_prs and the hourly limit) held at every event.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { newToken } from '../../coordinator/auth.ts';
import { State } from '../../coordinator/state/state.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Task } from '../../protocol/model.ts';
import { budgetChecks, checkJournal, checkState, type BudgetChecks, type Violation } from './invariants.ts';
import type { LossyFs, LossyFsStats } from './lossyfs.ts';
import { spawnCoordinator, type CoordinatorProcess } from './process.ts';
import { GATES } from './coordinator.ts';

export interface CrashLoopOptions {
  /** Scratch folder for the config. */
  dir: string;
  /** The coordinator's data directory: on lossyfs for power failures. */
  dataDir: string;
  loops: number;
  /** When given, each kill is followed by a power failure of this file system. */
  fs?: LossyFs;
  random?: () => number;
}

export interface CrashLoopFigures {
  loops: number;
  power_failures: number;
  /** Power failures that found unsynced journal or snapshot data (or a snapshot rename not yet durable): the kill landed inside a write. */
  kills_inside_write: number;
  kills_inside_journal_write: number;
  kills_inside_snapshot_write: number;
  /** Unsynced writes a power failure dropped (their fsync was withheld by the kill). */
  unsynced_writes_dropped: number;
  unsynced_bytes_dropped: number;
  /** Unsynced writes a torn power failure let through, leaving a torn journal tail or temp file. */
  unsynced_writes_torn_in: number;
  unsynced_writes_cut: number;
  namespace_changes_dropped: number;
  syncs: { fsyncs: number; fdatasyncs: number; dir_fsyncs: number };
  torn_tails_recovered: number;
  acknowledged: { tasks: number; leases: number; prs: number; merges: number; updates: number };
  acknowledged_changes_checked: number;
  /** Refusals the load met before the kill that a busy machine can cause (an offer or lease that timed out). */
  load_races: Record<string, number>;
  lost: number;
  double_leases: number;
  budget_violations: number;
  hourly_budget_violations: number;
  budget_checks: BudgetChecks;
  events_checked: number;
  violations: Violation[];
}

type AckKind = 'task.created' | 'lease.granted' | 'pr.opened' | 'task.merged' | 'task.updated';

interface Acked {
  kind: AckKind;
  /** Titles are unique, so a change lost and its id reused for another task is still caught. */
  title: string;
  lease_id?: string;
}

const MAIN = 'crash/main';
const HOURLY = 'crash/hourly';
/** A paused repo whose one task per loop is edited without pause: the journal is written all the time. */
const CHURN = 'crash/churn';
const AREAS = ['docs', 'cli', 'core', 'tests', 'ui'];
/** Refusals a correct coordinator gives when the machine is slow: the load tolerates and counts them. */
const RACES = new Set(['OFFER_EXPIRED', 'LEASE_EXPIRED']);

function ackKey(kind: AckKind, title: string, leaseId = ''): string {
  return `${kind}|${title}|${leaseId}`;
}

/** What a journal proves was acknowledged, keyed like Acked. Task titles are tracked by id as events stream by. */
class JournalIndex {
  readonly keys = new Set<string>();
  private readonly titles = new Map<string, string>();

  add(e: JournalEvent): void {
    const title = (): string => this.titles.get(e.task_id ?? '') ?? `?${e.task_id}`;
    switch (e.type) {
      case 'task.created': {
        const t = (e.data.task as { title: string }).title;
        this.titles.set(e.task_id as string, t);
        this.keys.add(ackKey('task.created', t));
        break;
      }
      case 'lease.granted':
        this.keys.add(ackKey('lease.granted', title(), String(e.data.lease_id)));
        break;
      case 'pr.opened':
        this.keys.add(ackKey('pr.opened', title(), String(e.data.lease_id)));
        break;
      case 'task.merged':
        this.keys.add(ackKey('task.merged', title()));
        break;
      case 'task.updated': {
        const body = (e.data.changes as { body?: unknown }).body;
        if (typeof body === 'string') this.keys.add(ackKey('task.updated', body));
        break;
      }
    }
  }
}

export async function runCrashLoops(options: CrashLoopOptions): Promise<CrashLoopFigures> {
  const { dir, dataDir, loops, fs } = options;
  const random = options.random ?? Math.random;
  const token = newToken('maintainer');
  const config = join(dir, 'config.yml');
  // Finished tasks are archived at once so the live state stays small enough to compare in one page.
  writeFileSync(config, 'snapshot_every_events: 40\nsweep_interval_ms: 50\narchive_after_ms: 1\n');
  const figures: CrashLoopFigures = {
    loops: 0, power_failures: 0, kills_inside_write: 0, kills_inside_journal_write: 0, kills_inside_snapshot_write: 0, unsynced_writes_dropped: 0, unsynced_bytes_dropped: 0, unsynced_writes_torn_in: 0, unsynced_writes_cut: 0,
    namespace_changes_dropped: 0, syncs: { fsyncs: 0, fdatasyncs: 0, dir_fsyncs: 0 }, torn_tails_recovered: 0,
    acknowledged: { tasks: 0, leases: 0, prs: 0, merges: 0, updates: 0 }, acknowledged_changes_checked: 0, load_races: {},
    lost: 0, double_leases: 0, budget_violations: 0, hourly_budget_violations: 0, budget_checks: budgetChecks(), events_checked: 0, violations: [],
  };
  const fail = (invariant: string, message: string): void => {
    figures.violations.push({ invariant, message });
  };
  // Checked incrementally: the replay and the index continue from the last verified event.
  const replay = new State();
  const index = new JournalIndex();
  const seen: JournalEvent[] = [];
  let pending: Acked[] = [];
  let titleCounter = 0;

  const startCoordinator = (): Promise<CoordinatorProcess> => spawnCoordinator(['--port', '0', '--data-dir', dataDir, '--config', config], { OWP_ADMIN_TOKEN: token });

  for (let loop = 0; loop <= loops; loop += 1) {
    let proc: CoordinatorProcess;
    try {
      proc = await startCoordinator();
    } catch (error) {
      fail('coordinator-restarts', `${loop === 0 ? 'first start' : `after crash ${loop}`}: ${(error as Error).message.trim()}`);
      break;
    }
    const admin = new HttpClient({ baseUrl: proc.url, token, timeoutMs: 30_000 });
    try {
      // ---- recovery, judged by the restarted coordinator itself ----
      const where = loop === 0 ? 'first start' : `after crash ${loop}`;
      const recovered = recoveryWarnings(proc.output());
      figures.torn_tails_recovered += recovered.filter((l) => l.includes('torn write')).length;
      for (const line of recovered.filter((l) => /state\.json/.test(l))) fail('state-files-parse', `${where}: ${line}`);
      const journalOk = await verifyRecovery(admin, proc.url, where, { replay, index, seen, pending, figures, fail });
      pending = [];
      if (journalOk && loop === loops) await verifyWholeJournal(admin, seen, fail);
      if (!journalOk || figures.violations.length > 0 || loop === loops) break;

      // ---- load, then a kill (and a power failure) at a random moment after leases and PRs were acknowledged ----
      if (loop === 0) {
        await admin.call('repo.configure', { repo: MAIN, max_open_prs: 4, max_new_prs_per_hour: 1000, heartbeat_timeout_ms: 3000, offer_timeout_ms: 3000, max_attempts: 20 });
        await admin.call('repo.configure', { repo: CHURN, paused: true });
        fs?.setSyncDelay(2000); // a real disk's fsync latency: the kill often lands between a write and its sync
      }
      const { task: churnTask } = await admin.call('task.create', { repo: CHURN, title: `loop ${loop} churn` });
      // The hourly repo gets room for two more PRs each loop, so its leases and offers are what hold the next offer back.
      const hourly = (await admin.call('repo.get', { repo: HOURLY }).catch(() => undefined))?.budget.prs_last_hour ?? 0;
      await admin.call('repo.configure', { repo: HOURLY, max_open_prs: 6, max_new_prs_per_hour: hourly + 2, heartbeat_timeout_ms: 3000, offer_timeout_ms: 3000, max_attempts: 20 });

      const acked: Acked[] = [];
      const load = new LoadLog();
      let running = true;
      const mainAdmin = new HttpClient({ baseUrl: proc.url, token, timeoutMs: 15_000 });
      const creator = (async () => {
        for (let i = 0; running; i += 1) {
          // A short backlog per repo: the point is the flow through offers, leases and PRs, and the live state must fit one page.
          const ready = await load.track('task.list', () => mainAdmin.call('task.list', { state: 'ready', limit: 1000 }));
          for (const repo of [MAIN, HOURLY]) {
            if (!running || !ready || ready.tasks.filter((t) => t.repo === repo).length >= 6) continue;
            const title = `loop ${loop} task ${(titleCounter += 1)}`;
            const created = await load.track('task.create', () => mainAdmin.call('task.create', { repo, title, ...(repo === MAIN ? { area: AREAS[i % AREAS.length] as string } : {}) }));
            if (created) acked.push({ kind: 'task.created', title: created.task.title });
          }
          const prs = await load.track('task.list', () => mainAdmin.call('task.list', { state: 'pr_opened', limit: 10 }));
          for (const t of prs?.tasks ?? []) {
            const done = await load.track('task.complete', () => mainAdmin.call('task.complete', { task_id: t.id, outcome: 'merged' }));
            if (done) acked.push({ kind: 'task.merged', title: t.title });
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      // Edits that keep the journal busy: most kills then land between a write and its sync.
      const churners = [0, 1].map(async (k) => {
        for (let n = 0; running; n += 1) {
          const body = `loop ${loop} churn ${k}.${n}`;
          const done = await load.track('task.update', () => mainAdmin.call('task.update', { task_id: churnTask.id, body }));
          if (done) acked.push({ kind: 'task.updated', title: body });
        }
      });
      const clients: WorkerClient[] = [];
      const work: Array<Promise<void>> = [];
      for (let w = 0; w < 3; w += 1) {
        const reg = await admin.call('worker.register', { github_login: `crash${loop}w${w}`, skills: [], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
        const client = new WorkerClient({ url: proc.url, token: reg.token, retryForMs: 2000, requestTimeoutMs: 15_000, reconnectionDelayMs: 50 });
        clients.push(client);
        client.on('offer', (offer) => {
          work.push((async () => {
            // A moment to think and a moment to work, so offers and leases overlap and hold the budgets.
            await new Promise((r) => setTimeout(r, Math.floor(random() * 100)));
            const accepted = await load.track('offer.accept', () => client.accept(offer.offer_id));
            if (!accepted) return;
            const { lease, task } = accepted;
            acked.push({ kind: 'lease.granted', title: task.title, lease_id: lease.lease_id });
            if (random() < 0.3) {
              const started = await load.track('lease.report', () => client.report(lease.lease_id, { state: 'in_progress' }));
              if (!started) return;
            }
            await new Promise((r) => setTimeout(r, Math.floor(random() * 300)));
            const pr = await load.track('lease.report', () => client.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/${task.repo}/pull/${task.id.slice(2)}`, gates: GATES } }));
            if (pr) acked.push({ kind: 'pr.opened', title: task.title, lease_id: lease.lease_id });
          })());
        });
        await client.connect();
      }
      const progress = await waitFor(() => acked.some((a) => a.kind === 'lease.granted') && acked.some((a) => a.kind === 'pr.opened'), 30_000);
      if (!progress) fail('load-made-progress', `loop ${loop}: no lease and PR acknowledged within 30 s (acknowledged: ${summarize(acked)}; refusals: ${JSON.stringify(load.refusals)})`);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 500)));
      load.killedAt = Date.now();
      // The power goes with the process: an fsync the coordinator already issued must not complete after it died.
      fs?.cutPower();
      await proc.stop('SIGKILL');
      running = false;
      for (const c of clients) c.close();
      await creator;
      await Promise.all([...churners, ...work]);
      if (fs) {
        const before = fs.stats();
        const after = fs.powerFail(random() < 0.5 ? 'lose' : 'torn', Math.floor(random() * 2 ** 31));
        accumulate(figures, before, after);
      }
      // The snapshot is replaced atomically: after any crash it is the old or the new one, never torn.
      try {
        JSON.parse(readFileSync(join(dataDir, 'state.json'), 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') fail('state-files-parse', `after crash ${loop + 1}: state.json does not parse (${(error as Error).message})`);
      }
      for (const f of load.failures) fail('load-failure', `loop ${loop}: ${f}`);
      for (const [code, n] of Object.entries(load.refusals)) if (RACES.has(code)) figures.load_races[code] = (figures.load_races[code] ?? 0) + n;
      for (const a of acked) {
        if (a.kind === 'task.created') figures.acknowledged.tasks += 1;
        else if (a.kind === 'lease.granted') figures.acknowledged.leases += 1;
        else if (a.kind === 'pr.opened') figures.acknowledged.prs += 1;
        else if (a.kind === 'task.updated') figures.acknowledged.updates += 1;
        else figures.acknowledged.merges += 1;
      }
      pending = acked;
      figures.loops += 1;
    } finally {
      await proc.stop('SIGKILL');
    }
  }
  return figures;
}

/** The incremental checks saw each event once, as it first appeared; at the end the whole journal must still be exactly that. */
async function verifyWholeJournal(admin: HttpClient, seen: JournalEvent[], fail: RecoveryContext['fail']): Promise<void> {
  const all: JournalEvent[] = [];
  for (let after = 0; ; ) {
    const page = await admin.call('journal.read', { after_seq: after, limit: 1000 });
    all.push(...page.events);
    if (page.events.length === 0 || (page.events.at(-1) as JournalEvent).seq >= page.last_seq) break;
    after = (page.events.at(-1) as JournalEvent).seq;
  }
  const prefix = all.slice(0, seen.length);
  const i = prefix.findIndex((e, k) => JSON.stringify(e) !== JSON.stringify(seen[k]));
  if (prefix.length < seen.length || i >= 0) {
    const at = i >= 0 ? i : prefix.length;
    fail('no-acknowledged-change-lost', `the final journal differs from what the loops verified at seq ${seen[at]?.seq}: ${JSON.stringify(all[at])?.slice(0, 200)}`);
    return;
  }
  const problems = checkJournal(all as StoredEvent[]);
  for (const p of problems) fail(p.invariant, `whole journal: ${p.message}`);
}

interface RecoveryContext {
  replay: State;
  index: JournalIndex;
  seen: JournalEvent[];
  pending: Acked[];
  figures: CrashLoopFigures;
  fail: (invariant: string, message: string) => void;
}

/**
 * Reads the restarted coordinator's journal after the last verified event (checking that the
 * verified prefix is still there, unchanged), replays it with every invariant checked per event,
 * looks for each acknowledged change, and compares the coordinator's live tasks with the replay.
 */
async function verifyRecovery(admin: HttpClient, url: string, where: string, ctx: RecoveryContext): Promise<boolean> {
  const { replay, index, seen, figures, fail } = ctx;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const lastVerified = seen.at(-1);
    // Reads answer from memory, which may run ahead of the disk by a batch being written: take the
    // coordinator's tasks at one seq, then its journal up to that seq once it is on disk.
    const at = await memorySeq(url);
    const { tasks } = await admin.call('task.list', { limit: 1000 });
    if ((await memorySeq(url)) !== at) continue; // it moved on meanwhile (a sweep); read again
    const fresh: JournalEvent[] = [];
    for (let after = lastVerified ? lastVerified.seq - 1 : 0, waited = 0; after < at; ) {
      const page = await admin.call('journal.read', { after_seq: after, limit: 1000 });
      const upTo = page.events.filter((e) => e.seq <= at);
      fresh.push(...upTo);
      if (upTo.length > 0) after = (upTo.at(-1) as JournalEvent).seq;
      else if ((waited += 1) > 500) {
        fail('journal-durable', `${where}: seq ${at} is in the coordinator's state but not in its journal after 10 s`);
        return false;
      } else await new Promise((r) => setTimeout(r, 20)); // still being written
    }
    if (lastVerified) {
      const again = fresh.shift();
      if (!again || JSON.stringify(again) !== JSON.stringify(lastVerified)) {
        fail('no-acknowledged-change-lost', `${where}: journal event ${lastVerified.seq} (${lastVerified.type}), verified after an earlier crash, is ${again ? `now ${JSON.stringify(again).slice(0, 160)}, was ${JSON.stringify(lastVerified).slice(0, 160)}` : 'gone'}`);
        return false;
      }
    }

    let expected = (lastVerified?.seq ?? 0) + 1;
    for (const e of fresh) {
      if (e.seq !== expected) {
        fail('journal-gapless', `${where}: expected seq ${expected}, got ${e.seq}`);
        return false;
      }
      expected += 1;
      try {
        replay.apply(e as StoredEvent);
      } catch (error) {
        fail('journal-replays', `${where}: seq ${e.seq} (${e.type}): ${(error as Error).message}`);
        return false;
      }
      for (const p of checkState(replay, `${where}, seq ${e.seq} (${e.type})`, e as StoredEvent, figures.budget_checks)) {
        if (p.invariant === 'one-lease-per-task' || p.invariant === 'one-task-per-area') figures.double_leases += 1;
        if (p.invariant === 'budget') figures.budget_violations += 1;
        if (p.invariant === 'hourly-budget') figures.hourly_budget_violations += 1;
        fail(p.invariant, p.message);
      }
      index.add(e);
      seen.push(e);
      figures.events_checked += 1;
    }
    for (const a of ctx.pending) {
      figures.acknowledged_changes_checked += 1;
      if (!index.keys.has(ackKey(a.kind, a.title, a.lease_id))) {
        figures.lost += 1;
        fail('no-acknowledged-change-lost', `${where}: acknowledged ${a.kind} of "${a.title}"${a.lease_id ? ` (${a.lease_id})` : ''} is not in the restarted coordinator's journal`);
      }
    }
    compareTasks(replay, tasks, where, fail);
    return figures.violations.length === 0;
  }
  fail('recovery-settles', `${where}: the restarted coordinator kept writing events; could not compare its state with its journal`);
  return false;
}

/** The coordinator's live tasks over the wire must be the replay's, field by field (lease deadlines aside: a restart renews them). */
function compareTasks(replay: State, wire: Task[], where: string, fail: RecoveryContext['fail']): void {
  const project = (t: Task): unknown => ({ id: t.id, repo: t.repo, title: t.title, state: t.state, area: t.area, epoch: t.epoch, attempts: t.attempts, lease_id: t.lease?.lease_id, worker_id: t.lease?.worker_id, pr: t.pr?.url });
  const expected = [...replay.tasks.values()].map((t) => project(replay.taskView(t)));
  if (expected.length > 1000) {
    fail('state-equals-replay', `${where}: ${expected.length} live tasks, more than one page; cannot compare`);
    return;
  }
  const byId = new Map(wire.map((t) => [t.id, project(t)]));
  for (const e of expected) {
    const id = (e as { id: string }).id;
    const got = byId.get(id);
    if (JSON.stringify(got) !== JSON.stringify(e)) fail('state-equals-replay', `${where}: task ${id} is ${JSON.stringify(got)} in the coordinator but ${JSON.stringify(e)} in its journal replayed`);
    byId.delete(id);
  }
  for (const id of byId.keys()) fail('state-equals-replay', `${where}: the coordinator lists task ${id}, which its journal does not have live`);
}

/** Calls made by the load: refusals before the kill are counted (races) or are violations; after it, transport failures are expected. */
class LoadLog {
  killedAt = Infinity;
  readonly refusals: Record<string, number> = {};
  readonly failures: string[] = [];

  async track<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      const afterKill = Date.now() >= this.killedAt;
      const code = error instanceof OwpError ? error.code : undefined;
      if (afterKill && (code === undefined || code === 'UNAVAILABLE' || code === 'INTERNAL')) return undefined; // the process is gone
      if (code && RACES.has(code)) {
        this.refusals[code] = (this.refusals[code] ?? 0) + 1;
        return undefined;
      }
      this.failures.push(`${what} failed ${afterKill ? 'after' : 'before'} the kill: ${code ?? ''} ${(error as Error).message}`);
      return undefined;
    }
  }
}

function accumulate(figures: CrashLoopFigures, before: LossyFsStats, after: LossyFsStats): void {
  figures.power_failures += after.power_failures - before.power_failures;
  const journal = before.pending.some((p) => p.path.endsWith('/journal.jsonl') && (p.writes > 0 || !p.name_durable));
  const snapshot = before.pending.some((p) => p.path.includes('/state.json'));
  if (journal) figures.kills_inside_journal_write += 1;
  if (snapshot) figures.kills_inside_snapshot_write += 1;
  if (journal || snapshot) figures.kills_inside_write += 1;
  figures.unsynced_writes_dropped += after.unsynced_writes_dropped - before.unsynced_writes_dropped;
  figures.unsynced_bytes_dropped += after.unsynced_bytes_dropped - before.unsynced_bytes_dropped;
  figures.unsynced_writes_torn_in += after.unsynced_writes_torn_in - before.unsynced_writes_torn_in;
  figures.unsynced_writes_cut += after.unsynced_writes_cut - before.unsynced_writes_cut;
  figures.namespace_changes_dropped += after.namespace_changes_dropped - before.namespace_changes_dropped;
  figures.syncs = { fsyncs: after.fsyncs, fdatasyncs: after.fdatasyncs, dir_fsyncs: after.dir_fsyncs };
}

/** What the coordinator said it recovered from at start ("recovered: …"), from its log lines (JSON or plain). */
function recoveryWarnings(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    let text = line;
    try {
      const entry = JSON.parse(line) as { msg?: unknown };
      if (typeof entry.msg === 'string') text = entry.msg;
    } catch {
      // a plain line
    }
    const m = /recovered: (.*)$/.exec(text);
    if (m) out.push(m[1] as string);
  }
  return out;
}

/** The seq of the coordinator's state in memory (/healthz), which may be ahead of its journal on disk. */
async function memorySeq(url: string): Promise<number> {
  const res = await fetch(`${url}/healthz`);
  const body = (await res.json()) as { data?: { seq?: number } };
  if (typeof body.data?.seq !== 'number') throw new Error(`/healthz answered ${res.status} without a seq`);
  return body.data.seq;
}

function summarize(acked: Acked[]): string {
  const n: Record<string, number> = {};
  for (const a of acked) n[a.kind] = (n[a.kind] ?? 0) + 1;
  return JSON.stringify(n);
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
