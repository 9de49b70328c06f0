import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Ban, Copy, RotateCcw, Trash2 } from 'lucide-react';
import { api, unwrap, type Job, type JobLogEntry } from '@/api/client';
import { keys } from '@/api/keys';
import { useJob } from '@/api/queries';
import { StateBadge } from '@/components/StateBadge';
import { JsonView } from '@/components/JsonView';
import { ProgressBar } from '@/components/ProgressBar';
import { toast } from '@/lib/toast';
import { JobTimeline } from './JobTimeline';
import { Button } from '@/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/dialog';
import { BackLink, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { formatDuration, formatTime } from '@/lib/utils';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** Reads the job's log from where it left off (?after=last id) every 2 s while the job may still write. */
function useLogTail(id: string, state: string | undefined) {
  const [lines, setLines] = useState<JobLogEntry[]>([]);
  const after = useRef(0);
  useEffect(() => {
    setLines([]);
    after.current = 0;
  }, [id]);
  useQuery({
    queryKey: keys.jobLogs(id),
    queryFn: async () => {
      let more = true;
      while (more) {
        const page = await unwrap(api.GET('/api/v1/jobs/{id}/logs', { params: { path: { id }, query: { after: String(after.current), limit: '500' } } }));
        const fresh = page.items.filter((l) => l.id > after.current);
        if (fresh.length > 0) {
          after.current = fresh[fresh.length - 1]!.id;
          setLines((l) => [...l, ...fresh]);
        }
        more = !!page.next_cursor;
      }
      return after.current;
    },
    refetchInterval: state && FINISHED.has(state) ? false : 2000,
    enabled: !!state,
  });
  return lines;
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-zinc-500">{label}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </>
  );
}

export function JobDetailPage() {
  const { id = '' } = useParams();
  const job = useJob(id);
  const qc = useQueryClient();
  const navigate = useNavigate();
  const j = job.data;
  const logs = useLogTail(id, j?.state);

  const act = useMutation({
    mutationFn: async (action: 'retry' | 'cancel' | 'delete'): Promise<Job | null> => {
      if (action === 'delete') {
        await unwrap(api.DELETE('/api/v1/jobs/{id}', { params: { path: { id } } }));
        return null;
      }
      const path = action === 'retry' ? '/api/v1/jobs/{id}/retry' : '/api/v1/jobs/{id}/cancel';
      return unwrap(api.POST(path, { params: { path: { id } } }));
    },
    onSuccess: (updated, action) => {
      void qc.invalidateQueries({ queryKey: keys.jobs });
      toast.success(action === 'retry' ? 'Job queued again' : action === 'cancel' ? (updated?.state === 'cancelled' ? 'Job cancelled' : 'Cancel requested') : 'Job deleted');
      if (updated) qc.setQueryData(keys.job(id), (old: Job | undefined) => ({ ...old, ...updated }));
      else navigate('/jobs', { replace: true });
    },
    onError: (e) => toast.error(e),
  });

  if (job.isPending) return <Skeleton className="h-40 w-full" />;
  if (!j) return <ErrorNote error={job.error ?? 'No such job.'} />;

  const canRetry = j.state === 'failed' || j.state === 'cancelled';
  const canCancel = !FINISHED.has(j.state) && !j.cancel_requested;

  return (
    <>
      <BackLink to="/jobs">Jobs</BackLink>
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            {j.type} <StateBadge state={j.state} />
            {j.cancel_requested && j.state === 'running' && <span className="text-xs font-normal text-zinc-500">cancel requested</span>}
          </span>
        }
        actions={
          <>
            <Button variant="outline" size="sm" asChild>
              <Link to={`/jobs/new?from=${j.id}`}><Copy className="h-4 w-4" /> Clone</Link>
            </Button>
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={!canRetry || act.isPending}><RotateCcw className="h-4 w-4" /> Retry</Button>}
              title="Retry this job?"
              description="It goes back to its queue and runs again."
              confirmLabel="Retry"
              onConfirm={() => act.mutate('retry')}
            />
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={!canCancel || act.isPending}><Ban className="h-4 w-4" /> Cancel</Button>}
              title="Cancel this job?"
              description="A waiting job is cancelled at once; a running one is asked to stop."
              confirmLabel="Cancel job"
              destructive
              onConfirm={() => act.mutate('cancel')}
            />
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={act.isPending}><Trash2 className="h-4 w-4" /> Delete</Button>}
              title="Delete this job?"
              description="The job, its attempts and logs are removed for good."
              confirmLabel="Delete"
              destructive
              onConfirm={() => act.mutate('delete')}
            />
          </>
        }
      >
        <span className="font-mono">{j.id}</span>
      </PageHeader>
      <ErrorNote error={act.error} />
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="min-w-0 space-y-4">
        <Card>
          <CardHeader><CardTitle>Details</CardTitle></CardHeader>
          <CardContent>
            <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
              <Field label="Queue">{j.queue}</Field>
              <Field label="Attempt">{j.attempt} of {j.max_attempts}</Field>
              <Field label="Priority">{j.priority}</Field>
              <Field label="Created">{formatTime(j.created_at)}</Field>
              <Field label="Run at">{formatTime(j.run_at)}</Field>
              <Field label="Started">{formatTime(j.started_at)}</Field>
              <Field label="Finished">{formatTime(j.finished_at)}</Field>
              {j.tags.length > 0 && <Field label="Tags">{j.tags.join(', ')}</Field>}
              {j.unique_key && <Field label="Unique key">{j.unique_key}</Field>}
              {j.workflow_id && <Field label="Workflow"><Link className="hover:underline" to={`/workflows/${j.workflow_id}`}>step {j.workflow_step ?? '?'}</Link></Field>}
              {j.worker_id && <Field label="Worker"><Link className="font-mono text-xs hover:underline" to={`/workers/${j.worker_id}`}>{j.worker_id}</Link></Field>}
            </dl>
            {j.state === 'running' && (
              <div className="mt-4">
                <ProgressBar percent={j.progress?.percent ?? 0} message={j.progress?.message} running />
              </div>
            )}
          </CardContent>
        </Card>
        <Card>
          <CardHeader><CardTitle>Timeline</CardTitle></CardHeader>
          <CardContent><JobTimeline job={j} /></CardContent>
        </Card>
        </div>
        <div className="min-w-0 space-y-4 lg:col-span-2">
          {j.last_error && j.state !== 'succeeded' && (
            <Card className="border-red-200 dark:border-red-900">
              <CardHeader><CardTitle className="text-red-700 dark:text-red-400">Error{j.last_error.type ? `: ${j.last_error.type}` : ''}</CardTitle></CardHeader>
              <CardContent className="space-y-2">
                <p className="text-sm">{j.last_error.message}</p>
                {j.last_error.stack && <pre aria-label="Stack trace" className="max-h-72 overflow-auto rounded bg-zinc-100 p-3 font-mono text-xs dark:bg-zinc-950">{j.last_error.stack}</pre>}
              </CardContent>
            </Card>
          )}
          <Card>
            <CardHeader><CardTitle>Payload</CardTitle></CardHeader>
            <CardContent><JsonView label="Payload" value={j.payload} /></CardContent>
          </Card>
          {j.result !== null && j.result !== undefined && (
            <Card>
              <CardHeader><CardTitle>Result</CardTitle></CardHeader>
              <CardContent><JsonView label="Result" value={j.result} /></CardContent>
            </Card>
          )}
          <Card>
            <CardHeader><CardTitle>Attempts</CardTitle></CardHeader>
            <CardContent className="p-0">
              {!j.attempts?.length && <p className="p-4 text-sm text-zinc-500">Not run yet.</p>}
              <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
                {j.attempts?.map((a) => {
                  const started = typeof a.started_at === 'string' ? Date.parse(a.started_at) : NaN;
                  const finished = typeof a.finished_at === 'string' ? Date.parse(a.finished_at) : NaN;
                  return (
                    <li key={a.number} className="px-4 py-2 text-sm">
                      <div className="flex justify-between">
                        <span>#{a.number} · {a.outcome ?? 'running'}</span>
                        <span className="text-zinc-500">{formatTime(a.started_at)}{Number.isFinite(finished - started) ? ` · ${formatDuration(finished - started)}` : ''}</span>
                      </div>
                      {a.error && <p className="mt-1 text-red-700 dark:text-red-400">{a.error.message}</p>}
                      {a.error?.stack && <pre className="mt-1 max-h-48 overflow-auto rounded bg-zinc-100 p-2 font-mono text-xs dark:bg-zinc-950">{a.error.stack}</pre>}
                    </li>
                  );
                })}
              </ul>
            </CardContent>
          </Card>
          <Card>
            <CardHeader><CardTitle>Log</CardTitle></CardHeader>
            <CardContent>
              {logs.length === 0 ? (
                <p className="text-sm text-zinc-500">No log lines.</p>
              ) : (
                <pre aria-label="Log" className="max-h-96 overflow-auto rounded bg-zinc-950 p-3 font-mono text-xs text-zinc-100">
                  {logs.map((l) => `${formatTime(l.at)}  ${l.line}`).join('\n')}
                </pre>
              )}
            </CardContent>
          </Card>
        </div>
      </div>
    </>
  );
}
