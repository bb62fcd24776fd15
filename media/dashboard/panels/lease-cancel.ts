/**
 * The Cancel button on a lease, shared by the Leases panel and the task cards. Cancelling asks
 * for a second click instead of window.confirm(), which VS Code webviews do not show. The armed
 * state lives here, one for the whole page, so it survives the re-renders in between and a click
 * in one panel arms the same lease's button in the other.
 */
import { h } from '../dom.ts';
import type { PanelHost } from './panel.ts';

const CONFIRM_WINDOW_MS = 4000;

export class LeaseCancel {
  private armed: { leaseId: string; until: number } | undefined;

  constructor(private readonly host: PanelHost) {}

  button(leaseId: string, label: string, now: number): HTMLElement {
    const armed = this.armed?.leaseId === leaseId && this.armed.until > now;
    return h(
      'button',
      { type: 'button', class: armed ? 'danger armed' : 'danger', title: 'The task goes back to ready and counts an attempt.', data: { action: 'cancel-lease', leaseId } },
      armed ? 'Click again to cancel' : label,
    );
  }

  /** Listens for the buttons' clicks inside one panel. */
  listen(element: HTMLElement): void {
    element.addEventListener('click', (event) => {
      const target = (event.target as Element | null)?.closest<HTMLElement>('[data-action="cancel-lease"]');
      const leaseId = target?.dataset.leaseId;
      if (leaseId) this.click(leaseId);
    });
  }

  private click(leaseId: string): void {
    if (this.armed?.leaseId === leaseId && this.armed.until > Date.now()) {
      this.armed = undefined;
      void this.host.run(() => this.host.actions.cancelLease(leaseId));
      return;
    }
    this.armed = { leaseId, until: Date.now() + CONFIRM_WINDOW_MS };
    setTimeout(() => this.host.requestRender(), CONFIRM_WINDOW_MS + 50);
    this.host.requestRender();
  }
}
