import { Link, useParams } from 'react-router';
import { Ban, RotateCcw } from 'lucide-react';
import { useCan, useWorkflow } from '@/api/queries';
import { BackLink, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { JOB_STATES, StateBadge } from '@/components/StateBadge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/dialog';
import { DataTable } from '@/components/ui/table';
import { formatDuration, formatTime, relativeTime } from '@/lib/utils';
import { countStates } from './dag';
import { StepsBar } from './StepsBar';
import { useWorkflowActions } from './useWorkflowActions';
import { WorkflowGraph } from './WorkflowGraph';

/** One workflow: its DAG with live step states (a node opens its job), the steps as a table, cancel and retry. */
export function WorkflowDetailPage() {
  const { id = '' } = useParams();
  const workflow = useWorkflow(id);
  const canWrite = useCan('schedules.write');
  const actions = useWorkflowActions();
  const w = workflow.data;

  if (workflow.isPending) return <Skeleton className="h-96 w-full" />;
  if (!w) return <ErrorNote error={workflow.error ?? 'No such workflow.'} />;
  const steps = w.steps ?? [];
  const counts = countStates(steps);
  const failed = (counts.failed ?? 0) + (counts.cancelled ?? 0) > 0;

  return (
    <>
      <BackLink to="/workflows">Workflows</BackLink>
      <PageHeader
        title={<span className="flex flex-wrap items-center gap-3">{w.name}<StateBadge state={w.state} /></span>}
        actions={canWrite && (
          <>
            {w.state === 'running' && !w.cancel_requested && (
              <ConfirmDialog
                trigger={<Button variant="outline" size="sm" disabled={actions.busy}><Ban className="h-4 w-4" /> Cancel</Button>}
                title={`Cancel ${w.name}?`}
                description="Its steps that have not finished are cancelled (running ones at their next heartbeat); finished steps keep their results."
                confirmLabel="Cancel workflow"
                destructive
                onConfirm={() => actions.cancel.mutate(w.id)}
              />
            )}
            {w.state !== 'running' && failed && (
              <ConfirmDialog
                trigger={<Button size="sm" disabled={actions.busy}><RotateCcw className="h-4 w-4" /> Retry</Button>}
                title={`Retry ${w.name} from its failed steps?`}
                description="Failed and cancelled steps run again, and what waited on them; steps that succeeded are not run again."
                confirmLabel="Retry"
                onConfirm={() => actions.retry.mutate(w.id)}
              />
            )}
          </>
        )}
      >
        <span className="font-mono text-xs">{w.id}</span> · started {relativeTime(w.created_at)}
        {w.duration_ms != null && <> · took {formatDuration(w.duration_ms)}</>}
        {w.cancel_requested && w.state === 'running' && <> · cancelling</>}
        {w.schedule_id && <> · from a schedule</>}
      </PageHeader>
      <div className="mb-3 flex flex-wrap items-center gap-x-4 gap-y-2">
        <StepsBar workflow={w} />
        <ul className="flex flex-wrap gap-2" aria-label="Steps per state">
          {JOB_STATES.filter((s) => counts[s]).map((s) => (
            <li key={s} className="flex items-center gap-1 text-xs" data-count={s}><StateBadge state={s} /><span className="tabular-nums">{counts[s]}</span></li>
          ))}
        </ul>
      </div>
      <WorkflowGraph steps={steps} />
      <h2 className="mt-6 mb-2 text-sm font-semibold">Steps</h2>
      <DataTable columns={['Step', 'Job', 'State', 'Waits for', { label: 'Attempt', numeric: true }, 'Finished']}>
        {steps.map((s) => (
          <tr key={s.id} data-step-row={s.id}>
            <td className="px-4 py-2 font-medium">{s.id}{s.continue_on_failure && <span className="ml-2 text-xs font-normal text-zinc-500">may fail</span>}</td>
            <td className="px-4 py-2">
              <Link to={`/jobs/${s.job_id}`} className="hover:underline" aria-label={`Open the job of step ${s.id}`}>{s.type ?? s.job_id}</Link>
              {s.queue && <span className="text-xs text-zinc-500"> on {s.queue}</span>}
              {s.last_error && <div className="max-w-md truncate text-xs text-red-600 dark:text-red-400" title={s.last_error.message}>{s.last_error.message}</div>}
            </td>
            <td className="px-4 py-2"><StateBadge state={s.state} /></td>
            <td className="px-4 py-2 text-xs text-zinc-500">{s.depends_on.length ? s.depends_on.join(', ') : '—'}</td>
            <td className="px-4 py-2 text-right tabular-nums">{s.attempt != null ? `${s.attempt}${s.max_attempts ? `/${s.max_attempts}` : ''}` : '—'}</td>
            <td className="px-4 py-2 whitespace-nowrap" title={formatTime(s.finished_at)}>{s.finished_at ? relativeTime(s.finished_at) : '—'}</td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}
