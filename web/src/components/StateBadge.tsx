import { Badge } from './ui/badge';
import { cn } from '@/lib/utils';

/** The closed set of job states, in lifecycle order. */
export const JOB_STATES = ['pending', 'scheduled', 'queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'] as const;

const styles: Record<string, string> = {
  pending: 'bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700',
  scheduled: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  queued: 'bg-indigo-50 text-indigo-700 ring-indigo-200 dark:bg-indigo-950 dark:text-indigo-300 dark:ring-indigo-800',
  running: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
  retrying: 'bg-orange-50 text-orange-700 ring-orange-200 dark:bg-orange-950 dark:text-orange-300 dark:ring-orange-800',
  succeeded: 'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  failed: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  cancelled: 'bg-zinc-100 text-zinc-500 ring-zinc-300 line-through dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-700',
};

export function StateBadge({ state, className }: { state: string; className?: string }) {
  return (
    <Badge className={cn(styles[state] ?? styles.pending, className)} data-state={state}>
      {state === 'running' && <span className="h-1.5 w-1.5 animate-pulse rounded-full bg-current" aria-hidden />}
      {state}
    </Badge>
  );
}
