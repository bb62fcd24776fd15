/** The page header: the title, the connection pill, and sign-in / sign-out. Always shown. */
import { h } from '../dom.ts';
import type { Panel, PanelHost, ViewContext } from './panel.ts';

export class HeaderPanel implements Panel {
  private readonly statusPill = h('span', { class: 'pill', role: 'status', data: { connection: 'connecting' } }, 'connecting');
  private readonly authArea = h('div', { class: 'auth' });
  readonly element = h('header', { class: 'top' }, h('h1', {}, 'OWP pool'), this.statusPill, this.authArea);
  private lastSignedIn: boolean | undefined;

  constructor(private readonly host: PanelHost) {
    this.element.addEventListener('click', (event) => {
      if ((event.target as Element | null)?.closest('[data-action="sign-out"]')) host.actions.signOut();
    });
  }

  shown(): boolean {
    return true;
  }

  render(_model: unknown, ctx: ViewContext): void {
    const label = ctx.connection === 'polling' ? 'read-only · polling' : ctx.connection === 'signed-out' ? 'signed out' : ctx.connection;
    this.statusPill.textContent = ctx.coordinatorName ? `${ctx.coordinatorName} · ${label}` : label;
    this.statusPill.dataset.connection = ctx.connection;
    this.statusPill.title = ctx.connectionDetail ?? '';
    this.renderAuth(ctx);
  }

  /** Rebuilt only when signing in or out, so a half-typed token is never wiped by a live update. */
  private renderAuth(ctx: ViewContext): void {
    if (this.lastSignedIn === ctx.signedIn) return;
    this.lastSignedIn = ctx.signedIn;
    if (ctx.signedIn) {
      this.authArea.replaceChildren(h('span', { class: 'muted' }, 'signed in as maintainer'));
      if (!ctx.hostProvidedToken) this.authArea.append(h('button', { type: 'button', data: { action: 'sign-out' } }, 'Sign out'));
      return;
    }
    const input = h('input', { type: 'password', name: 'token', placeholder: 'maintainer token', autocomplete: 'off', aria: { label: 'Maintainer token' } });
    const form = h('form', { class: 'sign-in' }, input, h('button', { type: 'submit' }, 'Sign in'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = input.value.trim();
      input.value = '';
      if (token) this.host.actions.signIn(token);
    });
    this.authArea.replaceChildren(form);
  }
}

/** The one-line notice under the header: what the last action did, or why it failed. */
export class NoticePanel implements Panel {
  readonly element = h('p', { class: 'notice', role: 'status', aria: { live: 'polite' } });

  shown(): boolean {
    return true;
  }

  render(): void {
    // Written by say(), not by the model.
  }

  say(message: string, tone: 'info' | 'error' = 'info'): void {
    this.element.textContent = message;
    this.element.dataset.tone = tone;
  }
}

/** Shown instead of the data panels while the coordinator answers nothing without a token. */
export class LockedPanel implements Panel {
  readonly element = h(
    'section',
    { class: 'panel locked', id: 'locked' },
    h('h2', {}, 'Sign in to watch the pool'),
    h('p', {}, 'This coordinator shows its repositories, tasks and workers to token holders only. Paste a maintainer token above, or open the dashboard link that `owp coordinator` prints (it carries the token in the part after #, which never leaves your browser).'),
  );

  shown(ctx: ViewContext): boolean {
    return ctx.locked;
  }

  render(): void {
    // Fixed text.
  }
}
