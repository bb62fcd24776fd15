/** Workers: online first, with skills, capacity used and free, trust, tools, heartbeat age and leases. */
import type { Worker } from '../../../protocol/model.ts';
import { h } from '../dom.ts';
import { formatAge } from '../format.ts';
import type { DashboardModel } from '../model.ts';
import { chips, meter, section, table } from './parts.ts';
import { capacityUse, formatCapacity, formatCapacityDetail } from '../../../protocol/vocabulary.ts';
import { whenReadable, type Panel, type ViewContext } from './panel.ts';

const WORKER_ROWS = 200;

export class WorkersPanel implements Panel {
  private readonly body = h('div', { id: 'workers' });
  readonly element = section('Workers', this.body);
  readonly shown = whenReadable;

  render(model: DashboardModel, ctx: ViewContext): void {
    if (!ctx.signedIn) {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'Sign in with a maintainer token to see workers.'));
      return;
    }
    const workers = [...model.workers.values()].filter((w) => !w.revoked).sort((a, b) => Number(b.online) - Number(a.online) || a.github_login.localeCompare(b.github_login));
    if (workers.length === 0) {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'No workers have joined yet.'));
      return;
    }
    const holdings = model.holdings();
    const shown = workers.slice(0, WORKER_ROWS);
    this.body.replaceChildren(
      table(
        ['Worker', 'Skills', 'Capacity', 'Trust', 'Tools', 'Last seen', 'Leases'],
        shown.map((w) => workerRow(w, holdings.get(w.id) ?? { leased: 0, offered: 0, leases: [] }, ctx.now)),
      ),
    );
    if (workers.length > shown.length) this.body.append(h('p', { class: 'muted small' }, `+ ${workers.length - shown.length} more (offline last)`));
  }
}

function workerRow(w: Worker, holding: { leased: number; offered: number; leases: string[] }, now: number): HTMLElement {
  const { leases } = holding;
  const figures = { capacity: w.capacity, leased: holding.leased, offered: holding.offered };
  const { used } = capacityUse(figures);
  return h(
    'tr',
    { data: { workerId: w.id, online: String(w.online) } },
    h('td', {}, h('span', { class: `dot ${w.online ? 'on' : 'off'}`, title: w.online ? 'online' : 'offline' }), ' ', w.github_login, h('div', { class: 'muted small' }, `${w.id} · ${w.online ? 'online' : 'offline'}`)),
    h('td', {}, chips(w.skills)),
    h('td', { title: formatCapacityDetail(figures) }, meter(used, w.capacity), h('div', { class: 'small', data: { role: 'capacity' } }, formatCapacity(figures)), h('div', { class: 'muted small' }, `${figures.leased} leased · ${figures.offered} offered`)),
    h('td', {}, String(w.trust)),
    h('td', {}, chips(w.tools)),
    h('td', {}, h('span', { data: w.last_seen_at !== undefined ? { seenAt: w.last_seen_at } : {} }, formatAge(w.last_seen_at, now))),
    h('td', {}, leases.length === 0 ? h('span', { class: 'muted' }, '—') : leases.join(', ')),
  );
}
