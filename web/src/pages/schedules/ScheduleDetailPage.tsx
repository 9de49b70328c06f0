import { Link, useNavigate, useParams } from 'react-router';
import { Pause, Pencil, Play, Trash2, Zap } from 'lucide-react';
import { useCan, useSchedule, useScheduleRuns } from '@/api/queries';
import { JsonView } from '@/components/JsonView';
import { ManagedBadge, managedHint, useManaged } from '@/components/ManagedBadge';
import { BackLink, Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { ReasonDialog } from '@/components/ReasonDialog';
import { StateBadge } from '@/components/StateBadge';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/dialog';
import { DataTable } from '@/components/ui/table';
import { formatDuration, formatTime, relativeTime } from '@/lib/utils';
import { timingOf } from './scheduleForm';
import { pausedBadge } from './SchedulesPage';
import { useScheduleActions } from './useScheduleActions';

const policy: Record<string, string> = {
  allow: 'start every run', skip: 'skip while the previous run is unfinished', replace: 'cancel the previous run and start',
};

export function ScheduleDetailPage() {
  const { name = '' } = useParams();
  const schedule = useSchedule(name);
  const runs = useScheduleRuns(name);
  const canWrite = useCan('schedules.write');
  const actions = useScheduleActions();
  const navigate = useNavigate();
  const s = schedule.data;
  const managed = useManaged('Schedule', name);

  if (schedule.isPending) return <Skeleton className="h-40 w-full" />;
  if (!s) return <ErrorNote error={schedule.error ?? 'No such schedule.'} />;

  return (
    <>
      <BackLink to="/schedules">Schedules</BackLink>
      <PageHeader
        title={<span className="flex flex-wrap items-center gap-3">{s.name}{s.paused && <Badge className={pausedBadge} data-paused>paused</Badge>}<ManagedBadge kind="Schedule" name={s.name} managed={managed} /></span>}
        actions={canWrite && (
          <>
            <Button size="sm" onClick={() => actions.trigger.mutate(s.name)} disabled={actions.busy}><Zap className="h-4 w-4" /> Trigger now</Button>
            {s.paused ? (
              <Button variant="outline" size="sm" onClick={() => actions.resume.mutate(s.name)} disabled={actions.busy}><Play className="h-4 w-4" /> Resume</Button>
            ) : (
              <ReasonDialog
                trigger={<Button variant="outline" size="sm" disabled={actions.busy}><Pause className="h-4 w-4" /> Pause</Button>}
                title={`Pause ${s.name}?`}
                description="It fires nothing until resumed; what falls due meanwhile does not run."
                confirmLabel="Pause schedule"
                onConfirm={(reason) => actions.pause.mutate({ name: s.name, reason })}
              />
            )}
            {managed ? (
              <Button variant="outline" size="sm" disabled title={managedHint('Schedule', s.name)}><Pencil className="h-4 w-4" /> Edit</Button>
            ) : (
              <Button variant="outline" size="sm" asChild>
                <Link to={`/schedules/${encodeURIComponent(s.name)}/edit`}><Pencil className="h-4 w-4" /> Edit</Link>
              </Button>
            )}
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={actions.busy || managed} title={managed ? managedHint('Schedule', s.name) : undefined}><Trash2 className="h-4 w-4" /> Delete</Button>}
              title={`Delete ${s.name}?`}
              description="It fires no more. Jobs it already enqueued stay."
              confirmLabel="Delete schedule"
              destructive
              onConfirm={() => actions.remove.mutate(s.name, { onSuccess: () => navigate('/schedules', { replace: true }) })}
            />
          </>
        )}
      >
        {s.description} ({s.timezone}){s.paused && s.pause_reason ? ` · paused: ${s.pause_reason}` : ''}
      </PageHeader>
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="min-w-0 space-y-4">
          <Card>
            <CardHeader><CardTitle>Timing</CardTitle></CardHeader>
            <CardContent>
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                <dt className="text-zinc-500">Fires</dt><dd className="font-mono text-xs">{timingOf(s)}</dd>
                <dt className="text-zinc-500">Time zone</dt><dd>{s.timezone}</dd>
                <dt className="text-zinc-500">Next run</dt>
                <dd data-testid="next-fire">{s.paused ? 'paused' : <>{formatTime(s.next_fire_at)} <span className="text-zinc-500">({relativeTime(s.next_fire_at)})</span></>}</dd>
                <dt className="text-zinc-500">Last run</dt><dd>{formatTime(s.last_fire_at)}</dd>
                <dt className="text-zinc-500">Overlap</dt><dd>{s.overlap}: {policy[s.overlap] ?? ''}</dd>
                <dt className="text-zinc-500">Catch-up</dt><dd>{s.catch_up}{s.catch_up === 'all' ? ` (up to ${s.catch_up_limit})` : ''}</dd>
                {s.jitter_ms > 0 && <><dt className="text-zinc-500">Jitter</dt><dd>up to {formatDuration(s.jitter_ms)}</dd></>}
                {!!s.start_at && <><dt className="text-zinc-500">Starts</dt><dd>{formatTime(s.start_at)}</dd></>}
                {!!s.end_at && <><dt className="text-zinc-500">Ends</dt><dd>{formatTime(s.end_at)}</dd></>}
              </dl>
            </CardContent>
          </Card>
          {s.job ? (
            <Card>
              <CardHeader><CardTitle>Job</CardTitle></CardHeader>
              <CardContent className="space-y-3">
                <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                  <dt className="text-zinc-500">Type</dt><dd>{s.job.type}</dd>
                  <dt className="text-zinc-500">Queue</dt><dd><Link className="hover:underline" to={`/queues/${encodeURIComponent(s.job.queue)}`}>{s.job.queue}</Link></dd>
                  {s.job.priority !== 0 && <><dt className="text-zinc-500">Priority</dt><dd>{s.job.priority}</dd></>}
                  {s.job.max_attempts != null && <><dt className="text-zinc-500">Max attempts</dt><dd>{s.job.max_attempts}</dd></>}
                  {s.job.timeout_ms != null && <><dt className="text-zinc-500">Timeout</dt><dd>{formatDuration(s.job.timeout_ms)}</dd></>}
                  {s.job.tags.length > 0 && <><dt className="text-zinc-500">Tags</dt><dd>{s.job.tags.join(', ')}</dd></>}
                </dl>
                <JsonView label="Payload" value={s.job.payload} />
              </CardContent>
            </Card>
          ) : (
            <Card data-testid="schedule-workflow">
              <CardHeader><CardTitle>Workflow</CardTitle></CardHeader>
              <CardContent>
                <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                  <dt className="text-zinc-500">Template</dt>
                  <dd><Link className="hover:underline" to={`/workflows?name=${encodeURIComponent(s.workflow ?? '')}`}>{s.workflow}</Link></dd>
                  {s.last_workflow_id && <><dt className="text-zinc-500">Latest</dt><dd><Link className="font-mono text-xs hover:underline" to={`/workflows/${s.last_workflow_id}`}>{s.last_workflow_id.slice(0, 13)}…</Link></dd></>}
                </dl>
                <p className="mt-2 text-xs text-zinc-500">Each run makes a workflow instance from the template as it is at that moment.</p>
              </CardContent>
            </Card>
          )}
        </div>
        <div className="min-w-0 space-y-2 lg:col-span-2">
          <h2 className="text-sm font-semibold">Run history</h2>
          <ErrorNote error={runs.error} />
          <DataTable
            columns={['Fire time', 'Trigger', 'Outcome', { label: 'Duration', numeric: true }, s.workflow ? 'Workflow' : 'Job']}
            empty={runs.data?.items.length === 0 && <Empty>No runs yet{s.paused ? '' : `: the first is due ${relativeTime(s.next_fire_at)}`}.</Empty>}
          >
            {runs.isPending && <tr><td colSpan={5} className="px-4 py-3"><Skeleton /></td></tr>}
            {runs.data?.items.map((r) => (
              <tr key={r.id} data-run={r.id} data-trigger={r.trigger}>
                <td className="px-4 py-2 whitespace-nowrap" title={relativeTime(r.fire_time)}>{formatTime(r.fire_time)}</td>
                <td className="px-4 py-2">{r.trigger}</td>
                <td className="px-4 py-2">
                  {r.skipped ? <span className="text-zinc-500">skipped (previous run unfinished, or no template)</span> : r.state ? <StateBadge state={r.state} /> : '—'}
                </td>
                <td className="px-4 py-2 text-right tabular-nums">{r.duration_ms != null ? formatDuration(r.duration_ms) : '—'}</td>
                <td className="px-4 py-2">
                  {r.job_id ? <Link to={`/jobs/${r.job_id}`} className="font-mono text-xs hover:underline" aria-label={`Open job ${r.job_id}`}>{r.job_id.slice(0, 13)}…</Link>
                    : r.workflow_id ? <Link to={`/workflows/${r.workflow_id}`} className="font-mono text-xs hover:underline" aria-label={`Open workflow ${r.workflow_id}`}>{r.workflow_id.slice(0, 13)}…</Link>
                    : '—'}
                </td>
              </tr>
            ))}
          </DataTable>
        </div>
      </div>
    </>
  );
}
