/**
 * Time, injected. `now()` is epoch milliseconds that never jump: the wall clock is read once at
 * start and then advanced by the monotonic clock, so a wall-clock step (NTP, a VM resume, a user
 * changing the date) cannot expire or extend leases. Tests use ManualClock and move time by hand.
 */
export interface Clock {
  now(): number;
  /**
   * Recovery calls this with the time of the last journaled event: the monotonic clock restarts
   * with the process, so a wall clock set back while the coordinator was down must not move time
   * back (which would lengthen every live lease and offer by the jump).
   */
  notBefore?(ms: number): void;
}

export class SystemClock implements Clock {
  private wallAtStart = Date.now();
  private readonly monoAtStart = performance.now();

  now(): number {
    return Math.floor(this.wallAtStart + (performance.now() - this.monoAtStart));
  }

  notBefore(ms: number): void {
    const behind = ms - this.now();
    if (behind > 0) this.wallAtStart += behind;
  }
}

export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): number {
    this.current += ms;
    return this.current;
  }

  set(ms: number): void {
    this.current = ms;
  }
}
