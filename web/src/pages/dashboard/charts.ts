import type { EChartsCoreOption } from 'echarts/core';
import type { Schemas } from '@/api/client';

type Series = Schemas['MetricSeriesResponse'];

/** The colour of each metric, the same in every chart. */
export const COLORS: Record<string, string> = {
  enqueued: '#6366f1', started: '#f59e0b', succeeded: '#10b981', failed: '#ef4444', retried: '#f97316', cancelled: '#a1a1aa',
  success_rate: '#10b981', depth: '#6366f1',
};

const LABELS: Record<string, string> = { success_rate: 'success rate', oldest_age_ms: 'oldest age' };

/** The sum of a series' points (counts per step): e.g. jobs failed in the last 24 hours. */
export function total(resp: Series | undefined, metric: string): number | undefined {
  const s = resp?.series.find((x) => x.metric === metric);
  return s ? s.points.reduce((n, p) => n + (p.value ?? 0), 0) : undefined;
}

/**
 * A time chart of the series: lines (or bars), one per series, named by `name` (the metric, or e.g. the queue), on a
 * time axis; `percent` reads values 0..1 as percentages. Points without a value (no sample) are gaps, not zeros.
 */
/** Time axis labels: a day boundary reads as a date ("Dec 4"), not as a bare day number among the hours. */
export const TIME_LABELS = { year: '{yyyy}', month: '{MMM}', day: '{MMM} {d}', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' };

/** A count on an axis, short enough for the grid's fixed margin: 950, 1.5k, 12k, 3.2M. */
export function axisCount(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1000) return String(n);
  // The largest unit that leaves at least 1 once rounded to a tenth (999,999 reads 1M, not 1000k).
  const [div, unit] = abs >= 999_950_000 ? [1e9, 'B'] : abs >= 999_950 ? [1e6, 'M'] : [1e3, 'k'];
  return `${Math.round((n / div) * 10) / 10}${unit}`;
}

/**
 * Whether a line would not show one of its values: a value with no value beside it (the series' only sample, e.g. a
 * queue's depth in its first minute, or one between gaps) has no segment to draw, so its line needs its symbols.
 */
export function hasLonePoint(points: { value: number | null }[]): boolean {
  return points.some((p, i) => p.value != null && points[i - 1]?.value == null && points[i + 1]?.value == null);
}

export function timeChart(
  series: { name: string; color?: string; points: { time: unknown; value: number | null }[] }[],
  opts: { kind?: 'line' | 'bar'; percent?: boolean; stack?: boolean } = {},
): EChartsCoreOption {
  return {
    animation: false,
    // Fixed margins that hold the axes' labels (counts are short: axisCount), not measured: laying the grid out by its
    // labels' sizes (ECharts' default outer bounds, or containLabel) measures every label's text before each draw.
    grid: { left: 40, right: 16, top: 32, bottom: 24, outerBoundsMode: 'none' },
    legend: { top: 0, left: 0, itemWidth: 12, itemHeight: 8, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? (opts.percent ? `${(v * 100).toFixed(1)}%` : v.toLocaleString()) : '—') },
    xAxis: { type: 'time', axisLabel: { fontSize: 10, hideOverlap: true, formatter: TIME_LABELS } },
    yAxis: {
      type: 'value',
      minInterval: opts.percent ? undefined : 1,
      max: opts.percent ? 1 : undefined,
      axisLabel: { fontSize: 10, formatter: opts.percent ? (v: number) => `${Math.round(v * 100)}%` : axisCount },
      splitLine: { lineStyle: { opacity: 0.3 } },
    },
    series: series.map((s) => ({
      name: LABELS[s.name] ?? s.name,
      type: opts.kind ?? 'line',
      stack: opts.stack ? 'total' : undefined,
      showSymbol: opts.kind !== 'bar' && hasLonePoint(s.points),
      symbolSize: 5,
      connectNulls: false,
      smooth: false,
      color: s.color,
      areaStyle: opts.kind === 'bar' ? undefined : { opacity: 0.08 },
      data: s.points.map((p) => [p.time, p.value]),
    })),
  };
}

/** The series of a response, each with its metric's colour. */
export function metricSeries(resp: Series | undefined) {
  return (resp?.series ?? []).map((s) => ({ name: s.metric, color: COLORS[s.metric], points: s.points }));
}
