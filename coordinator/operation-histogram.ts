/**
 * The histogram of every answered request's duration, by operation and outcome, as prom-client's
 * Histogram exposes it (the same series, labels and text), observed for a fraction of its cost.
 * prom-client's `observe` checks the label names, then hashes the labels into a key (sorting
 * them) and walks the buckets, on every call, bound child or not: about 3 µs a request, 2 % of the
 * coordinator's CPU in the cycle phase (bench/README.md, "What a transition costs over sockets").
 * Here a request finds its series by two map look-ups (operation, then outcome) and its bucket by
 * a binary search; the labels are built once per series. The registry reads it as one of its own
 * metrics (`get` and `getForPromString`, what prom-client's Registry calls).
 */
import type { Metric, Registry } from 'prom-client';

interface Series {
  readonly labels: { operation: string; outcome: string };
  /** Observations per bucket, not cumulative; the last is above every bound (+Inf only). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface Value {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

export class OperationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  private readonly byOperation = new Map<string, Map<string, Series>>();
  /** In the order first observed, as prom-client lists them. */
  private readonly all: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
    registry.registerMetric(this as unknown as Metric);
  }

  observe(operation: string, outcome: string, seconds: number): void {
    if (!Number.isFinite(seconds)) return; // a clock's defect, not a request's duration
    let outcomes = this.byOperation.get(operation);
    if (!outcomes) this.byOperation.set(operation, (outcomes = new Map()));
    let series = outcomes.get(outcome);
    if (!series) {
      series = { labels: { operation, outcome }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      outcomes.set(outcome, series);
      this.all.push(series);
    }
    // The first bound not below the value: a value on a bound counts in that bound's bucket (le).
    let lo = 0;
    let hi = this.bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.bounds[mid] as number) < seconds) lo = mid + 1;
      else hi = mid;
    }
    series.counts[lo] = (series.counts[lo] as number) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  reset(): void {
    this.byOperation.clear();
    this.all.length = 0;
  }

  /** The exposition's values, as prom-client's Histogram gives them: each series' labels shared by its lines. */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: Value[]; aggregator: 'sum' }> {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.all) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i += 1) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: this.bounds[i] as number }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The same values with each line's labels in one object (prom-client's JSON form). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: Value[]; aggregator: 'sum' }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }
}
