import { formatDuration } from '@/lib/utils';
import type { MonitorRun } from './monitorForm';
import { OUTCOME_COLOURS, sparklineBars } from './sparkline';

/** The latest runs as bars, oldest left: colour by outcome, height by duration. */
export function Sparkline({ runs, count = 30, label }: { runs: readonly MonitorRun[] | undefined; count?: number; label: string }) {
  const bars = sparklineBars(runs ?? [], count, formatDuration);
  const w = 4, gap = 2, h = 24;
  if (!runs) return <div className="h-6 w-44 animate-pulse rounded bg-zinc-100 dark:bg-zinc-800" />;
  if (bars.length === 0) return <span className="text-xs text-zinc-400">no runs yet</span>;
  return (
    <svg role="img" aria-label={label} data-sparkline={bars.length} width={count * (w + gap)} height={h} className="block">
      {bars.map((b, i) => {
        const bh = Math.max(2, Math.round(b.height * h));
        return (
          <rect key={b.id} data-outcome={b.outcome} x={i * (w + gap)} y={h - bh} width={w} height={bh} rx={1} className={OUTCOME_COLOURS[b.outcome] ?? 'fill-zinc-400'}>
            <title>{b.title}</title>
          </rect>
        );
      })}
    </svg>
  );
}
