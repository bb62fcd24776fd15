/**
 * Metrics over time, sampled on the client from `/v1/metrics` (the coordinator keeps only the
 * current figures). A fixed-size ring: an hour at one sample every five seconds, then the oldest
 * samples drop, so memory stays flat however long the page is open.
 */
import type { Metrics } from '../../protocol/model.ts';

export interface MetricSeries {
  /** Sample times in seconds (uPlot's x unit). */
  times: number[];
  utilization: Array<number | null>;
  leadTimeMinutes: Array<number | null>;
  requeueRate: Array<number | null>;
  prAcceptanceRate: Array<number | null>;
}

export const DEFAULT_HISTORY_SAMPLES = 720;

export class MetricsHistory {
  private readonly series: MetricSeries = { times: [], utilization: [], leadTimeMinutes: [], requeueRate: [], prAcceptanceRate: [] };

  constructor(private readonly capacity: number = DEFAULT_HISTORY_SAMPLES) {}

  add(at: number, m: Metrics): void {
    const s = this.series;
    const seconds = at / 1000;
    // Two samples in the same second (a manual refresh) replace rather than stack.
    if (s.times.length > 0 && Math.floor(s.times.at(-1) as number) === Math.floor(seconds)) this.dropLast();
    s.times.push(seconds);
    s.utilization.push(m.utilization);
    s.leadTimeMinutes.push(m.lead_time_ms_median === null ? null : m.lead_time_ms_median / 60_000);
    s.requeueRate.push(m.requeue_rate);
    s.prAcceptanceRate.push(m.pr_acceptance_rate);
    while (s.times.length > this.capacity) this.dropFirst();
  }

  get length(): number {
    return this.series.times.length;
  }

  view(): Readonly<MetricSeries> {
    return this.series;
  }

  private dropFirst(): void {
    for (const list of Object.values(this.series) as unknown[][]) list.shift();
  }

  private dropLast(): void {
    for (const list of Object.values(this.series) as unknown[][]) list.pop();
  }
}
