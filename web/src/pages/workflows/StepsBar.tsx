import type { Workflow } from './dag';

/** How far a workflow is: its finished steps as a bar (succeeded green, failed red, cancelled grey) and a count. */
export function StepsBar({ workflow: w }: { workflow: Pick<Workflow, 'steps_total' | 'unfinished_steps' | 'failed_steps' | 'cancelled_steps'> }) {
  const total = Math.max(1, w.steps_total);
  const done = w.steps_total - w.unfinished_steps;
  const succeeded = Math.max(0, done - w.failed_steps - w.cancelled_steps);
  const pct = (n: number) => `${(n / total) * 100}%`;
  return (
    <div className="flex items-center gap-2" title={`${succeeded} succeeded, ${w.failed_steps} failed, ${w.cancelled_steps} cancelled, ${w.unfinished_steps} to go`}>
      <div className="flex h-1.5 w-28 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800" role="progressbar" aria-label="Steps finished" aria-valuemin={0} aria-valuemax={w.steps_total} aria-valuenow={done}>
        <div className="bg-emerald-500" style={{ width: pct(succeeded) }} />
        <div className="bg-red-500" style={{ width: pct(w.failed_steps) }} />
        <div className="bg-zinc-400" style={{ width: pct(w.cancelled_steps) }} />
      </div>
      <span className="text-xs text-zinc-500 tabular-nums">{done}/{w.steps_total}</span>
    </div>
  );
}
