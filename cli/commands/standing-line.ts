/**
 * One contributor's standing in a repo as one line, for `owp contributor list` and
 * `owp policy explain`: what they hold against their cap, the cap and how it grew, and the
 * maintainers' word (policy.standings).
 */
import type { ContributorCapStanding } from '../../protocol/model.ts';

export function standingLine(r: ContributorCapStanding): string {
  const prs = `${r.open_prs} open PR${r.open_prs === 1 ? '' : 's'}${r.draft_prs > 0 ? ` (${r.draft_prs} draft)` : ''}`;
  const held = `${prs}, ${r.live_leases} lease${r.live_leases === 1 ? '' : 's'}, ${r.open_offers} offer${r.open_offers === 1 ? '' : 's'}, ${r.merged_prs} merged`;
  const cap = r.bypass
    ? 'no cap (contributor_cap bypass list)'
    : r.cap === undefined
      ? 'no cap (no contributor_cap rule)'
      : `holds ${r.in_use} of cap ${r.cap}${r.at_cap ? (r.mode === 'report' ? ' AT CAP (report mode: not enforced)' : ' AT CAP') : ''} (${r.cap_rule}: ${r.cap_reason ?? ''})`;
  const word = r.status ? `; ${r.status.toUpperCase()}${r.status_by ? ` by ${r.status_by}` : ''}${r.status_reason ? `: ${r.status_reason}` : ''}` : '';
  return `@${r.login}  ${cap}; ${held}${word}`;
}
