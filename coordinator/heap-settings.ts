/**
 * V8 heap settings the coordinator applies to its own process at start (issue 20, item 5; figures in
 * bench/README.md, "Memory per worker", fourth pass). While thousands of workers register and
 * connect, every request's objects live through its durable write, so they are promoted to the old
 * generation and die there; V8 lets the old generation grow to its live size times a factor it
 * picks (up to 4) before the next full collection, and keeps the pages it grew into. A fixed 50 %
 * growth starts that collection sooner: the resident peak at 10,000 workers drops by 40–70 MB for a
 * few percent more CPU. V8 reads the factor at every full collection, so setting it at run time works.
 */
import { setFlagsFromString } from 'node:v8';

/** Old generation growth past its live size before the next full collection, in percent. */
export const HEAP_GROWING_PERCENT = 50;

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
