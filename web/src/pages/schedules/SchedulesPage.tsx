import { Link } from 'react-router';
import { useQueries } from '@tanstack/react-query';
import { CalendarClock, Pause, Play, Plus, Zap } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useSchedules } from '@/api/queries';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { ReasonDialog } from '@/components/ReasonDialog';
import { StateBadge } from '@/components/StateBadge';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { DataTable } from '@/components/ui/table';
import { formatTime, relativeTime } from '@/lib/utils';
import { timingOf } from './scheduleForm';
import { useScheduleActions } from './useScheduleActions';
import { ManagedBadge, useManagedObjects } from '@/components/ManagedBadge';

export const pausedBadge = 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800';

export function SchedulesPage() {
  const schedules = useSchedules();
  const managed = useManagedObjects().data;
  const canWrite = useCan('schedules.write');
  const actions = useScheduleActions();
  const items = schedules.data?.items ?? [];
  // The last run's job, for its outcome: job caches are patched by the live events, so the outcome changes live.
  const lastJobs = useQueries({
    queries: items.map((s) => ({
      queryKey: keys.job(s.last_job_id ?? ''),
      queryFn: () => unwrap(api.GET('/api/v1/jobs/{id}', { params: { path: { id: s.last_job_id! } } })),
      enabled: !!s.last_job_id,
      retry: false,
    })),
  });

  return (
    <>
      <PageHeader
        title="Schedules"
        actions={canWrite && (
          <Button asChild size="sm">
            <Link to="/schedules/new"><Plus className="h-4 w-4" /> New schedule</Link>
          </Button>
        )}
      >
        Cron expressions and intervals that enqueue jobs.
      </PageHeader>
      <ErrorNote error={schedules.error} />
      <DataTable
        columns={['Name', 'Fires', 'Next run', 'Last run', '']}
        empty={schedules.data && items.length === 0 && (
          <Empty>
            <CalendarClock className="mx-auto mb-2 h-8 w-8 text-zinc-300 dark:text-zinc-700" aria-hidden />
            No schedules yet.{canWrite && <> <Link to="/schedules/new" className="text-indigo-600 hover:underline dark:text-indigo-400">Create the first one</Link>.</>}
          </Empty>
        )}
      >
        {schedules.isPending && [0, 1].map((i) => <tr key={i}><td colSpan={5} className="px-4 py-3"><Skeleton /></td></tr>)}
        {items.map((s, i) => {
          const last = lastJobs[i]?.data;
          return (
            <tr key={s.id} data-schedule={s.name} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
              <td className="px-4 py-2 font-medium">
                <Link to={`/schedules/${encodeURIComponent(s.name)}`} className="hover:underline">{s.name}</Link>
                {s.paused && <Badge className={`ml-2 ${pausedBadge}`} title={s.pause_reason ?? undefined}>paused</Badge>}
                {' '}<ManagedBadge kind="Schedule" name={s.name} managed={managed?.has(`Schedule/${s.name}`) ?? false} />
                <div className="text-xs font-normal text-zinc-500">{s.job ? `${s.job.type} on ${s.job.queue}` : `workflow ${s.workflow ?? ''}`}</div>
              </td>
              <td className="px-4 py-2">
                <span className="font-mono text-xs">{timingOf(s)}</span>
                <div className="text-xs text-zinc-500">{s.description} ({s.timezone})</div>
              </td>
              <td className="px-4 py-2 whitespace-nowrap" title={formatTime(s.next_fire_at)}>
                {s.paused ? <span className="text-zinc-400">—</span> : relativeTime(s.next_fire_at)}
              </td>
              <td className="px-4 py-2 whitespace-nowrap">
                {s.last_job_id ? (
                  <Link to={`/jobs/${s.last_job_id}`} className="inline-flex items-center gap-2 hover:underline" title={formatTime(s.last_fire_at)}>
                    {last ? <StateBadge state={last.state} /> : <Skeleton className="h-4 w-14" />}
                    <span className="text-xs text-zinc-500">{relativeTime(s.last_fire_at)}</span>
                  </Link>
                ) : (
                  <span className="text-zinc-400">never</span>
                )}
              </td>
              <td className="px-4 py-2 text-right whitespace-nowrap">
                {canWrite && (
                  <div className="flex justify-end gap-1">
                    <Button variant="ghost" size="sm" aria-label={`Trigger ${s.name} now`} title="Run now" disabled={actions.busy} onClick={() => actions.trigger.mutate(s.name)}>
                      <Zap className="h-3.5 w-3.5" />
                    </Button>
                    {s.paused ? (
                      <Button variant="ghost" size="sm" aria-label={`Resume ${s.name}`} title="Resume" disabled={actions.busy} onClick={() => actions.resume.mutate(s.name)}>
                        <Play className="h-3.5 w-3.5" />
                      </Button>
                    ) : (
                      <ReasonDialog
                        trigger={<Button variant="ghost" size="sm" aria-label={`Pause ${s.name}`} title="Pause" disabled={actions.busy}><Pause className="h-3.5 w-3.5" /></Button>}
                        title={`Pause ${s.name}?`}
                        description="It fires nothing until resumed; what falls due meanwhile does not run."
                        confirmLabel="Pause schedule"
                        onConfirm={(reason) => actions.pause.mutate({ name: s.name, reason })}
                      />
                    )}
                  </div>
                )}
              </td>
            </tr>
          );
        })}
      </DataTable>
    </>
  );
}
