/**
 * What the bench's coordinator process records since its last reset (bench/coordinator-process.ts,
 * `pauses`): when each snapshot ran and each GC pause, in wall ms, to set slow answers against.
 */
export interface Pauses {
  snapshots: Array<[start: number, end: number]>;
  gc: Array<[start: number, ms: number, kind: number]>;
}

/** GC pauses by V8's kind (perf_hooks: 1 minor, 4 major, 8 incremental marking, 16 weak callbacks): how many, their total and longest ms. */
export function gcByKind(gc: Array<[number, number, number]>): Record<string, { n: number; ms: number; max: number }> {
  const names: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };
  const out: Record<string, { n: number; ms: number; max: number }> = {};
  for (const [, ms, kind] of gc) {
    const k = (out[names[kind] ?? String(kind)] ??= { n: 0, ms: 0, max: 0 });
    k.n += 1;
    k.ms = Math.round(k.ms + ms);
    k.max = Math.max(k.max, Math.round(ms));
  }
  return out;
}

/** The snapshots and GC pauses of a window, summed: for bench.json's phase details. */
export function summarizePauses(p: Pauses): Record<string, unknown> {
  return { snapshots: p.snapshots.length, snapshot_ms: p.snapshots.map(([a, b]) => Math.round(b - a)), gc: gcByKind(p.gc) };
}
