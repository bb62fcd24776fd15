/** Small formatting helpers shared by the views. Pure. */

/** `12s`, `4m 05s`, `2h 10m`; negative durations read as `0s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (minutes < 60) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** A countdown to a deadline with tenths under ten seconds, so it visibly moves. */
export function formatCountdown(deadline: number, now: number): string {
  const left = deadline - now;
  if (left <= 0) return 'expiring…';
  if (left < 10_000) return `${(left / 1000).toFixed(1)}s`;
  return formatDuration(left);
}

export function formatAge(since: number | undefined, now: number): string {
  if (since === undefined) return '—';
  return `${formatDuration(now - since)} ago`;
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value * 100)}%`;
}

export function formatClock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export const STATE_LABELS = {
  ready: 'Ready',
  offered: 'Offered',
  leased: 'Leased',
  in_progress: 'In progress',
  pr_opened: 'PR opened',
  merged: 'Merged',
  closed: 'Closed',
  blocked: 'Blocked',
} as const;
