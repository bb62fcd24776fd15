/** The opt-in leaderboard: only volunteers whose profile says `x_leaderboard: true`. */
import { h } from '../dom.ts';
import type { DashboardModel } from '../model.ts';
import { section, table } from './parts.ts';
import { whenReadable, type Panel, type ViewContext } from './panel.ts';

export class LeaderboardPanel implements Panel {
  private readonly body = h('div', { id: 'leaderboard' });
  readonly element = section('Leaderboard', this.body, 'Only volunteers who opted in (x_leaderboard: true in their profile) are listed. Counts cover the recent journal and everything since this page opened.');
  readonly shown = whenReadable;

  render(model: DashboardModel, ctx: ViewContext): void {
    if (!ctx.signedIn) {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'Sign in to see the leaderboard.'));
      return;
    }
    const rows = model.leaderboard();
    if (rows.length === 0) {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'Nobody has opted in yet.'));
      return;
    }
    this.body.replaceChildren(
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
}
