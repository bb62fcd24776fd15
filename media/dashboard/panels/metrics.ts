/** The pool's figures now, and over time in charts (drawn by charts.ts into `chartsHost`). */
import { h } from '../dom.ts';
import { formatDuration, formatPercent } from '../format.ts';
import type { DashboardModel } from '../model.ts';
import { section } from './parts.ts';
import { whenReadable, type Panel } from './panel.ts';

export class MetricsPanel implements Panel {
  private readonly summary = h('div', { class: 'metric-summary' });
  /** Where the metric charts draw; the charts follow the page's own samples, not the model. */
  readonly chartsHost = h('div', { class: 'charts', id: 'charts' });
  readonly element = section('Metrics', h('div', {}, this.summary, this.chartsHost));
  readonly shown = whenReadable;

  render(model: DashboardModel): void {
    const m = model.metrics;
    if (!m) return;
    const fig = (label: string, value: string): HTMLElement => h('div', { class: 'figure' }, h('span', { class: 'value' }, value), h('span', { class: 'muted small' }, label));
    this.summary.replaceChildren(
      fig('utilization', formatPercent(m.utilization)),
      fig('lead time (median)', m.lead_time_ms_median === null ? '—' : formatDuration(m.lead_time_ms_median)),
      fig('requeue rate', formatPercent(m.requeue_rate)),
      fig('PR acceptance', formatPercent(m.pr_acceptance_rate)),
      fig('workers online', `${m.workers_online}/${m.workers_registered}`),
    );
  }
}
