import { cn } from '@/lib/utils';

/** A job's progress (0–100) with its message; animated while the job runs. */
export function ProgressBar({ percent, message, running }: { percent: number; message?: string | null; running?: boolean }) {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  return (
    <div className="space-y-1">
      <div className="flex justify-between text-xs text-zinc-500">
        <span className="truncate">{message || (running ? 'Running' : 'Progress')}</span>
        <span className="tabular-nums">{p}%</span>
      </div>
      <div role="progressbar" aria-label="Progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={p} className="h-2 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800">
        <div className={cn('h-full rounded-full bg-indigo-500 transition-[width] duration-500', running && 'animate-pulse')} style={{ width: `${p}%` }} />
      </div>
    </div>
  );
}
