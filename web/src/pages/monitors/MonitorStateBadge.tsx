import { Badge } from '@/components/ui/badge';
import { cn } from '@/lib/utils';

const styles: Record<string, string> = {
  new: 'bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700',
  up: 'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  late: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
  down: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  paused: 'bg-zinc-100 text-zinc-500 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-700',
};

const reasons: Record<string, string> = {
  late_start: 'its start ping is late',
  max_runtime: 'a run took longer than its max runtime',
  missed: 'no ping within the grace period',
  failed: 'runs failed',
  due: 'a ping is past due',
};

/** A monitor's state (new, up, late, down, paused), with why it is there when that says more than the state. */
export function MonitorStateBadge({ state, reason, className }: { state: string; reason?: string | null; className?: string }) {
  const why = reason ? reasons[reason] : undefined;
  return (
    <Badge className={cn(styles[state] ?? styles.new, className)} data-monitor-state={state} title={why}>
      <span className="h-1.5 w-1.5 rounded-full bg-current" aria-hidden />
      {state === 'late' && reason === 'late_start' ? 'late start' : state}
    </Badge>
  );
}
