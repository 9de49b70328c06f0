import type { MonitorRun } from './monitorForm';

/** One bar of a sparkline: a run, oldest first; its height is its share of the longest run (a run without duration: full). */
export interface Bar {
  id: number;
  outcome: string;
  height: number;
  title: string;
}

/** The bar colour of each run outcome (success, fail, timeout, running). */
export const OUTCOME_COLOURS: Record<string, string> = {
  success: 'fill-emerald-500',
  fail: 'fill-red-500',
  timeout: 'fill-orange-500',
  running: 'fill-sky-400',
};

/**
 * The last `count` runs (the API lists them newest first) as bars, oldest left. Heights are scaled to the longest
 * duration among them, with a floor so a short run still shows; runs without a duration (a plain success ping, a run
 * still going) are drawn at full height, since only their outcome is known.
 */
export function sparklineBars(runs: readonly MonitorRun[], count = 30, format: (ms: number) => string = (ms) => `${ms} ms`): Bar[] {
  const recent = runs.slice(0, count).reverse();
  const longest = Math.max(0, ...recent.map((r) => r.duration_ms ?? 0));
  return recent.map((r) => {
    const d = r.duration_ms;
    const height = d == null || longest === 0 ? 1 : Math.max(0.2, d / longest);
    const when = typeof r.created_at === 'string' ? new Date(r.created_at).toLocaleString() : '';
    const title = [r.outcome, d != null ? format(d) : null, r.exit_code != null ? `exit ${r.exit_code}` : null, when].filter(Boolean).join(' · ');
    return { id: r.id, outcome: r.outcome, height, title };
  });
}

/** How many of the runs succeeded, of those that finished (null when none did). */
export function successRate(runs: readonly MonitorRun[]): number | null {
  const done = runs.filter((r) => r.outcome !== 'running');
  return done.length ? done.filter((r) => r.outcome === 'success').length / done.length : null;
}
