/** Live leases with their hard deadline and, apart from it, their heartbeat's health; Cancel for maintainers. */
import { h } from '../dom.ts';
import { STATE_LABELS } from '../format.ts';
import { formatHeartbeat, formatLeaseDeadline } from '../../../protocol/vocabulary.ts';
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
        ['Lease', 'Task', 'Worker', 'Epoch', 'Deadline', 'Heartbeat', ctx.signedIn ? '' : null],
        rows.map((l) =>
          h(
            'tr',
            { data: { leaseId: l.lease_id, taskId: l.task_id } },
            h('td', {}, h('code', {}, l.lease_id)),
            h('td', {}, h('code', {}, l.task_id), ' ', h('span', { class: 'title' }, l.title), h('div', { class: 'muted small' }, `${l.repo} · ${STATE_LABELS[l.state]}`)),
            h('td', {}, workerName(model, l.worker_id)),
            h('td', {}, String(l.epoch)),
            h('td', {}, l.max_deadline_at !== undefined ? h('span', { data: { deadlineAt: l.max_deadline_at, role: 'deadline' } }, formatLeaseDeadline(l.max_deadline_at, ctx.now)) : h('span', { class: 'muted' }, '—')),
            h('td', {}, heartbeatCell(l.expires_at, model.repos.get(l.repo)?.settings.heartbeat_timeout_ms, ctx.now)),
            ctx.signedIn ? h('td', {}, this.cancel.button(l.lease_id, 'Cancel', ctx.now)) : null,
          ),
        ),
      ),
    );
  }
}

/** The heartbeat's health, redrawn by the view's tick; without the repo's timeout, only when the lease is lost without one. */
function heartbeatCell(expiresAt: number, timeoutMs: number | undefined, now: number): HTMLElement {
  const timeout = timeoutMs ?? 0;
  return h('span', { class: 'countdown', data: { heartbeatExpiresAt: expiresAt, heartbeatTimeoutMs: timeout, role: 'heartbeat' } }, formatHeartbeat(expiresAt, timeout, now));
}
