/**
 * The state the repo policy keeps, per repo: the adaptive review budget's course over time
 * (budget.adapted), what each contributor holds against their cap, the maintainers' vouch and
 * denounce list, and the refusals rules in report mode would have made (policy.dry_run_hit).
 */
import { h, type Child } from '../dom.ts';
import type { BudgetMove, DashboardModel } from '../model.ts';
import { nodes, section, table } from './parts.ts';
import { whenReadable, type Panel, type ViewContext } from './panel.ts';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const HEIGHT = 90;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: SVGElement[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/**
 * The effective max_open_prs as a step line from the first move to now, with the floor and ceiling
 * as dashed lines. Numbers only reach the drawing, so no outside text is ever parsed.
 */
export function budgetChart(moves: readonly BudgetMove[], bounds: { floor: number; ceiling: number } | undefined, current: number, now: number): SVGSVGElement {
  const first = moves[0];
  const start = first ? first.at : now;
  const span = Math.max(1, now - start);
  const top = Math.max(current, bounds?.ceiling ?? 0, ...moves.map((m) => Math.max(m.from, m.to)), 1);
  const x = (at: number): number => Math.round(((at - start) / span) * (WIDTH - 4)) + 2;
  const y = (v: number): number => Math.round(HEIGHT - 4 - (v / top) * (HEIGHT - 8));
  let value = first ? first.from : current;
  let points = `${x(start)},${y(value)}`;
  for (const m of moves) {
    points += ` ${x(m.at)},${y(value)} ${x(m.at)},${y(m.to)}`;
    value = m.to;
  }
  points += ` ${x(now)},${y(value)}`;
  const guides = bounds ? [bounds.floor, bounds.ceiling].map((v) => svg('line', { x1: 0, x2: WIDTH, y1: y(v), y2: y(v), class: 'budget-bound' })) : [];
  return svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, class: 'budget-chart', role: 'img', 'aria-label': `max_open_prs over time: now ${current}${bounds ? `, between ${bounds.floor} and ${bounds.ceiling}` : ''}` },
    ...guides,
    svg('polyline', { points, class: 'budget-line', fill: 'none' }),
  );
}

export class PolicyPanel implements Panel {
  private readonly body = h('div', { id: 'policy' });
  readonly element = section('Policy', this.body, 'Per repo: the adaptive review budget over time, contributors against their caps (from what this page saw), open PRs that stray beyond their task\'s area, the vouch and denounce list, and what rules in report mode would have refused.');
  readonly shown = whenReadable;

  render(model: DashboardModel, ctx: ViewContext): void {
    const cards: Child[] = [];
    for (const repo of [...model.repos.values()].sort((a, b) => a.settings.repo.localeCompare(b.settings.repo))) {
      const name = repo.settings.repo;
      const adaptive = repo.settings.policy?.budget?.adaptive;
      const moves = model.budgetHistory.get(name) ?? [];
      const caps = model.contributorCaps(name);
      const standings = [...(model.standings.get(name) ?? new Map()).entries()].sort(([a], [b]) => a.localeCompare(b));
      const hits = [...(model.dryRunHits.get(name) ?? new Map<string, number>()).entries()].sort(([a], [b]) => a.localeCompare(b));
      // Open PRs that stray beyond their task's area (policy rule pr_lane, x_github.lane).
      const strays = [...model.tasks.values()].filter((t) => t.repo === name && t.state === 'pr_opened').flatMap((t) => {
        const lane = (t.pr as { x_github?: { lane?: { verdict?: string; stray?: string[]; unmatched?: string[] } } } | undefined)?.x_github?.lane;
        return lane && (lane.verdict === 'flagged' || lane.verdict === 'allowed') ? [{ task: t, lane }] : [];
      });
      if (!adaptive && moves.length === 0 && !repo.settings.policy?.contributor_cap && standings.length === 0 && hits.length === 0 && strays.length === 0) continue;
      cards.push(h(
        'article',
        // Its own attribute: `article[data-repo]` names the repo's budget card.
        { class: 'policy-card', data: { policyRepo: name } },
        h('header', {}, h('h3', {}, name)),
        adaptive || moves.length > 0
          ? h(
            'div',
            { data: { role: 'adaptive-budget' } },
            h('p', { class: 'small' }, `max_open_prs ${repo.settings.max_open_prs}${adaptive ? ` (adaptive, ${adaptive.floor}–${adaptive.ceiling}, target review ${adaptive.target_review_hours} h)` : ''}`),
            budgetChart(moves, adaptive, repo.settings.max_open_prs, ctx.now),
            moves.length > 0 ? h('p', { class: 'muted small', data: { role: 'last-move' } }, `last: ${moves.at(-1)?.from} → ${moves.at(-1)?.to}, ${moves.at(-1)?.reason}`) : h('p', { class: 'muted small' }, 'No move yet: it moves with each merged or closed PR.'),
          )
          : null,
        caps.length > 0
          ? table(['Contributor', 'Holds', 'Cap', 'Open PRs', 'Leases', 'Offers', 'Merged'], caps.map((r) => h(
            'tr',
            { class: r.cap !== undefined && r.in_use >= r.cap && !r.bypass ? 'at-cap' : '', data: { login: r.login } },
            h('td', {}, `@${r.login}`),
            h('td', {}, String(r.in_use)),
            h('td', {}, r.bypass ? 'bypass' : r.cap === undefined ? '—' : String(r.cap)),
            h('td', {}, r.draft_prs > 0 ? `${r.open_prs} (${r.draft_prs} draft)` : String(r.open_prs)),
            h('td', {}, String(r.live_leases)),
            h('td', {}, String(r.open_offers)),
            h('td', {}, String(r.merged_prs)),
          )))
          : null,
        standings.length > 0
          ? h('ul', { class: 'standings', data: { role: 'standings' } }, ...standings.map(([login, s]) => h('li', { class: s.status, data: { login, status: s.status } }, `@${login} ${s.status}${s.reason ? `: ${s.reason}` : ''}`)))
          : null,
        strays.length > 0
          ? h('ul', { class: 'lane-strays', data: { role: 'pr-lane' } }, ...strays.map(({ task, lane }) => h(
            'li',
            { class: lane.verdict ?? '', data: { taskId: task.id } },
            `${task.id} (area ${task.area ?? 'none'}): its PR strays into ${[...(lane.stray ?? []), ...((lane.unmatched ?? []).length > 0 ? [`${(lane.unmatched ?? []).length} unowned path(s)`] : [])].join(', ')}${lane.verdict === 'flagged' ? ' — flagged' : ''}`,
          )))
          : null,
        hits.length > 0
          ? h('p', { class: 'small', data: { role: 'dry-run-hits' } }, 'Report mode, would have refused: ', ...hits.map(([rule, n], i) => h('span', { data: { rule } }, `${i > 0 ? ' · ' : ''}${rule} ${n}×`)))
          : null,
      ));
    }
    this.body.replaceChildren(...nodes(cards.length > 0 ? cards : [h('p', { class: 'muted' }, 'No repo has policy state to show yet.')]));
  }
}
