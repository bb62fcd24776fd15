/**
 * The dashboard page: named panels (panels/*.ts) placed in their order. Each panel owns its DOM
 * and draws its part from the model; the view only places them, shows or hides each for the
 * context, redraws what shows (at most a few times a second, batched by main.ts), and moves
 * countdowns in place in between.
 */
import { h } from './dom.ts';
import { formatAge, formatCountdown } from './format.ts';
import { formatHeartbeat, formatLeaseDeadline, heartbeatHealth } from '../../protocol/vocabulary.ts';
import type { DashboardModel } from './model.ts';
import { ActionsPanel } from './panels/actions.ts';
import { FeedPanel } from './panels/feed.ts';
import { HeaderPanel, LockedPanel, NoticePanel } from './panels/header.ts';
import { LeaderboardPanel } from './panels/leaderboard.ts';
import { LeaseCancel } from './panels/lease-cancel.ts';
import { LeasesPanel } from './panels/leases.ts';
import { MetricsPanel } from './panels/metrics.ts';
import type { DashboardActions, Panel, PanelHost, ViewContext } from './panels/panel.ts';
import { PolicyPanel } from './panels/policy.ts';
import { ReposPanel } from './panels/repos.ts';
import { TasksPanel } from './panels/tasks.ts';
import { WorkersPanel } from './panels/workers.ts';

export class DashboardView {
  private readonly panels;
  /** Top to bottom; `row` puts two panels side by side. */
  private readonly layout: readonly Panel[];

  constructor(
    private readonly root: HTMLElement,
    actions: DashboardActions,
    requestRender: () => void,
  ) {
    const host: PanelHost = { actions, requestRender, run: (action) => this.run(action, requestRender) };
    const cancel = new LeaseCancel(host);
    const panels = {
      header: new HeaderPanel(host),
      notice: new NoticePanel(),
      locked: new LockedPanel(),
      repos: new ReposPanel(host),
      policy: new PolicyPanel(host),
      leases: new LeasesPanel(cancel),
      workers: new WorkersPanel(),
      tasks: new TasksPanel(host, cancel),
      metrics: new MetricsPanel(),
      leaderboard: new LeaderboardPanel(),
      actions: new ActionsPanel(host),
      feed: new FeedPanel(host),
    };
    this.panels = panels;
    this.layout = [
      panels.header,
      panels.notice,
      panels.locked,
      panels.repos,
      panels.policy,
      row(panels.leases, panels.workers),
      panels.tasks,
      row(panels.metrics, panels.leaderboard),
      panels.actions,
      panels.feed,
    ];
    // Until the first render knows better, the page is readable and nobody is signed in.
    panels.locked.element.hidden = true;
    root.replaceChildren(...this.layout.map((panel) => panel.element));
  }

  /** Where the metric charts draw (they follow the page's samples, see main.ts). */
  get chartsHost(): HTMLElement {
    return this.panels.metrics.chartsHost;
  }

  say(message: string, tone: 'info' | 'error' = 'info'): void {
    this.panels.notice.say(message, tone);
  }

  render(model: DashboardModel, ctx: ViewContext): void {
    renderAll(this.layout, model, ctx);
    this.tick(ctx.now);
  }

  /** Moves countdowns and ages without rebuilding anything. */
  tick(now: number): void {
    for (const el of Array.from(this.root.querySelectorAll<HTMLElement>('[data-expires-at]'))) {
      const deadline = Number(el.dataset.expiresAt);
      el.textContent = formatCountdown(deadline, now);
      el.classList.toggle('urgent', deadline - now < 5000);
    }
    for (const el of Array.from(this.root.querySelectorAll<HTMLElement>('[data-deadline-at]'))) {
      el.textContent = formatLeaseDeadline(Number(el.dataset.deadlineAt), now);
    }
    for (const el of Array.from(this.root.querySelectorAll<HTMLElement>('[data-heartbeat-expires-at]'))) {
      const expiresAt = Number(el.dataset.heartbeatExpiresAt);
      const timeoutMs = Number(el.dataset.heartbeatTimeoutMs);
      el.textContent = formatHeartbeat(expiresAt, timeoutMs, now);
      el.classList.toggle('urgent', heartbeatHealth(expiresAt, timeoutMs, now) !== 'ok');
    }
    for (const el of Array.from(this.root.querySelectorAll<HTMLElement>('[data-seen-at]'))) {
      el.textContent = formatAge(Number(el.dataset.seenAt), now);
    }
  }

  private async run(action: () => Promise<string>, requestRender: () => void): Promise<void> {
    try {
      this.say(await action());
    } catch (error) {
      this.say((error as Error).message, 'error');
    }
    requestRender();
  }
}

function renderAll(panels: readonly Panel[], model: DashboardModel, ctx: ViewContext): void {
  for (const panel of panels) {
    const shown = panel.shown(ctx);
    panel.element.hidden = !shown;
    if (shown) panel.render(model, ctx);
  }
}

/** Two panels side by side (one column on narrow screens); shown while either is. */
function row(...panels: Panel[]): Panel {
  return {
    element: h('div', { class: 'two-col' }, ...panels.map((panel) => panel.element)),
    shown: (ctx) => panels.some((panel) => panel.shown(ctx)),
    render: (model, ctx) => renderAll(panels, model, ctx),
  };
}
