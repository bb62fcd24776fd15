/**
 * Restart after a long history (issue 20, item 6): a data directory is made with a short history
 * and with an hour-equivalent one (bench/lib/history.ts: every task's whole life over a simulated
 * hour, snapshots as the runtime takes them, journal segments closed at 64 MiB), then the bundled
 * coordinator is started on each, several times, SIGKILLed after each answer. Timed from spawning
 * the process to its first answered HTTP request (a task list, which also shows the state is back).
 * Reports what each restart read: the snapshot, the journal tail after it, and the closed segments
 * it did not read.
 *
 *   node --import tsx bench/restart.ts [--tasks 2000,100000] [--rounds 3]
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BenchAdmin } from './lib/admin.ts';
import { Child } from './lib/children.ts';
import { dataDirSizes } from './lib/data-dir.ts';
import { makeHistory } from './lib/history.ts';
import { median, wallNow } from './lib/stats.ts';

export interface RestartOptions {
  quick: boolean;
  coordinatorBundle: string;
  workDir: string;
  log: (line: string) => void;
  /** Tasks in the short and the long history (default: 2,000 and 100,000; quick 1,000 and 10,000). */
  tasks?: number[];
  rounds?: number;
}

const TOKEN = 'owpm_restart-bench-admin-token-000000000000';

export async function runRestart(options: RestartOptions): Promise<{ figures: Record<string, unknown>; detail: Record<string, unknown> }> {
  const sizes = options.tasks ?? (options.quick ? [1000, 10_000] : [2000, 100_000]);
  const rounds = options.rounds ?? 3;
  const detail: Record<string, unknown> = {};
  const figures: Record<string, unknown> = {};
  for (const tasks of sizes) {
    const dir = join(options.workDir, `restart-${tasks}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t0 = wallNow();
    const history = await makeHistory({ dir, tasks, ready: 2000, adminToken: TOKEN });
    const on = dataDirSizes(dir);
    options.log(`restart: ${tasks} tasks' history made in ${((wallNow() - t0) / 1000).toFixed(0)} s: ${history.events} events, journal ${on.journal_mb?.toFixed(1)} MB (${on.closed_segments} closed segments), snapshot ${on.snapshot_mb?.toFixed(1)} MB`);
    const times: number[] = [];
    for (let r = 0; r < rounds; r += 1) {
      const spawnedAt = wallNow();
      const child = new Child(`restart-${tasks}`, options.coordinatorBundle, { env: { OWP_BENCH_COORDINATOR: JSON.stringify({ data_dir: dir }), OWP_ADMIN_TOKEN: TOKEN } });
      try {
        const ready = await child.next('ready', 120_000);
        await new BenchAdmin(ready.url as string, TOKEN).tasksByState();
        times.push(wallNow() - spawnedAt);
      } finally {
        child.kill('SIGKILL');
        await child.exited;
      }
    }
    detail[`tasks_${tasks}`] = { tasks, events: history.events, restart_ms: times, tail_events: history.events - (on.snapshot_seq ?? 0), ...on };
    options.log(`restart: ${tasks} tasks: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    rmSync(dir, { recursive: true, force: true });
  }
  const long = detail[`tasks_${sizes.at(-1)}`] as { restart_ms: number[]; journal_mb: number; snapshot_mb: number };
  const short = detail[`tasks_${sizes[0]}`] as { restart_ms: number[] };
  figures.restart_after_history_ms = median(long.restart_ms);
  figures.restart_after_history_journal_mb = long.journal_mb;
  figures.restart_after_history_snapshot_mb = long.snapshot_mb;
  const a = median(long.restart_ms);
  const b = median(short.restart_ms);
  figures.restart_history_ratio = a !== null && b !== null && b > 0 ? a / b : null;
  return { figures, detail };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { tmpdir } = await import('node:os');
  const { mkdtempSync } = await import('node:fs');
  const { bundleRunners } = await import('./lib/bundle.ts');
  const { values } = parseArgs({ options: { tasks: { type: 'string', default: '2000,100000' }, rounds: { type: 'string', default: '3' } } });
  const root = join(import.meta.dirname, '..');
  const workDir = mkdtempSync(join(tmpdir(), 'owp-restart-'));
  try {
    const bundles = await bundleRunners(root);
    const out = await runRestart({ quick: false, coordinatorBundle: bundles.coordinator, workDir, log: (l) => console.error(l), tasks: values.tasks.split(',').map(Number), rounds: Number(values.rounds) });
    console.log(JSON.stringify(out, null, 2));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
