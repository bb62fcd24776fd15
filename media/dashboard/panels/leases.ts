/** Live leases with a countdown to expiry, and Cancel for maintainers. */
import { h } from '../dom.ts';
import { STATE_LABELS, formatCountdown } from '../format.ts';
import type { DashboardModel } from '../model.ts';
import type { LeaseCancel } from './lease-cancel.ts';
import { section, table, workerName } from './parts.ts';
import { whenReadable, type Panel, type ViewContext } from './panel.ts';

export class LeasesPanel implements Panel {
  private readonly body = h('div', { id: 'leases' });
  readonly element = section('Leases', this.body);
  readonly shown = whenReadable;

  constructor(private readonly cancel: LeaseCancel) {
    cancel.listen(this.element);
  }

  render(model: DashboardModel, ctx: ViewContext): void {
    const rows = model.leases();
    if (rows.length === 0) {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'No live leases.'));
      return;
    }
    this.body.replaceChildren(
      table(
        ['Lease', 'Task', 'Worker', 'Epoch', 'Expires in', ctx.signedIn ? '' : null],
        rows.map((l) =>
          h(
            'tr',
            { data: { leaseId: l.lease_id, taskId: l.task_id } },
            h('td', {}, h('code', {}, l.lease_id)),
            h('td', {}, h('code', {}, l.task_id), ' ', h('span', { class: 'title' }, l.title), h('div', { class: 'muted small' }, `${l.repo} · ${STATE_LABELS[l.state]}`)),
            h('td', {}, workerName(model, l.worker_id)),
            h('td', {}, String(l.epoch)),
            h('td', {}, h('span', { class: 'countdown', data: { expiresAt: l.expires_at, role: 'countdown' } }, formatCountdown(l.expires_at, ctx.now))),
            ctx.signedIn ? h('td', {}, this.cancel.button(l.lease_id, 'Cancel', ctx.now)) : null,
          ),
        ),
      ),
    );
  }
}
