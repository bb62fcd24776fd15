import { formatSpan } from '../../protocol/vocabulary.ts';

/** Countdowns a person reads at a glance: "28 s", "4 min", "1 h 52 min" (protocol/vocabulary.ts), and "expired" once past. */
export function formatRemaining(ms: number): string {
  return ms <= 0 ? 'expired' : formatSpan(ms);
}
