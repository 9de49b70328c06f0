import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Pause, Play, Plus, Trash2 } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useJobs, useQueue, useSeries } from '@/api/queries';
import { Chart } from '@/components/chart/Chart';
import { metricSeries, timeChart } from '../dashboard/charts';
import { useMemo } from 'react';
import { JobTable } from '@/components/JobTable';
import { BackLink, Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { ReasonDialog } from '@/components/ReasonDialog';
import { JOB_STATES, StateBadge } from '@/components/StateBadge';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/dialog';
import { formatDuration } from '@/lib/utils';
import { toast } from '@/lib/toast';
import { ManagedBadge, managedHint, useManaged } from '@/components/ManagedBadge';
import { LimitsEditor } from './LimitsEditor';

/** The queue's last hour per minute: jobs enqueued, succeeded and failed, and how many waited. */
function QueueChart({ name, throughput }: { name: string; throughput: number }) {
  const series = useSeries('enqueued,succeeded,failed,depth', 'minute', name);
  const option = useMemo(() => timeChart(metricSeries(series.data)), [series.data]);
  return (
    <Card>
      <CardHeader>
        <CardTitle>Last hour</CardTitle>
        <span className="text-xs text-zinc-500"><span className="font-semibold tabular-nums text-zinc-900 dark:text-zinc-100">{throughput}</span> finished in the last minute</span>
      </CardHeader>
      <CardContent>
        <ErrorNote error={series.error} />
        <Chart option={option} loading={series.isPending} label={`Jobs of ${name} per minute`} height={180} />
      </CardContent>
    </Card>
  );
}

/** The states a purge removes: waiting jobs (queued, scheduled, retrying); running and finished ones stay. */
export const PURGED_STATES = ['queued', 'scheduled', 'retrying'] as const;

export function QueueDetailPage() {
  const { name = '' } = useParams();
  const queue = useQueue(name);
  const jobs = useJobs({ queue: name });
  const canManage = useCan('queues.manage');
  const canWrite = useCan('jobs.write');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const q = queue.data;

  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.queues });
    void qc.invalidateQueries({ queryKey: keys.jobs });
  };
  const pause = useMutation({
    mutationFn: (reason: string | null) => unwrap(api.POST('/api/v1/queues/{name}/pause', { params: { path: { name } }, body: { reason } })),
    onSuccess: () => { refresh(); toast.success('Queue paused', name); },
    onError: (e) => toast.error(e),
  });
  const resume = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/queues/{name}/resume', { params: { path: { name } } })),
    onSuccess: () => { refresh(); toast.success('Queue resumed', name); },
    onError: (e) => toast.error(e),
  });
  const purge = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/queues/{name}/purge', { params: { path: { name } } })),
    onSuccess: (r) => { refresh(); toast.success(`Purged ${r.purged.toLocaleString()} job${r.purged === 1 ? '' : 's'}`, name); },
    onError: (e) => toast.error(e),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/queues/{name}', { params: { path: { name } } })),
    onSuccess: () => { refresh(); toast.success('Queue deleted', name); navigate('/queues', { replace: true }); },
    onError: (e) => toast.error(e),
  });

  const managed = useManaged('Queue', name);
  if (queue.isPending) return <Skeleton className="h-40 w-full" />;
  if (!q) return <ErrorNote error={queue.error ?? 'No such queue.'} />;

  const waiting = PURGED_STATES.reduce((n, s) => n + (q.counts[s] ?? 0), 0);
  const busy = pause.isPending || resume.isPending || purge.isPending;

  return (
    <>
      <BackLink to="/queues">Queues</BackLink>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            {q.name}
            {q.paused && <Badge className="bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800" data-paused>paused</Badge>}
            <ManagedBadge kind="Queue" name={q.name} managed={managed} />
          </span>
        }
        actions={
          <>
            {canWrite && (
              <Button variant="outline" size="sm" asChild>
                <Link to={`/jobs/new?queue=${encodeURIComponent(q.name)}`}><Plus className="h-4 w-4" /> New job</Link>
              </Button>
            )}
            {canManage && (q.paused ? (
              <Button variant="outline" size="sm" onClick={() => resume.mutate()} disabled={busy}><Play className="h-4 w-4" /> Resume</Button>
            ) : (
              <ReasonDialog
                trigger={<Button variant="outline" size="sm" disabled={busy}><Pause className="h-4 w-4" /> Pause</Button>}
                title={`Pause ${q.name}?`}
                description="Workers get no new jobs from it until it is resumed; running jobs finish."
                confirmLabel="Pause queue"
                onConfirm={(reason) => pause.mutate(reason)}
              />
            ))}
            {canManage && (
              <ConfirmDialog
                trigger={<Button variant="outline" size="sm" disabled={busy || waiting === 0}><Trash2 className="h-4 w-4" /> Purge</Button>}
                title={`Purge ${q.name}?`}
                description={<>This deletes the <strong data-testid="purge-count">{waiting.toLocaleString()}</strong> waiting job{waiting === 1 ? '' : 's'} (queued, scheduled, retrying) for good. Running and finished jobs stay.</>}
                confirmLabel={`Purge ${waiting.toLocaleString()} job${waiting === 1 ? '' : 's'}`}
                destructive
                onConfirm={() => purge.mutate()}
              />
            )}
          </>
        }
      >
        {q.paused ? <>Paused{q.pause_reason ? <>: <span data-testid="pause-reason">{q.pause_reason}</span></> : ''}. Workers get no jobs from it.</> : 'Active: workers fetch its jobs.'}
      </PageHeader>

      <div className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-8">
        {JOB_STATES.filter((s) => s !== 'pending').map((s) => (
          <Link key={s} to={`/jobs?queue=${encodeURIComponent(q.name)}&state=${s}`} className="rounded-lg border border-zinc-200 bg-white p-3 hover:border-indigo-300 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-indigo-800">
            <StateBadge state={s} />
            <div className="mt-2 text-xl font-semibold tabular-nums" data-count={s}>{(q.counts[s] ?? 0).toLocaleString()}</div>
          </Link>
        ))}
        <div className="rounded-lg border border-zinc-200 bg-white p-3 dark:border-zinc-800 dark:bg-zinc-900">
          <div className="text-xs text-zinc-500">Oldest waiting</div>
          <div className="mt-2 text-xl font-semibold">{q.oldest_queued_age_ms != null ? formatDuration(q.oldest_queued_age_ms) : '—'}</div>
        </div>
      </div>

      <div className="grid gap-4 lg:grid-cols-3">
        <div className="min-w-0 space-y-2 lg:col-span-2">
          <div className="flex items-center justify-between">
            <h2 className="text-sm font-semibold">Latest jobs</h2>
            <Link to={`/jobs?queue=${encodeURIComponent(q.name)}`} className="text-sm text-indigo-600 hover:underline dark:text-indigo-400">All of them</Link>
          </div>
          <ErrorNote error={jobs.error} />
          <JobTable jobs={jobs.data?.items} loading={jobs.isPending} hideQueue empty={<Empty>No jobs in this queue.</Empty>} />
        </div>
        <div className="space-y-4">
          <Card>
            <CardHeader><CardTitle>Limits and defaults</CardTitle></CardHeader>
            <CardContent>
              <LimitsEditor key={JSON.stringify([q.concurrency_limit, q.rate_limit, q.default_max_attempts, q.default_timeout_ms])} queue={q} canEdit={canManage && !managed} />
            </CardContent>
          </Card>
          <QueueChart name={q.name} throughput={q.throughput_last_minute} />
          {canManage && (
            <ConfirmDialog
              trigger={<Button variant="ghost" size="sm" className="text-red-600 dark:text-red-400" disabled={managed} title={managed ? managedHint('Queue', q.name) : undefined}><Trash2 className="h-4 w-4" /> Delete queue</Button>}
              title={`Delete ${q.name}?`}
              description="Its settings go; a queue with unfinished jobs cannot be deleted (purge it first). It comes back with its next job."
              confirmLabel="Delete queue"
              destructive
              onConfirm={() => remove.mutate()}
            />
          )}
        </div>
      </div>
    </>
  );
}
