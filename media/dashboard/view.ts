/**
 * Draws the dashboard from the model. The page skeleton and the forms are built once (so typing
 * is never interrupted); the data sections are rebuilt from the model when it changed, at most a
 * few times a second, and countdowns tick in place in between. All outside text goes through
 * `h()` as text nodes.
 */
import type { Task, Worker } from '../../protocol/model.ts';
import { TASK_STATES } from '../../protocol/states.ts';
import { h, type Child } from './dom.ts';
import { STATE_LABELS, formatAge, formatClock, formatCountdown, formatDuration, formatPercent } from './format.ts';
import type { AreaLock, DashboardModel, FeedKind, RepoEntry } from './model.ts';

export type ConnectionLabel = 'live' | 'connecting' | 'reconnecting' | 'polling' | 'signed-out' | 'refused' | 'offline';

export interface ViewContext {
  now: number;
  signedIn: boolean;
  /** Nothing is readable without a token: show only the sign-in. */
  locked: boolean;
  hostProvidedToken: boolean;
  connection: ConnectionLabel;
  connectionDetail?: string;
  coordinatorName?: string;
}

export interface DashboardActions {
  signIn(token: string): void;
  signOut(): void;
  createTask(fields: { repo: string; title: string; body: string; area?: string; tier: number; effort: number; skills: string[] }): Promise<string>;
  cancelLease(leaseId: string): Promise<string>;
  unblockTask(taskId: string): Promise<string>;
  configureRepo(repo: string, settings: { max_open_prs: number; max_new_prs_per_hour: number; paused: boolean }): Promise<string>;
}

const CARDS_PER_COLUMN = 40;
const FEED_ROWS = 200;
const WORKER_ROWS = 200;
const CONFIRM_WINDOW_MS = 4000;
const FEED_KINDS: Array<{ value: FeedKind | ''; label: string }> = [
  { value: '', label: 'All events' },
  { value: 'lease', label: 'Leases' },
  { value: 'offer', label: 'Offers' },
  { value: 'pr', label: 'PRs' },
  { value: 'task', label: 'Tasks' },
  { value: 'worker', label: 'Workers' },
  { value: 'repo', label: 'Repos' },
];

export class DashboardView {
  private readonly statusPill = h('span', { class: 'pill', role: 'status', data: { connection: 'connecting' } }, 'connecting');
  private readonly authArea = h('div', { class: 'auth' });
  private readonly notice = h('p', { class: 'notice', role: 'status', aria: { live: 'polite' } });
  private readonly reposBody = h('div', { class: 'repos', id: 'repos' });
  private readonly leasesBody = h('div', { id: 'leases' });
  private readonly boardBody = h('div', { class: 'board', id: 'tasks' });
  private readonly workersBody = h('div', { id: 'workers' });
  private readonly leaderboardBody = h('div', { id: 'leaderboard' });
  private readonly feedBody = h('ol', { class: 'feed', id: 'feed', aria: { live: 'off' } });
  private readonly metricsSummary = h('div', { class: 'metric-summary' });
  readonly chartsHost = h('div', { class: 'charts', id: 'charts' });
  private readonly actionsSection: HTMLElement;
  private readonly feedKind = h('select', { name: 'feed-kind', aria: { label: 'Event type' } });
  private readonly feedFilter = h('input', { type: 'search', name: 'feed-filter', placeholder: 'Filter by repo, task, worker or text', aria: { label: 'Filter events' } });
  private readonly repoSelect = h('select', { name: 'repo', required: true, aria: { label: 'Repository' } });
  private readonly lockedPanel = h(
    'section',
    { class: 'panel locked', id: 'locked' },
    h('h2', {}, 'Sign in to watch the pool'),
    h('p', {}, 'This coordinator shows its repositories, tasks and workers to token holders only. Paste a maintainer token above, or open the dashboard link that `owp coordinator` prints (it carries the token in the part after #, which never leaves your browser).'),
  );
  private readonly dataPanels: HTMLElement[] = [];
  private lastSignedIn: boolean | undefined;
  private lastRepoOptions = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly actions: DashboardActions,
    private readonly requestRender: () => void,
  ) {
    for (const kind of FEED_KINDS) this.feedKind.append(h('option', { value: kind.value }, kind.label));
    this.feedKind.addEventListener('change', requestRender);
    this.feedFilter.addEventListener('input', requestRender);
    this.actionsSection = this.buildActions();
    this.dataPanels.push(
      section('Repositories and review budgets', this.reposBody),
      h('div', { class: 'two-col' }, section('Leases', this.leasesBody), section('Workers', this.workersBody)),
      section('Tasks', this.boardBody),
      h('div', { class: 'two-col' }, section('Metrics', h('div', {}, this.metricsSummary, this.chartsHost)), section('Leaderboard', this.leaderboardBody, 'Only volunteers who opted in (x_leaderboard: true in their profile) are listed. Counts cover the recent journal and everything since this page opened.')),
      section('Event feed', h('div', {}, h('div', { class: 'feed-controls' }, this.feedKind, this.feedFilter), this.feedBody)),
    );
    this.lockedPanel.hidden = true;
    root.replaceChildren(h('header', { class: 'top' }, h('h1', {}, 'OWP pool'), this.statusPill, this.authArea), this.notice, this.lockedPanel, ...this.dataPanels.slice(0, 4), this.actionsSection, ...this.dataPanels.slice(4));
    root.addEventListener('click', (event) => this.onClick(event));
  }

  say(message: string, tone: 'info' | 'error' = 'info'): void {
    this.notice.textContent = message;
    this.notice.dataset.tone = tone;
  }

  render(model: DashboardModel, ctx: ViewContext): void {
    this.renderStatus(ctx);
    this.renderAuth(ctx);
    this.lockedPanel.hidden = !ctx.locked;
    for (const panel of this.dataPanels) panel.hidden = ctx.locked;
    this.actionsSection.hidden = !ctx.signedIn || ctx.locked;
    if (ctx.locked) return;
    this.renderRepos(model, ctx);
    this.renderLeases(model, ctx);
    this.renderWorkers(model, ctx);
    this.renderBoard(model, ctx);
    this.renderMetrics(model);
    this.renderLeaderboard(model, ctx);
    this.renderFeed(model);
    this.renderRepoOptions(model);
    this.tick(ctx.now);
  }

  /** Moves countdowns and ages without rebuilding anything. */
  tick(now: number): void {
    for (const el of Array.from(this.root.querySelectorAll<HTMLElement>('[data-expires-at]'))) {
      const deadline = Number(el.dataset.expiresAt);
      el.textContent = formatCountdown(deadline, now);
      el.classList.toggle('urgent', deadline - now < 5000);
    }
    for (const el of Array.from(this.root.querySelectorAll<HTMLElement>('[data-seen-at]'))) {
      el.textContent = formatAge(Number(el.dataset.seenAt), now);
    }
  }

  // ---- sections --------------------------------------------------------------------------------

  private renderStatus(ctx: ViewContext): void {
    const label = ctx.connection === 'polling' ? 'read-only · polling' : ctx.connection === 'signed-out' ? 'signed out' : ctx.connection;
    this.statusPill.textContent = ctx.coordinatorName ? `${ctx.coordinatorName} · ${label}` : label;
    this.statusPill.dataset.connection = ctx.connection;
    this.statusPill.title = ctx.connectionDetail ?? '';
  }

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
      if (token) this.actions.signIn(token);
    });
    this.authArea.replaceChildren(form);
  }

  private renderRepos(model: DashboardModel, ctx: ViewContext): void {
    const cards: Child[] = [];
    const locks = model.locksByRepo();
    for (const repo of [...model.repos.values()].sort((a, b) => a.settings.repo.localeCompare(b.settings.repo))) {
      cards.push(this.repoCard(repo, locks.get(repo.settings.repo) ?? [], model, ctx));
    }
    this.reposBody.replaceChildren(...nodes(cards.length > 0 ? cards : [h('p', { class: 'muted' }, 'No repositories yet.')]));
  }

  private repoCard(repo: RepoEntry, locks: readonly AreaLock[], model: DashboardModel, ctx: ViewContext): HTMLElement {
    const b = repo.budget;
    const s = repo.settings;
    const reserved = b.open_prs + b.live_leases + b.open_offers;
    const hourly = b.prs_last_hour + b.live_leases + b.open_offers;
    const state = s.paused ? 'paused' : b.throttled ? 'throttled' : 'open';
    return h(
      'article',
      { class: `repo-card ${state}`, data: { repo: s.repo, state } },
      h('header', {}, h('h3', {}, s.repo), h('span', { class: `badge ${state}`, data: { role: 'repo-state' } }, state === 'throttled' ? 'THROTTLED' : state === 'paused' ? 'PAUSED' : 'accepting')),
      gauge(`${reserved}/${s.max_open_prs} open PRs`, reserved, s.max_open_prs, `${b.open_prs} PRs open, ${b.live_leases} leases, ${b.open_offers} offers (all count against the budget)`, 'open-prs'),
      gauge(`${hourly}/${s.max_new_prs_per_hour} this hour`, hourly, s.max_new_prs_per_hour, `${b.prs_last_hour} PRs opened in the last hour, ${b.live_leases} leases, ${b.open_offers} offers (leases and offers may still become PRs this hour)`, 'hourly'),
      h(
        'div',
        { class: 'locks' },
        h('span', { class: 'muted' }, 'Area locks: '),
        locks.length === 0
          ? h('span', { class: 'muted' }, 'none')
          : h('ul', { class: 'inline-list' }, ...locks.map((l) => h('li', { data: { area: l.area } }, h('code', {}, l.area), ` → ${l.task_id}${l.worker_id ? ` (${workerName(model, l.worker_id)})` : ''}`))),
      ),
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
        void this.run(() => this.actions.configureRepo(s.repo, { max_open_prs: Number(open.value), max_new_prs_per_hour: Number(hourly.value), paused: paused.checked }));
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

  private readonly budgetEditors = new Map<string, { details: HTMLDetailsElement; open: HTMLInputElement; hourly: HTMLInputElement; paused: HTMLInputElement }>();

  private renderLeases(model: DashboardModel, ctx: ViewContext): void {
    const rows = model.leases();
    if (rows.length === 0) {
      this.leasesBody.replaceChildren(h('p', { class: 'muted' }, 'No live leases.'));
      return;
    }
    this.leasesBody.replaceChildren(
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
            ctx.signedIn ? h('td', {}, this.cancelButton(l.lease_id, 'Cancel', ctx.now)) : null,
          ),
        ),
      ),
    );
  }

  private renderWorkers(model: DashboardModel, ctx: ViewContext): void {
    if (!ctx.signedIn) {
      this.workersBody.replaceChildren(h('p', { class: 'muted' }, 'Sign in with a maintainer token to see workers.'));
      return;
    }
    const workers = [...model.workers.values()].filter((w) => !w.revoked).sort((a, b) => Number(b.online) - Number(a.online) || a.github_login.localeCompare(b.github_login));
    if (workers.length === 0) {
      this.workersBody.replaceChildren(h('p', { class: 'muted' }, 'No workers have joined yet.'));
      return;
    }
    const holdings = model.holdings();
    const shown = workers.slice(0, WORKER_ROWS);
    this.workersBody.replaceChildren(
      table(
        ['Worker', 'Skills', 'Capacity', 'Trust', 'Tools', 'Last seen', 'Leases'],
        shown.map((w) => this.workerRow(w, holdings.get(w.id) ?? { used: 0, leases: [] }, model, ctx.now)),
      ),
    );
    if (workers.length > shown.length) this.workersBody.append(h('p', { class: 'muted small' }, `+ ${workers.length - shown.length} more (offline last)`));
  }

  private workerRow(w: Worker, holding: { used: number; leases: string[] }, model: DashboardModel, now: number): HTMLElement {
    const { used, leases } = holding;
    return h(
      'tr',
      { data: { workerId: w.id, online: String(w.online) } },
      h('td', {}, h('span', { class: `dot ${w.online ? 'on' : 'off'}`, title: w.online ? 'online' : 'offline' }), ' ', w.github_login, h('div', { class: 'muted small' }, `${w.id} · ${w.online ? 'online' : 'offline'}`)),
      h('td', {}, chips(w.skills)),
      h('td', {}, meter(used, w.capacity), h('div', { class: 'small' }, `${used} used / ${Math.max(0, w.capacity - used)} free`)),
      h('td', {}, String(w.trust)),
      h('td', {}, chips(w.tools)),
      h('td', {}, h('span', { data: w.last_seen_at !== undefined ? { seenAt: w.last_seen_at } : {} }, formatAge(w.last_seen_at, now))),
      h('td', {}, leases.length === 0 ? h('span', { class: 'muted' }, '—') : leases.join(', ')),
    );
  }

  private renderBoard(model: DashboardModel, ctx: ViewContext): void {
    const byState = model.tasksByState();
    const columns = TASK_STATES.map((state) => {
      const tasks = byState.get(state) ?? [];
      const shown = tasks.slice(0, CARDS_PER_COLUMN);
      return h(
        'section',
        { class: `column state-${state}`, data: { state } },
        h('h3', {}, STATE_LABELS[state], ' ', h('span', { class: 'count' }, String(tasks.length))),
        ...shown.map((t) => this.taskCard(t, model, ctx)),
        tasks.length > shown.length ? h('p', { class: 'muted small' }, `+ ${tasks.length - shown.length} more`) : null,
      );
    });
    this.boardBody.replaceChildren(...columns);
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
      ctx.signedIn && t.lease ? this.cancelButton(t.lease.lease_id, 'Cancel lease', ctx.now) : null,
    );
  }

  private renderMetrics(model: DashboardModel): void {
    const m = model.metrics;
    if (!m) return;
    const fig = (label: string, value: string): HTMLElement => h('div', { class: 'figure' }, h('span', { class: 'value' }, value), h('span', { class: 'muted small' }, label));
    this.metricsSummary.replaceChildren(
      fig('utilization', formatPercent(m.utilization)),
      fig('lead time (median)', m.lead_time_ms_median === null ? '—' : formatDuration(m.lead_time_ms_median)),
      fig('requeue rate', formatPercent(m.requeue_rate)),
      fig('PR acceptance', formatPercent(m.pr_acceptance_rate)),
      fig('workers online', `${m.workers_online}/${m.workers_registered}`),
    );
  }

  private renderLeaderboard(model: DashboardModel, ctx: ViewContext): void {
    if (!ctx.signedIn) {
      this.leaderboardBody.replaceChildren(h('p', { class: 'muted' }, 'Sign in to see the leaderboard.'));
      return;
    }
    const rows = model.leaderboard();
    if (rows.length === 0) {
      this.leaderboardBody.replaceChildren(h('p', { class: 'muted' }, 'Nobody has opted in yet.'));
      return;
    }
    this.leaderboardBody.replaceChildren(
      table(
        ['#', 'Volunteer', 'Merged', 'PRs opened', 'Leases'],
        rows.map((r, i) =>
          h(
            'tr',
            { data: { workerId: r.worker_id } },
            h('td', {}, String(i + 1)),
            h('td', {}, h('a', { href: `https://github.com/${encodeURIComponent(r.login)}`, rel: 'noreferrer noopener', target: '_blank' }, `@${r.login}`)),
            h('td', {}, String(r.prs_merged)),
            h('td', {}, String(r.prs_opened)),
            h('td', {}, String(r.leases)),
          ),
        ),
      ),
    );
  }

  private renderFeed(model: DashboardModel): void {
    const kind = this.feedKind.value;
    const needle = this.feedFilter.value.trim().toLowerCase();
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
          h('span', { class: `kind kind-${e.kind}` }, e.type),
          h('span', { class: 'text' }, e.text),
          e.repo ? h('span', { class: 'muted small' }, e.repo) : null,
        ),
      );
    }
    this.feedBody.replaceChildren(...(items.length > 0 ? items : [h('li', { class: 'muted' }, model.feed.length === 0 ? 'Sign in to follow the journal live.' : 'No events match the filter.')]));
  }

  private renderRepoOptions(model: DashboardModel): void {
    const repos = [...model.repos.keys()].sort();
    const key = repos.join('\n');
    if (key === this.lastRepoOptions) return;
    this.lastRepoOptions = key;
    const current = this.repoSelect.value;
    this.repoSelect.replaceChildren(...repos.map((r) => h('option', { value: r }, r)));
    if (repos.includes(current)) this.repoSelect.value = current;
  }

  // ---- maintainer actions -------------------------------------------------------------------------

  private buildActions(): HTMLElement {
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
      void this.run(async () => {
        const message = await this.actions.createTask(fields);
        title.value = '';
        body.value = '';
        return message;
      });
    });
    const el = section('Maintainer actions', form, 'Add a task here; cancel leases, unblock tasks and change budgets on their cards above.');
    el.hidden = true;
    return el;
  }

  private onClick(event: Event): void {
    const target = (event.target as Element | null)?.closest<HTMLElement>('[data-action]');
    if (!target) return;
    const { action, leaseId, taskId } = target.dataset;
    if (action === 'sign-out') this.actions.signOut();
    else if (action === 'cancel-lease' && leaseId) {
      if (this.armed?.leaseId === leaseId && this.armed.until > Date.now()) {
        this.armed = undefined;
        void this.run(() => this.actions.cancelLease(leaseId));
      } else {
        this.armed = { leaseId, until: Date.now() + CONFIRM_WINDOW_MS };
        setTimeout(() => this.requestRender(), CONFIRM_WINDOW_MS + 50);
        this.requestRender();
      }
    } else if (action === 'unblock' && taskId) void this.run(() => this.actions.unblockTask(taskId));
  }

  /**
   * Cancelling asks for a second click instead of window.confirm(), which VS Code webviews do not
   * show. The armed state lives here, so it survives the re-renders in between.
   */
  private cancelButton(leaseId: string, label: string, now: number): HTMLElement {
    const armed = this.armed?.leaseId === leaseId && this.armed.until > now;
    return h(
      'button',
      { type: 'button', class: armed ? 'danger armed' : 'danger', title: 'The task goes back to ready and counts an attempt.', data: { action: 'cancel-lease', leaseId } },
      armed ? 'Click again to cancel' : label,
    );
  }

  private armed: { leaseId: string; until: number } | undefined;

  private async run(action: () => Promise<string>): Promise<void> {
    try {
      this.say(await action());
    } catch (error) {
      this.say((error as Error).message, 'error');
    }
    this.requestRender();
  }
}

// ---- small building blocks ----------------------------------------------------------------------

function section(title: string, body: HTMLElement, hint?: string): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), hint ? h('p', { class: 'muted small' }, hint) : null, body);
}

function gauge(label: string, used: number, max: number, detail: string, kind: string): HTMLElement {
  const ratio = max <= 0 ? 1 : Math.min(1, used / max);
  const full = used >= max;
  return h(
    'div',
    { class: `gauge ${full ? 'full' : ''}`, title: detail, data: { gauge: kind } },
    h('div', { class: 'gauge-label' }, h('span', { data: { role: 'gauge-text' } }, label)),
    h('div', { class: 'gauge-track', role: 'meter', aria: { valuenow: String(used), valuemin: '0', valuemax: String(max), label } }, h('div', { class: 'gauge-fill', style: { width: `${Math.round(ratio * 100)}%` } })),
  );
}

function meter(used: number, capacity: number): HTMLElement {
  const ratio = capacity <= 0 ? 0 : Math.min(1, used / capacity);
  return h('div', { class: 'gauge-track small-track', role: 'meter', aria: { valuenow: String(used), valuemin: '0', valuemax: String(capacity), label: 'capacity used' } }, h('div', { class: 'gauge-fill', style: { width: `${Math.round(ratio * 100)}%` } }));
}

function chips(values: readonly string[]): HTMLElement {
  return h('span', { class: 'chips' }, ...values.map((v) => h('span', { class: 'chip' }, v)));
}

function table(headers: Array<string | null>, rows: HTMLElement[]): HTMLElement {
  return h('table', {}, h('thead', {}, h('tr', {}, ...headers.filter((x): x is string => x !== null).map((x) => h('th', {}, x)))), h('tbody', {}, ...rows));
}

function workerName(model: DashboardModel, workerId: string): string {
  const login = model.workers.get(workerId)?.github_login;
  return login ? `${login} (${workerId})` : workerId;
}

function nodes(children: Child[]): Node[] {
  return children.filter((c): c is Node => c instanceof Node);
}

