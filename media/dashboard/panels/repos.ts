/** Repositories and review budgets: a card per repo with its gauges, area locks and budget editor. */
import { h, type Child } from '../dom.ts';
import type { AreaLock, DashboardModel, RepoEntry } from '../model.ts';
import { repoSourceLines } from '../repo-source.ts';
import { gauge, nodes, section, workerName } from './parts.ts';
import { budgetReserved, formatHourlyBudget, formatNextHourlySlot, formatReservedBudget } from '../../../protocol/vocabulary.ts';
import { whenReadable, type Panel, type PanelHost, type ViewContext } from './panel.ts';

interface BudgetEditor {
  details: HTMLDetailsElement;
  open: HTMLInputElement;
  hourly: HTMLInputElement;
  paused: HTMLInputElement;
}

export class ReposPanel implements Panel {
  private readonly body = h('div', { class: 'repos', id: 'repos' });
  readonly element = section('Repositories and review budgets', this.body);
  readonly shown = whenReadable;
  private readonly budgetEditors = new Map<string, BudgetEditor>();

  constructor(private readonly host: PanelHost) {}

  render(model: DashboardModel, ctx: ViewContext): void {
    const cards: Child[] = [];
    const locks = model.locksByRepo();
    for (const repo of [...model.repos.values()].sort((a, b) => a.settings.repo.localeCompare(b.settings.repo))) {
      cards.push(this.repoCard(repo, locks.get(repo.settings.repo) ?? [], model, ctx));
    }
    this.body.replaceChildren(...nodes(cards.length > 0 ? cards : [h('p', { class: 'muted' }, 'No repositories yet.')]));
  }

  private repoCard(repo: RepoEntry, locks: readonly AreaLock[], model: DashboardModel, ctx: ViewContext): HTMLElement {
    const b = repo.budget;
    const s = repo.settings;
    const reserved = budgetReserved(b);
    const state = s.paused ? 'paused' : b.throttled ? 'throttled' : 'open';
    return h(
      'article',
      { class: `repo-card ${state}`, data: { repo: s.repo, state } },
      h('header', {}, h('h3', {}, s.repo), h('span', { class: `badge ${state}`, data: { role: 'repo-state' } }, state === 'throttled' ? 'THROTTLED' : state === 'paused' ? 'PAUSED' : 'accepting')),
      gauge(formatReservedBudget(b), reserved.open, s.max_open_prs, `Open PRs, live leases and open offers all count against max_open_prs ${s.max_open_prs}.`, 'open-prs'),
      gauge(formatHourlyBudget(b), reserved.hourly, s.max_new_prs_per_hour, `PRs opened in the last hour, live leases and open offers (which may still become PRs this hour) count against max_new_prs_per_hour ${s.max_new_prs_per_hour}.`, 'hourly'),
      h('p', { class: 'muted small', data: { role: 'next-slot' } }, formatNextHourlySlot(b, ctx.now)),
      h(
        'div',
        { class: 'locks' },
        h('span', { class: 'muted' }, 'Area locks: '),
        locks.length === 0
          ? h('span', { class: 'muted' }, 'none')
          : h('ul', { class: 'inline-list' }, ...locks.map((l) => h('li', { data: { area: l.area } }, h('code', {}, l.area), ` → ${l.task_id}${l.worker_id ? ` (${workerName(model, l.worker_id)})` : ''}`))),
      ),
      h('ul', { class: 'repo-source', data: { role: 'repo-source' } }, ...repoSourceLines(s).map((l) => h('li', { class: l.kind === 'error' || l.kind === 'problem' ? `source-${l.kind} error` : `source-${l.kind} muted`, data: { kind: l.kind } }, l.text))),
      ctx.signedIn ? this.budgetForm(repo) : null,
    );
  }

  /**
   * One editor per repo, reused across renders so a half-typed budget survives live updates; its
   * fields follow the settings only while it is closed.
   */
  private budgetForm(repo: RepoEntry): HTMLElement {
    const s = repo.settings;
    let editor = this.budgetEditors.get(s.repo);
    if (!editor) {
      const open = h('input', { type: 'number', name: 'max_open_prs', min: 0, max: 1000, aria: { label: 'Max open PRs' } });
      const hourly = h('input', { type: 'number', name: 'max_new_prs_per_hour', min: 0, max: 1000, aria: { label: 'Max new PRs per hour' } });
      const paused = h('input', { type: 'checkbox', name: 'paused' });
      const form = h(
        'form',
        { class: 'budget-form' },
        h('label', {}, 'open PRs ', open),
        h('label', {}, 'per hour ', hourly),
        h('label', {}, paused, ' paused'),
        h('button', { type: 'submit' }, 'Save budget'),
      );
      const details = h('details', { class: 'budget-edit' }, h('summary', {}, 'Change budget'), form);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void this.host.run(() => this.host.actions.configureRepo(s.repo, { max_open_prs: Number(open.value), max_new_prs_per_hour: Number(hourly.value), paused: paused.checked }));
      });
      editor = { details, open, hourly, paused };
      this.budgetEditors.set(s.repo, editor);
    }
    if (!editor.details.open) {
      editor.open.value = String(s.max_open_prs);
      editor.hourly.value = String(s.max_new_prs_per_hour);
      editor.paused.checked = s.paused;
    }
    return editor.details;
  }
}
