/**
 * Maintainer actions: the add-task form (built once, so live updates never wipe what is typed).
 * Cancelling leases, unblocking tasks and changing budgets happen on the other panels' cards.
 */
import { h } from '../dom.ts';
import type { DashboardModel } from '../model.ts';
import { section } from './parts.ts';
import type { Panel, PanelHost, ViewContext } from './panel.ts';

export class ActionsPanel implements Panel {
  private readonly repoSelect = h('select', { name: 'repo', required: true, aria: { label: 'Repository' } });
  readonly element: HTMLElement;
  private lastRepoOptions = '';

  constructor(private readonly host: PanelHost) {
    this.element = section('Maintainer actions', this.buildForm(), 'Add a task here; cancel leases, unblock tasks and change budgets on their cards above.');
    this.element.hidden = true;
  }

  shown(ctx: ViewContext): boolean {
    return ctx.signedIn && !ctx.locked;
  }

  render(model: DashboardModel): void {
    const repos = [...model.repos.keys()].sort();
    const key = repos.join('\n');
    if (key === this.lastRepoOptions) return;
    this.lastRepoOptions = key;
    const current = this.repoSelect.value;
    this.repoSelect.replaceChildren(...repos.map((r) => h('option', { value: r }, r)));
    if (repos.includes(current)) this.repoSelect.value = current;
  }

  private buildForm(): HTMLElement {
    const title = h('input', { name: 'title', required: true, placeholder: 'Title', aria: { label: 'Title' } });
    const body = h('textarea', { name: 'body', placeholder: 'What needs doing (plain text)', aria: { label: 'Body' } });
    const area = h('input', { name: 'area', placeholder: 'area (e.g. docs)', aria: { label: 'Area' } });
    const skills = h('input', { name: 'skills', placeholder: 'skills, comma separated', aria: { label: 'Skills' } });
    const tier = h('input', { type: 'number', name: 'tier', min: 0, max: 3, value: '0', aria: { label: 'Tier' } });
    const effort = h('input', { type: 'number', name: 'effort', min: 1, max: 100, value: '1', aria: { label: 'Effort' } });
    const form = h(
      'form',
      { class: 'task-form', id: 'add-task' },
      h('label', {}, 'Repository ', this.repoSelect),
      h('label', { class: 'wide' }, 'Title ', title),
      h('label', { class: 'wide' }, 'Body ', body),
      h('label', {}, 'Area ', area),
      h('label', {}, 'Skills ', skills),
      h('label', {}, 'Tier ', tier),
      h('label', {}, 'Effort ', effort),
      h('button', { type: 'submit' }, 'Add task'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const fields = {
        repo: this.repoSelect.value,
        title: title.value.trim(),
        body: body.value,
        tier: Number(tier.value),
        effort: Number(effort.value),
        skills: skills.value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
        ...(area.value.trim() ? { area: area.value.trim().toLowerCase() } : {}),
      };
      void this.host.run(async () => {
        const message = await this.host.actions.createTask(fields);
        title.value = '';
        body.value = '';
        return message;
      });
    });
    return form;
  }
}
