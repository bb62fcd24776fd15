/**
 * Tasks by state, one column per state of the protocol's state machine, with why a ready task is
 * not offered; maintainers unblock a blocked task and cancel a lease from its card.
 */
import type { Task } from '../../../protocol/model.ts';
import { isTerminal, TASK_STATES } from '../../../protocol/states.ts';
import { h } from '../dom.ts';
import { STATE_LABELS, formatCountdown } from '../format.ts';
import type { DashboardModel } from '../model.ts';
import type { LeaseCancel } from './lease-cancel.ts';
import { chips, section, workerName } from './parts.ts';
import { whenReadable, type Panel, type PanelHost, type ViewContext } from './panel.ts';

const CARDS_PER_COLUMN = 40;

export class TasksPanel implements Panel {
  private readonly body = h('div', { class: 'board', id: 'tasks' });
  readonly element = section('Tasks', this.body);
  readonly shown = whenReadable;

  constructor(
    host: PanelHost,
    private readonly cancel: LeaseCancel,
  ) {
    cancel.listen(this.element);
    this.element.addEventListener('click', (event) => {
      const taskId = (event.target as Element | null)?.closest<HTMLElement>('[data-action="unblock"]')?.dataset.taskId;
      if (taskId) void host.run(() => host.actions.unblockTask(taskId));
    });
  }

  render(model: DashboardModel, ctx: ViewContext): void {
    const byState = model.tasksByState();
    const columns = TASK_STATES.map((state) => {
      const tasks = byState.get(state) ?? [];
      const shown = tasks.slice(0, CARDS_PER_COLUMN);
      // Live tasks are all loaded; of the finished ones only the newest are, so the coordinator's count says how many.
      const total = isTerminal(state) ? Math.max(tasks.length, model.metrics?.tasks_by_state[state] ?? 0) : tasks.length;
      return h(
        'section',
        { class: `column state-${state}`, data: { state } },
        h('h3', {}, STATE_LABELS[state], ' ', h('span', { class: 'count' }, String(total))),
        ...shown.map((t) => this.taskCard(t, model, ctx)),
        total > shown.length ? h('p', { class: 'muted small' }, `+ ${total - shown.length} more`) : null,
      );
    });
    this.body.replaceChildren(...columns);
  }

  private taskCard(t: Task, model: DashboardModel, ctx: ViewContext): HTMLElement {
    const why = t.state === 'ready' ? model.explanations.get(t.id) : undefined;
    const holder = t.lease?.worker_id ?? t.offer?.worker_id;
    return h(
      'article',
      { class: 'task', data: { taskId: t.id, state: t.state } },
      h('div', { class: 'task-head' }, h('code', {}, t.id), h('span', { class: 'muted small' }, t.repo)),
      h('div', { class: 'title', data: { role: 'title' } }, t.title),
      h(
        'div',
        { class: 'facts small' },
        t.area ? h('span', { title: 'area' }, h('code', {}, t.area)) : null,
        h('span', { title: 'risk tier (needs trust ≥ tier)' }, `tier ${t.tier}`),
        h('span', { title: 'capacity points' }, `effort ${t.effort}`),
        h('span', { title: 'attempts', data: { role: 'attempts' } }, `attempts ${t.attempts}`),
      ),
      t.skills.length > 0 ? chips(t.skills) : null,
      holder ? h('div', { class: 'small' }, t.lease ? 'held by ' : 'offered to ', workerName(model, holder)) : null,
      t.offer ? h('div', { class: 'small muted' }, 'answer within ', h('span', { data: { expiresAt: t.offer.deadline_at } }, formatCountdown(t.offer.deadline_at, ctx.now))) : null,
      why && !why.offerable ? h('div', { class: 'why small', data: { role: 'why' } }, 'Not offered: ', why.reasons.map((r) => r.message).join('; ')) : null,
      why && why.offerable ? h('div', { class: 'small muted', data: { role: 'why' } }, `offerable to ${why.eligible_workers} worker${why.eligible_workers === 1 ? '' : 's'}`) : null,
      t.state === 'blocked' && t.blocked_reason ? h('div', { class: 'why small' }, t.blocked_reason) : null,
      t.pr ? h('div', { class: 'small' }, h('a', { href: t.pr.url, rel: 'noreferrer noopener', target: '_blank' }, t.pr.number ? `PR #${t.pr.number}` : 'pull request')) : null,
      ctx.signedIn && t.state === 'blocked' ? h('button', { type: 'button', data: { action: 'unblock', taskId: t.id } }, 'Unblock') : null,
      ctx.signedIn && t.lease ? this.cancel.button(t.lease.lease_id, 'Cancel lease', ctx.now) : null,
    );
  }
}
