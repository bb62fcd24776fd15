/**
 * Metrics over time with uPlot (small, fast, canvas-based, no dependencies). One chart per
 * figure; data comes from MetricsHistory. Colours follow the theme's CSS variables.
 */
import uPlot from 'uplot';
import { h } from './dom.ts';
import type { MetricSeries } from './metrics-history.ts';

interface ChartSpec {
  key: Exclude<keyof MetricSeries, 'times'>;
  title: string;
  unit: 'ratio' | 'minutes';
}

const CHARTS: ChartSpec[] = [
  { key: 'utilization', title: 'Utilization', unit: 'ratio' },
  { key: 'leadTimeMinutes', title: 'Lead time, median (min)', unit: 'minutes' },
  { key: 'requeueRate', title: 'Requeue rate', unit: 'ratio' },
  { key: 'prAcceptanceRate', title: 'PR acceptance rate', unit: 'ratio' },
];

export class MetricCharts {
  private readonly charts: Array<{ spec: ChartSpec; plot: uPlot; box: HTMLElement }> = [];
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly host: HTMLElement) {
    const style = getComputedStyle(host);
    const stroke = style.getPropertyValue('--owp-accent').trim() || '#3b82f6';
    const axis = style.getPropertyValue('--owp-muted').trim() || '#888';
    const grid = style.getPropertyValue('--owp-border').trim() || 'rgba(128,128,128,.25)';
    for (const spec of CHARTS) {
      const box = h('figure', { class: 'chart', data: { chart: spec.key } }, h('figcaption', { class: 'small' }, spec.title));
      host.append(box);
      const opts: uPlot.Options = {
        width: this.widthOf(box),
        height: 120,
        legend: { show: false },
        cursor: { show: true, drag: { x: false, y: false } },
        scales: { x: { time: true }, y: spec.unit === 'ratio' ? { range: [0, 1] } : { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
        axes: [
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
          {
            stroke: axis,
            grid: { stroke: grid, width: 1 },
            ticks: { stroke: grid, width: 1 },
            size: 52,
            values: (_u, splits) => splits.map((v) => (spec.unit === 'ratio' ? `${Math.round(v * 100)}%` : String(Math.round(v * 10) / 10))),
          },
        ],
        series: [{}, { stroke, width: 2, fill: `${stroke}22`, spanGaps: true, points: { show: false } }],
      };
      const plot = new uPlot(opts, [[], []], box);
      this.charts.push({ spec, plot, box });
    }
    new ResizeObserver(() => {
      clearTimeout(this.resizeTimer);
      this.resizeTimer = setTimeout(() => this.resize(), 150);
    }).observe(host);
  }

  update(series: Readonly<MetricSeries>): void {
    for (const { spec, plot } of this.charts) plot.setData([series.times, series[spec.key]] as uPlot.AlignedData);
  }

  private resize(): void {
    for (const { plot, box } of this.charts) plot.setSize({ width: this.widthOf(box), height: 120 });
  }

  private widthOf(box: HTMLElement): number {
    return Math.max(200, Math.floor((box.clientWidth || this.host.clientWidth / 2 || 300) - 8));
  }
}
