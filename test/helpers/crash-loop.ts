/**
 * Crash loops: a real coordinator process under load from real workers is SIGKILLed at a random
 * moment (snapshots are taken every few dozen events, so kills land between write and rename too),
 * then the data directory is checked: the files parse, every acknowledged change is on disk, the
 * journal is gapless and replays to the recovered state, and the scheduling invariants held.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { newToken } from '../../coordinator/auth.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { State } from '../../coordinator/state/state.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';
import { checkJournal, type Violation } from './invariants.ts';
import { spawnCoordinator } from './process.ts';
import { GATES } from './coordinator.ts';

export interface CrashLoopFigures {
  loops: number;
  acknowledged_changes_checked: number;
  lost: number;
  double_leases: number;
  budget_violations: number;
  violations: Violation[];
}

interface Acked {
  kind: 'task.created' | 'lease.granted' | 'pr.opened' | 'task.merged';
  id: string;
}

function implied(e: StoredEvent): string | undefined {
  switch (e.type) {
    case 'task.created':
      return `task.created:${e.task_id}`;
    case 'lease.granted':
      return `lease.granted:${String(e.data.lease_id)}`;
    case 'pr.opened':
      return `pr.opened:${String(e.data.lease_id)}`;
    case 'task.merged':
      return `task.merged:${e.task_id}`;
    default:
      return undefined;
  }
}

export async function runCrashLoops(dir: string, loops: number, random: () => number = Math.random): Promise<CrashLoopFigures> {
  const token = newToken('maintainer');
  const config = join(dir, 'config.yml');
  const dataDir = join(dir, 'data');
  writeFileSync(config, 'snapshot_every_events: 40\nsweep_interval_ms: 50\n');
  const acked: Acked[] = [];
  const figures: CrashLoopFigures = { loops: 0, acknowledged_changes_checked: 0, lost: 0, double_leases: 0, budget_violations: 0, violations: [] };
  const repo = 'crash/repo';

  for (let loop = 0; loop < loops; loop += 1) {
    const proc = await spawnCoordinator(['--port', '0', '--data-dir', dataDir, '--config', config], { OWP_ADMIN_TOKEN: token });
    // Setup may be slow on a busy machine; only the load that the kill interrupts needs short timeouts.
    const setup = new HttpClient({ baseUrl: proc.url, token, timeoutMs: 30_000 });
    const admin = new HttpClient({ baseUrl: proc.url, token, timeoutMs: 3000 });
    let running = true;
    const clients: WorkerClient[] = [];
    try {
      if (loop === 0) await setup.call('repo.configure', { repo, max_open_prs: 4, max_new_prs_per_hour: 1000, heartbeat_timeout_ms: 2000, offer_timeout_ms: 2000, max_attempts: 20 });
      const creator = (async () => {
        for (let i = 0; running; i += 1) {
          const { task } = await admin.call('task.create', { repo, title: `loop ${loop} #${i}`, area: ['docs', 'cli', 'core', 'tests', 'ui'][i % 5] as string });
          acked.push({ kind: 'task.created', id: task.id });
          const { tasks } = await admin.call('task.list', { repo, state: 'pr_opened', limit: 5 });
          for (const t of tasks) {
            await admin.call('task.complete', { task_id: t.id, outcome: 'merged' });
            acked.push({ kind: 'task.merged', id: t.id });
          }
          if (i % 3 === 2) await new Promise((r) => setTimeout(r, 5));
        }
      })().catch(() => undefined);
      for (let w = 0; w < 3; w += 1) {
        const { token: wt } = await setup.call('worker.register', { github_login: `crash${loop}w${w}`, skills: [], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
        const client = new WorkerClient({ url: proc.url, token: wt, retryForMs: 1000, requestTimeoutMs: 1000, reconnectionDelayMs: 50 });
        clients.push(client);
        client.on('offer', (offer) => {
          void (async () => {
            const { lease } = await client.accept(offer.offer_id);
            acked.push({ kind: 'lease.granted', id: lease.lease_id });
            await client.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/${repo}/pull/${lease.task_id.slice(2)}`, gates: GATES } });
            acked.push({ kind: 'pr.opened', id: lease.lease_id });
          })().catch(() => undefined);
        });
        await client.connect().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 600)));
      await proc.stop('SIGKILL');
      running = false;
      await creator;
    } finally {
      running = false;
      for (const c of clients) c.close();
      await proc.stop('SIGKILL');
    }

    // What is on disk now must hold every acknowledged change and every invariant.
    const store = new LowdbStore(dataDir);
    let loaded;
    try {
      loaded = await store.load();
    } catch (error) {
      figures.violations.push({ invariant: 'state-files-parse', message: `loop ${loop}: ${(error as Error).message}` });
      await store.close();
      break;
    }
    const journal = await store.readJournal(0, Number.MAX_SAFE_INTEGER);
    await store.close();
    const recovered = loaded.snapshot ? State.fromSnapshot(loaded.snapshot) : new State();
    for (const e of loaded.events) recovered.apply(e);
    const onDisk = new Set(journal.map(implied).filter((k): k is string => k !== undefined));
    for (const a of acked) {
      figures.acknowledged_changes_checked += 1;
      if (!onDisk.has(`${a.kind}:${a.id}`)) {
        figures.lost += 1;
        figures.violations.push({ invariant: 'no-acknowledged-change-lost', message: `loop ${loop}: acknowledged ${a.kind} ${a.id} is not in the journal` });
      }
    }
    acked.length = 0;
    const problems = checkJournal(journal, recovered);
    for (const p of problems) {
      if (p.invariant === 'one-lease-per-task' || p.invariant === 'one-task-per-area') figures.double_leases += 1;
      if (p.invariant === 'budget') figures.budget_violations += 1;
      figures.violations.push({ ...p, message: `loop ${loop}: ${p.message}` });
    }
    figures.loops += 1;
    if (figures.violations.length > 0) break;
  }
  return figures;
}
