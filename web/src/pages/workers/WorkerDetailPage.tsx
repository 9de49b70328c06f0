import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query';
import { Moon, Power, Trash2 } from 'lucide-react';
import { api, unwrap, type Job } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useWorker } from '@/api/queries';
import { JobTable } from '@/components/JobTable';
import { BackLink, Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/dialog';
import { formatTime, relativeTime } from '@/lib/utils';
import { toast } from '@/lib/toast';
import { workerStateStyle } from './workerState';

export function WorkerDetailPage() {
  const { id = '' } = useParams();
  const worker = useWorker(id);
  const canManage = useCan('workers.manage');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const w = worker.data;
  const running = w?.running_job_ids ?? [];
  const jobs = useQueries({
    queries: running.map((jobId) => ({
      queryKey: keys.job(jobId),
      queryFn: () => unwrap(api.GET('/api/v1/jobs/{id}', { params: { path: { id: jobId } } })),
    })),
  });

  const act = useMutation({
    mutationFn: async (action: 'quiet' | 'stop' | 'deregister') => {
      if (action === 'deregister') return void (await unwrap(api.DELETE('/api/v1/workers/{id}', { params: { path: { id } } })));
      const path = action === 'quiet' ? '/api/v1/workers/{id}/quiet' : '/api/v1/workers/{id}/stop';
      qc.setQueryData(keys.worker(id), await unwrap(api.POST(path, { params: { path: { id } } })));
    },
    onSuccess: (_, action) => {
      void qc.invalidateQueries({ queryKey: keys.workers });
      toast.success(action === 'quiet' ? 'Worker told to go quiet' : action === 'stop' ? 'Worker told to stop' : 'Worker deregistered', w?.name);
      if (action === 'deregister') navigate('/workers', { replace: true });
    },
    onError: (e) => toast.error(e),
  });

  if (worker.isPending) return <Skeleton className="h-40 w-full" />;
  if (!w) return <ErrorNote error={worker.error ?? 'No such worker.'} />;
  const gone = w.state === 'stopped' || w.state === 'lost';
  const labels = Object.entries(w.labels ?? {});

  return (
    <>
      <BackLink to="/workers">Workers</BackLink>
      <PageHeader
        title={<span className="flex items-center gap-3">{w.name}<Badge className={workerStateStyle[w.state] ?? workerStateStyle.stopped} data-worker-state={w.state}>{w.state}</Badge></span>}
        actions={canManage && (
          <>
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={w.state !== 'active' || act.isPending}><Moon className="h-4 w-4" /> Quiet</Button>}
              title={`Quiet ${w.name}?`}
              description="It finishes the jobs it runs and fetches no new ones (it hears this at its next heartbeat)."
              confirmLabel="Quiet"
              onConfirm={() => act.mutate('quiet')}
            />
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={gone || act.isPending}><Power className="h-4 w-4" /> Stop</Button>}
              title={`Stop ${w.name}?`}
              description="It is told to shut down at its next heartbeat; jobs it leaves unfinished come back when their leases end."
              confirmLabel="Stop worker"
              destructive
              onConfirm={() => act.mutate('stop')}
            />
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={act.isPending}><Trash2 className="h-4 w-4" /> Deregister</Button>}
              title={`Deregister ${w.name}?`}
              description="It is removed from the list; its running jobs go back to their queues. A worker that is still alive must register again."
              confirmLabel="Deregister"
              destructive
              onConfirm={() => act.mutate('deregister')}
            />
          </>
        )}
      >
        <span className="font-mono">{w.id}</span>
      </PageHeader>
      <div className="grid gap-4 lg:grid-cols-3">
        <Card>
          <CardHeader><CardTitle>Details</CardTitle></CardHeader>
          <CardContent>
            <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
              <dt className="text-zinc-500">Host</dt><dd>{w.host ?? '—'}{w.pid ? ` (pid ${w.pid})` : ''}</dd>
              <dt className="text-zinc-500">Queues</dt>
              <dd className="flex flex-wrap gap-1">{w.queues.map((q) => <Link key={q} to={`/queues/${encodeURIComponent(q)}`} className="hover:underline">{q}</Link>)}</dd>
              <dt className="text-zinc-500">Running</dt><dd className="tabular-nums">{running.length} of {w.capacity}</dd>
              <dt className="text-zinc-500">Version</dt><dd>{w.version ?? '—'}</dd>
              <dt className="text-zinc-500">Registered</dt><dd>{formatTime(w.registered_at)}</dd>
              <dt className="text-zinc-500">Heartbeat</dt><dd title={formatTime(w.last_heartbeat_at)}>{relativeTime(w.last_heartbeat_at)}</dd>
              {labels.length > 0 && (
                <>
                  <dt className="text-zinc-500">Labels</dt>
                  <dd className="flex flex-wrap gap-1">
                    {labels.map(([k, v]) => <Badge key={k} className="bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700">{k}={String(v)}</Badge>)}
                  </dd>
                </>
              )}
            </dl>
          </CardContent>
        </Card>
        <div className="min-w-0 space-y-2 lg:col-span-2">
          <h2 className="text-sm font-semibold">Current jobs</h2>
          <JobTable
            jobs={jobs.map((j) => j.data).filter((j): j is Job => !!j)}
            loading={jobs.some((j) => j.isPending)}
            empty={<Empty>{gone ? 'This worker runs nothing any more.' : 'Idle: it runs no job right now.'}</Empty>}
          />
        </div>
      </div>
    </>
  );
}
