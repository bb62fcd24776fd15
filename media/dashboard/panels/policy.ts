/**
 * The state the repo policy keeps, per repo: the adaptive review budget's course over time
 * (budget.adapted), what each contributor holds against their cap, the maintainers' vouch and
 * denounce list, and the refusals rules in report mode would have made (policy.dry_run_hit).
 */
import { h, type Child } from '../dom.ts';
import type { ContributorCapStanding } from '../../../protocol/model.ts';
import type { BudgetMove, DashboardModel } from '../model.ts';
import { nodes, section, table } from './parts.ts';
import { whenReadable, type Panel, type PanelHost, type ViewContext } from './panel.ts';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const HEIGHT = 90;
/** Room at the right for the floor and ceiling labels (the current value heads the chart). */
const LABEL_WIDTH = 64;

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
/** A number label on the chart: set as text content, so nothing in it is parsed. */
function label(x: number, y: number, text: string): SVGTextElement {
  const el = svg('text', { x, y, class: 'budget-label' });
  el.textContent = text;
  return el;
}

export function budgetChart(moves: readonly BudgetMove[], bounds: { floor: number; ceiling: number } | undefined, current: number, now: number): SVGSVGElement {
  const first = moves[0];
  const start = first ? first.at : now;
  const span = Math.max(1, now - start);
  const top = Math.max(current, bounds?.ceiling ?? 0, ...moves.map((m) => Math.max(m.from, m.to)), 1);
  const x = (at: number): number => Math.round(((at - start) / span) * (WIDTH - LABEL_WIDTH - 4)) + 2;
  const y = (v: number): number => Math.round(HEIGHT - 4 - (v / top) * (HEIGHT - 8));
  let value = first ? first.from : current;
  let points = `${x(start)},${y(value)}`;
  for (const m of moves) {
    points += ` ${x(m.at)},${y(value)} ${x(m.at)},${y(m.to)}`;
    value = m.to;
  }
  points += ` ${x(now)},${y(value)}`;
  const guides = bounds
    ? [['floor', bounds.floor], ['ceiling', bounds.ceiling]].flatMap(([name, v]) => [
      svg('line', { x1: 0, x2: WIDTH - LABEL_WIDTH, y1: y(v as number), y2: y(v as number), class: 'budget-bound' }),
      label(WIDTH - LABEL_WIDTH + 4, Math.min(HEIGHT - 1, Math.max(10, y(v as number) + 3)), `${name} ${v}`),
    ])
    : [];
  return svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, class: 'budget-chart', role: 'img', 'aria-label': `max_open_prs over time: now ${current}${bounds ? `, between ${bounds.floor} and ${bounds.ceiling}` : ''}` },
    ...guides,
    svg('polyline', { points, class: 'budget-line', fill: 'none' }),
  );
}

/** GitHub's login syntax: checked before anything is sent (the coordinator checks it again). */
const LOGIN = /^@?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))$/;

interface StandingForm {
  form: HTMLFormElement;
  login: HTMLInputElement;
  reason: HTMLInputElement;
}

export class PolicyPanel implements Panel {
  private readonly body = h('div', { id: 'policy' });
  readonly element = section('Policy', this.body, 'Per repo: the adaptive review budget over time, each contributor against their cap (as the coordinator counts them), open PRs that stray beyond their task\'s area, the vouch and denounce list, and what rules in report mode would have refused.');
  readonly shown = whenReadable;
  /** One vouch form per repo, kept across renders so a half-typed login survives live updates. */
  private readonly forms = new Map<string, StandingForm>();

  constructor(private readonly host: PanelHost) {}

  render(model: DashboardModel, ctx: ViewContext): void {
    const cards: Child[] = [];
    for (const repo of [...model.repos.values()].sort((a, b) => a.settings.repo.localeCompare(b.settings.repo))) {
      const name = repo.settings.repo;
      const adaptive = repo.settings.policy?.budget?.adaptive;
      const capRule = repo.settings.policy?.contributor_cap;
      const moves = model.budgetHistory.get(name) ?? [];
      const rows = [...(model.standings.get(name) ?? [])].sort((a, b) => Number(b.at_cap) - Number(a.at_cap) || b.in_use - a.in_use || a.login.localeCompare(b.login));
      const held = rows.filter((r) => r.in_use > 0 || r.open_prs > 0 || r.merged_prs > 0);
      const listed = rows.filter((r) => r.status !== undefined).sort((a, b) => a.login.localeCompare(b.login));
      const hits = [...(model.dryRunHits.get(name) ?? new Map<string, number>()).entries()].sort(([a], [b]) => a.localeCompare(b));
      // Open PRs that stray beyond their task's area (policy rule pr_lane, x_github.lane).
      const strays = [...model.tasks.values()].filter((t) => t.repo === name && t.state === 'pr_opened').flatMap((t) => {
        const lane = (t.pr as { x_github?: { lane?: { verdict?: string; stray?: string[]; unmatched?: string[] } } } | undefined)?.x_github?.lane;
        return lane && (lane.verdict === 'flagged' || lane.verdict === 'allowed') ? [{ task: t, lane }] : [];
      });
      const hasState = adaptive || moves.length > 0 || capRule || rows.length > 0 || hits.length > 0 || strays.length > 0;
      if (!hasState && !ctx.signedIn) continue;
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
            moves.length > 0 ? h('p', { class: 'muted small', data: { role: 'last-move' } }, `last: ${moves.at(-1)?.from} → ${moves.at(-1)?.to}, ${moves.at(-1)?.reason}`) : h('p', { class: 'muted small' }, 'No move in the journal this page replayed (its last 2000 events) or since: it moves with each merged or closed PR.'),
          )
          : null,
        held.length > 0
          ? h('div', { data: { role: 'contributor-caps' } }, h('h4', {}, capRule ? `Contributors against their cap (contributor_cap${capRule.count_drafts === false ? ', drafts not counted' : ''}${ruleModeOf(rows) === 'report' ? ', report mode' : ''})` : 'Contributors (no contributor_cap rule)'), table(['Contributor', 'Holds', 'Cap', 'Open PRs', 'Leases', 'Offers', 'Merged', 'How the cap grew'], held.map((r) => capRow(r))))
          : null,
        h(
          'div',
          { data: { role: 'standings' } },
          h('h4', {}, 'Vouched and denounced'),
          listed.length > 0
            ? h('ul', { class: 'standings' }, ...listed.map((r) => h('li', { class: r.status ?? '', data: { login: r.login, status: r.status ?? '' } }, `@${r.login} ${r.status ?? ''}${r.status_by ? ` by ${r.status_by}` : ''}${r.status_reason ? `: ${r.status_reason}` : ''}`)))
            : h('p', { class: 'muted small' }, ctx.signedIn ? 'Nobody yet.' : 'Sign in to see the list.'),
          ctx.signedIn ? this.standingForm(name) : null,
        ),
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

  /** Vouch or denounce a login here; the reply goes to the notice line, the list follows the journal. */
  private standingForm(repo: string): HTMLElement {
    let f = this.forms.get(repo);
    if (!f) {
      const login = h('input', { name: 'login', required: true, placeholder: '@login', autocomplete: 'off', aria: { label: `GitHub login to vouch for or denounce in ${repo}` } });
      const reason = h('input', { name: 'reason', placeholder: 'reason (needed to denounce)', autocomplete: 'off', aria: { label: 'Reason' } });
      const form = h(
        'form',
        { class: 'standing-form', data: { role: 'standing-form' } },
        login,
        reason,
        h('button', { type: 'submit', value: 'vouch', data: { action: 'vouch' } }, 'Vouch'),
        h('button', { type: 'submit', value: 'denounce', class: 'danger', data: { action: 'denounce' } }, 'Denounce'),
      );
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const action = (event as SubmitEvent).submitter?.dataset.action === 'denounce' ? 'denounce' : 'vouch';
        const m = LOGIN.exec(login.value.trim());
        if (!m?.[1]) {
          void this.host.run(() => Promise.reject(new Error('That is not a GitHub login (letters, digits and single hyphens, at most 39).')));
          return;
        }
        const text = reason.value.trim();
        if (action === 'denounce' && !text) {
          void this.host.run(() => Promise.reject(new Error('A denouncement needs a reason: the list is shared, so say why.')));
          return;
        }
        const who = m[1];
        void this.host.run(async () => {
          const message = await this.host.actions.setStanding(repo, who, action, text || undefined);
          login.value = '';
          reason.value = '';
          return message;
        });
      });
      f = { form, login, reason };
      this.forms.set(repo, f);
    }
    return f.form;
  }
}

function ruleModeOf(rows: readonly ContributorCapStanding[]): string | undefined {
  return rows.find((r) => r.mode !== undefined)?.mode;
}

function capRow(r: ContributorCapStanding): HTMLElement {
  return h(
    'tr',
    { class: r.at_cap ? 'at-cap' : '', data: { login: r.login, atCap: String(r.at_cap) } },
    h('td', {}, `@${r.login}`, r.status ? ' ' : null, r.status ? h('span', { class: `chip ${r.status}` }, r.status) : null),
    h('td', { data: { role: 'in-use' } }, String(r.in_use)),
    h('td', { data: { role: 'cap' } }, r.bypass ? 'bypass' : r.cap === undefined ? '—' : String(r.cap)),
    h('td', {}, r.draft_prs > 0 ? `${r.open_prs} (${r.draft_prs} draft)` : String(r.open_prs)),
    h('td', {}, String(r.live_leases)),
    h('td', {}, String(r.open_offers)),
    h('td', {}, String(r.merged_prs)),
    h('td', { class: 'muted small' }, r.cap_reason ?? ''),
  );
}
