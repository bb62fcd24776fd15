/**
 * Redraws countdowns: every second while an offer is open (its deadline is seconds away), every
 * 15 s otherwise (lease deadlines are minutes away). One timer for all views.
 */
import type * as vscode from 'vscode';
import type { PoolSession } from './logic/pool-session.ts';

export class CountdownTicker implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private periodMs = 0;

  constructor(
    private readonly session: PoolSession,
    private readonly redraw: () => void,
  ) {
    this.reschedule();
  }

  reschedule(): void {
    const snapshot = this.session.snapshot();
    const wanted = snapshot.offers.length > 0 ? 1000 : snapshot.leases.length > 0 ? 15_000 : 0;
    if (wanted === this.periodMs) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.periodMs = wanted;
    if (wanted > 0) this.timer = setInterval(() => this.redraw(), wanted);
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
