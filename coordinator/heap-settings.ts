/**
 * V8 heap settings the coordinator applies to its own process at start (issue 20, item 5; figures in
 * bench/README.md, "Memory per worker", fourth pass). While thousands of workers register and
 * connect, every request's objects live through its durable write, so they are promoted to the old
 * generation and die there; V8 lets the old generation grow to its live size times a factor it
 * picks (up to 4) before the next full collection, and keeps the pages it grew into. A fixed
 * growth starts that collection sooner: the resident peak at 10,000 workers drops by 40–70 MB at
 * 50 % (fourth pass), and by about 20 MB more at 20 % (fifth pass: more full collections, but
 * only during the ramp, each a few tens of ms; the limit left by the ramp's last one is lower). V8
 * reads the factor at every full collection, so setting it at run time works.
 *
 * Only while workers arrive in numbers (RampGrowthCap): under steady load the same cap makes a
 * heap that churns collect far more often, and a closed loop of 200 workers saw its durable
 * transition p99 go from 49–55 ms to 72–111 ms (bench/README.md, "Latest table").
 *
 * V8 computes the old generation's limit at the end of each full collection, so a cap set once a
 * ramp is under way only binds after the next one, and the limit left by the last collection
 * before the ramp (up to 4 times a small heap) can let the whole ramp through uncollected: at
 * 10,000 workers the old generation went from 55 to 216 MB with no full collection. So the cap
 * asks for one full collection when it engages (fifth pass in bench/README.md).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Old generation growth past its live size before the next full collection, in percent, while the state loads at start. */
export const HEAP_GROWING_PERCENT = 50;

/**
 * The same during a connect ramp, once serving. Lower than at start: the ramp's collections are
 * many but short, while at start a tighter growth would add full collections to the restart time.
 */
export const RAMP_GROWING_PERCENT = 20;

/** V8 spells a flag with `-` or `_`; `--name=value` and `--name value` both set it. */
function flagName(arg: string): string {
  return (arg.split('=')[0] as string).replace(/_/g, '-');
}

/** The flags to set: each one the process was not started with (an operator's own setting wins). */
export function heapFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.filter((a) => a.startsWith('--')).map(flagName));
  return given.has('--heap-growing-percent') ? [] : [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

/** Applies heapFlags(process.execArgv) to this process; answers what it set. */
export function applyHeapSettings(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = heapFlags(execArgv);
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}

/**
 * A full collection, now (V8's `gc`, which node gives only with --expose-gc): the flag is set just
 * long enough to take the function from a fresh context, then put back as it was.
 */
export function fullCollection(): () => void {
  // Started with --expose-gc (on the command line or in NODE_OPTIONS): the flag stays as it is.
  const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!exposed) setFlagsFromString('--expose-gc');
  try {
    const gc = runInNewContext('gc') as () => void;
    return () => gc();
  } finally {
    if (!exposed) setFlagsFromString('--no-expose-gc');
  }
}

/** What makes a ramp: this many more arrivals (connections and registered workers) than the lowest count of the last `windowMs`. */
export interface RampOptions {
  minArrivals: number;
  windowMs: number;
}

export const DEFAULT_RAMP: RampOptions = { minArrivals: 1_000, windowMs: 10_000 };

/**
 * Caps the old generation's growth (RAMP_GROWING_PERCENT) while workers arrive in numbers, and
 * gives V8 back its own factor (0: V8 picks it) once they have stopped for a window. Fed a count
 * now and then (connections plus registered workers: a fleet registers over HTTP before it
 * connects); sets the flag when made (serving starts capped) and then only when the answer
 * changes, and when the cap engages asks for one full
 * collection (`collect`) so the capped limit applies from then on. Starts capped: a start is
 * usually followed by every worker reconnecting, and V8's first limits are small.
 */
export class RampGrowthCap {
  private samples: Array<{ at: number; connections: number }> = [];
  private rampUntil: number;
  private capped = true;

  constructor(
    private readonly setFlag: (flag: string) => void,
    now: number,
    private readonly options: RampOptions = DEFAULT_RAMP,
    private readonly collect: () => void = () => undefined,
  ) {
    this.rampUntil = now + options.windowMs;
    this.setFlag(`--heap-growing-percent=${RAMP_GROWING_PERCENT}`);
  }

  get isCapped(): boolean {
    return this.capped;
  }

  observe(connections: number, now: number): void {
    this.samples.push({ at: now, connections });
    while ((this.samples[0] as { at: number }).at < now - this.options.windowMs) this.samples.shift();
    const lowest = Math.min(...this.samples.map((s) => s.connections));
    if (connections - lowest >= this.options.minArrivals) this.rampUntil = now + this.options.windowMs;
    const cap = now < this.rampUntil;
    if (cap === this.capped) return;
    this.capped = cap;
    this.setFlag(`--heap-growing-percent=${cap ? RAMP_GROWING_PERCENT : 0}`);
    if (cap) this.collect();
  }
}
