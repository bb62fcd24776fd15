/** The event feed from the audit journal, newest first, filterable by kind and text. */
import { h } from '../dom.ts';
import { formatClock } from '../format.ts';
import type { DashboardModel, FeedKind } from '../model.ts';
import { section } from './parts.ts';
import { whenReadable, type Panel, type PanelHost } from './panel.ts';

const FEED_ROWS = 200;
const FEED_KINDS: Array<{ value: FeedKind | ''; label: string }> = [
  { value: '', label: 'All events' },
  { value: 'lease', label: 'Leases' },
  { value: 'offer', label: 'Offers' },
  { value: 'pr', label: 'PRs' },
  { value: 'task', label: 'Tasks' },
  { value: 'worker', label: 'Workers' },
  { value: 'repo', label: 'Repos' },
];

export class FeedPanel implements Panel {
  private readonly kind = h('select', { name: 'feed-kind', aria: { label: 'Event type' } });
  private readonly filter = h('input', { type: 'search', name: 'feed-filter', placeholder: 'Filter by repo, task, worker or text', aria: { label: 'Filter events' } });
  private readonly list = h('ol', { class: 'feed', id: 'feed', aria: { live: 'off' } });
  readonly element = section('Event feed', h('div', {}, h('div', { class: 'feed-controls' }, this.kind, this.filter), this.list));
  readonly shown = whenReadable;

  constructor(host: PanelHost) {
    for (const kind of FEED_KINDS) this.kind.append(h('option', { value: kind.value }, kind.label));
    this.kind.addEventListener('change', () => host.requestRender());
    this.filter.addEventListener('input', () => host.requestRender());
  }

  render(model: DashboardModel): void {
    const kind = this.kind.value;
    const needle = this.filter.value.trim().toLowerCase();
    const items: HTMLElement[] = [];
    for (let i = model.feed.length - 1; i >= 0 && items.length < FEED_ROWS; i -= 1) {
      const e = model.feed[i];
      if (!e) continue;
      if (kind && e.kind !== kind) continue;
      if (needle && ![e.text, e.repo, e.task_id, e.worker_id, e.type].some((v) => v?.toLowerCase().includes(needle))) continue;
      items.push(
        h(
          'li',
          { data: { seq: e.seq, type: e.type, kind: e.kind } },
          h('time', { class: 'muted small' }, formatClock(e.at)),
          h('span', { class: `kind kind-${e.kind}`, title: e.type }, e.type),
          h('span', { class: 'text' }, e.text),
          e.repo ? h('span', { class: 'muted small' }, e.repo) : null,
        ),
      );
    }
    this.list.replaceChildren(...(items.length > 0 ? items : [h('li', { class: 'muted' }, model.feed.length === 0 ? 'Sign in to follow the journal live.' : 'No events match the filter.')]));
  }
}
