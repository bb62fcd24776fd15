/** Small building blocks the panels share: sections, gauges, chips, tables. Text stays text. */
import { h, type Child } from '../dom.ts';
import type { DashboardModel } from '../model.ts';

export function section(title: string, body: HTMLElement, hint?: string): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), hint ? h('p', { class: 'muted small' }, hint) : null, body);
}

export function gauge(label: string, used: number, max: number, detail: string, kind: string): HTMLElement {
  const ratio = max <= 0 ? 1 : Math.min(1, used / max);
  const full = used >= max;
  return h(
    'div',
    { class: `gauge ${full ? 'full' : ''}`, title: detail, data: { gauge: kind } },
    h('div', { class: 'gauge-label' }, h('span', { data: { role: 'gauge-text' } }, label)),
    h('div', { class: 'gauge-track', role: 'meter', aria: { valuenow: String(used), valuemin: '0', valuemax: String(max), label } }, h('div', { class: 'gauge-fill', style: { width: `${Math.round(ratio * 100)}%` } })),
  );
}

export function meter(used: number, capacity: number): HTMLElement {
  const ratio = capacity <= 0 ? 0 : Math.min(1, used / capacity);
  return h('div', { class: 'gauge-track small-track', role: 'meter', aria: { valuenow: String(used), valuemin: '0', valuemax: String(capacity), label: 'capacity used' } }, h('div', { class: 'gauge-fill', style: { width: `${Math.round(ratio * 100)}%` } }));
}

export function chips(values: readonly string[]): HTMLElement {
  return h('span', { class: 'chips' }, ...values.map((v) => h('span', { class: 'chip' }, v)));
}

export function table(headers: Array<string | null>, rows: HTMLElement[]): HTMLElement {
  return h('table', {}, h('thead', {}, h('tr', {}, ...headers.filter((x): x is string => x !== null).map((x) => h('th', {}, x)))), h('tbody', {}, ...rows));
}

export function workerName(model: DashboardModel, workerId: string): string {
  const login = model.workers.get(workerId)?.github_login;
  return login ? `${login} (${workerId})` : workerId;
}

export function nodes(children: Child[]): Node[] {
  return children.filter((c): c is Node => c instanceof Node);
}
