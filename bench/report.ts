/** The benchmark's targets, the printed table and the JSON written to .owp-results/bench.json. */
import { round } from './lib/stats.ts';

export interface Target {
  key: string;
  what: string;
  unit: string;
  /** Undefined for context figures (the machine's own limits). */
  target?: { op: '>=' | '<='; value: number };
}

export const TARGETS: Target[] = [
  { key: 'workers_connected', what: 'socket.io workers held, heartbeat every 10 s', unit: '', target: { op: '>=', value: 10_000 } },
  { key: 'heartbeat_ack_p99_ms', what: 'heartbeat ack p99 at that load', unit: 'ms', target: { op: '<=', value: 50 } },
  { key: 'event_loop_lag_p99_ms', what: 'coordinator event-loop lag p99 at that load', unit: 'ms', target: { op: '<=', value: 20 } },
  { key: 'coordinator_rss_mb', what: 'coordinator resident memory at that load (peak)', unit: 'MB', target: { op: '<=', value: 300 } },
  { key: 'coordinator_cpu_pct', what: 'coordinator CPU, % of one core, at that load', unit: '%', target: { op: '<=', value: 50 } },
  { key: 'durable_transitions_per_s', what: 'lease transitions acked after fsync, 10,000 live tasks', unit: '/s', target: { op: '>=', value: 5000 } },
  { key: 'durable_transition_p99_ms', what: 'ack latency p99 of those transitions', unit: 'ms', target: { op: '<=', value: 50 } },
  { key: 'offer_latency_p99_ms', what: 'task ready → offer at an idle worker (1,000 workers / 10,000 tasks)', unit: 'ms', target: { op: '<=', value: 25 } },
  { key: 'expiry_requeue_late_ms_max', what: 'expired lease requeued after its deadline, worst case', unit: 'ms', target: { op: '<=', value: 1000 } },
  { key: 'restart_recovery_ms', what: 'cold start to serving, 10,000 tasks and their journal', unit: 'ms', target: { op: '<=', value: 2000 } },
  { key: 'fsync_ms_median', what: 'this machine: write 4 KiB + fdatasync', unit: 'ms' },
  { key: 'loopback_rtt_ms_median', what: 'this machine: TCP round trip over 127.0.0.1', unit: 'ms' },
];

export function met(target: Target, value: unknown): boolean | null {
  if (!target.target || typeof value !== 'number') return null;
  return target.target.op === '>=' ? value >= target.target.value : value <= target.target.value;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return String(round(value));
  return String(value);
}

function pad(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function ourTable(figures: Record<string, unknown>, quick: boolean): string {
  const rows = [['figure', 'value', 'target', 'met']];
  for (const t of TARGETS) {
    const v = figures[t.key];
    const ok = met(t, v);
    rows.push([t.key, `${cell(v)}${typeof v === 'number' ? ` ${t.unit}`.trimEnd() : ''}`, t.target ? `${t.target.op} ${t.target.value}` : '(context)', ok === null ? '' : ok ? 'yes' : quick ? 'no (quick scale)' : 'NO']);
  }
  return pad(rows);
}

export interface PeerRow {
  figure: string;
  ours: unknown;
  peers: Record<string, unknown>;
}

export function peerTable(rows: PeerRow[], peerNames: string[]): string {
  const out = [['figure', 'owp', ...peerNames]];
  for (const r of rows) out.push([r.figure, cell(r.ours), ...peerNames.map((p) => cell(r.peers[p]))]);
  return pad(out);
}

/** The lifecycle table: one column per system (OWP, OWP with 100 areas, the peers), one row per figure. */
export function lifecycleTable(results: Record<string, Record<string, unknown>>): string {
  const names = Object.keys(results);
  const rows = [['lifecycle figure', ...names]];
  const row = (label: string, key: string): void => {
    rows.push([label, ...names.map((n) => (results[n]?.skipped ? 'skipped' : cell(results[n]?.[key])))]);
  };
  row('steady tasks/s', 'steady_tasks_per_s');
  row('enqueue tasks/s', 'enqueue_tasks_per_s');
  row('claim latency at idle p50 (ms)', 'claim_idle_p50_ms');
  row('claim latency at idle p99 (ms)', 'claim_idle_p99_ms');
  row('durable writes per task', 'durable_writes_per_task');
  row('coordinator CPU per task (ms)', 'coordinator_cpu_ms_per_task');
  row('tasks merged', 'merged');
  row('ready tasks queued behind', 'ready_backlog');
  row('restart after the run (ms)', 'restart_after_run_ms');
  row('journal at restart (MB)', 'restart_journal_mb');
  row('snapshot at restart (MB)', 'restart_snapshot_mb');
  rows.push(['refused calls (RATE_LIMITED)', ...names.map((n) => cell((results[n]?.errors as Record<string, number> | undefined)?.RATE_LIMITED ?? (results[n]?.skipped ? null : 0)))]);
  return pad(rows);
}
