/**
 * A long job done a piece at a time, so that the event loop keeps answering: the job checks `due`
 * every few items and, once its piece has run `ms`, awaits `next()` (a turn of the loop, in which
 * commands, commits and heartbeats run). A snapshot's parts (its capture, its key file, forgetting
 * the keys it covers) each stopped the loop for 5-70 ms with 20,000 keys, and every request in
 * flight waited that long (bench/README.md, "Snapshots that do not stop the loop").
 */
import { performance } from 'node:perf_hooks';

/** How long a piece of a background job may run before it lets the loop turn. */
export const DEFAULT_TURN_MS = 2;

export class Turns {
  private started = performance.now();

  constructor(private readonly ms = DEFAULT_TURN_MS) {}

  /** The current piece has run its time: await `next()` before going on. */
  get due(): boolean {
    return performance.now() - this.started >= this.ms;
  }

  /** Lets the loop turn once (setImmediate: after pending I/O callbacks), then starts a new piece. */
  async next(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }

  /** `next()` when `due`: call it every few items of a loop (each call reads the clock). */
  async pace(): Promise<void> {
    if (this.due) await this.next();
  }
}
