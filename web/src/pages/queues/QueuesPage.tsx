import { Link } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Pause, Play } from 'lucide-react';
import { api, unwrap, type Queue } from '@/api/client';
import { keys } from '@/api/keys';
import { useQueues } from '@/api/queries';
import { JOB_STATES } from '@/components/StateBadge';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { DataTable } from '@/components/ui/table';
import { ReasonDialog } from '@/components/ReasonDialog';
import { toast } from '@/lib/toast';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { formatDuration } from '@/lib/utils';
import { ManagedBadge, useManagedObjects } from '@/components/ManagedBadge';

const SHOWN = JOB_STATES.filter((s) => s !== 'pending');

export function QueuesPage() {
  const queues = useQueues();
  const managed = useManagedObjects().data;
  const qc = useQueryClient();
  const toggle = useMutation({
    mutationFn: ({ queue: q, reason }: { queue: Queue; reason: string | null }) =>
      q.paused
        ? unwrap(api.POST('/api/v1/queues/{name}/resume', { params: { path: { name: q.name } } }))
        : unwrap(api.POST('/api/v1/queues/{name}/pause', { params: { path: { name: q.name } }, body: { reason } })),
    onSuccess: (q) => {
      void qc.invalidateQueries({ queryKey: keys.queues });
      toast.success(q.paused ? 'Queue paused' : 'Queue resumed', q.name);
    },
    onError: (e) => toast.error(e),
  });

  return (
    <>
      <PageHeader title="Queues">Counts per state; a paused queue keeps its jobs and hands none out.</PageHeader>
      <ErrorNote error={queues.error ?? toggle.error} />
      <DataTable
        columns={['Queue', ...SHOWN.map((s) => ({ label: s, numeric: true })), { label: 'Oldest', numeric: true }, { label: '/min', numeric: true }, '']}
        empty={queues.data?.items.length === 0 && <Empty>No queues yet: a queue appears with its first job.</Empty>}
      >
            {queues.isPending && (
              <tr><td colSpan={SHOWN.length + 4} className="px-4 py-3"><Skeleton /></td></tr>
            )}
            {queues.data?.items.map((q) => (
              <tr key={q.name} data-queue={q.name}>
                <td className="px-4 py-2 font-medium whitespace-nowrap">
                  <Link to={`/queues/${encodeURIComponent(q.name)}`} className="hover:underline">{q.name}</Link>
                  {' '}<ManagedBadge kind="Queue" name={q.name} managed={managed?.has(`Queue/${q.name}`) ?? false} />
                  {q.paused && (
                    <Badge className="ml-2 bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800" title={q.pause_reason ?? undefined}>
                      paused
                    </Badge>
                  )}
                  {q.paused && q.pause_reason && <div className="max-w-[16rem] truncate text-xs font-normal text-zinc-500">{q.pause_reason}</div>}
                </td>
                {SHOWN.map((s) => (
                  <td key={s} className="px-3 py-2 text-right tabular-nums">
                    <Link to={`/jobs?queue=${encodeURIComponent(q.name)}&state=${s}`} className="hover:underline">{q.counts[s] ?? 0}</Link>
                  </td>
                ))}
                <td className="px-3 py-2 text-right text-zinc-500">{q.oldest_queued_age_ms != null ? formatDuration(q.oldest_queued_age_ms) : '—'}</td>
                <td className="px-3 py-2 text-right tabular-nums">{q.throughput_last_minute}</td>
                <td className="px-4 py-2 text-right">
                  {q.paused ? (
                    <Button variant="outline" size="sm" onClick={() => toggle.mutate({ queue: q, reason: null })} disabled={toggle.isPending}>
                      <Play className="h-3.5 w-3.5" /> Resume
                    </Button>
                  ) : (
                    <ReasonDialog
                      trigger={<Button variant="outline" size="sm" disabled={toggle.isPending}><Pause className="h-3.5 w-3.5" /> Pause</Button>}
                      title={`Pause ${q.name}?`}
                      description="Workers get no new jobs from it until it is resumed; running jobs finish."
                      confirmLabel="Pause queue"
                      onConfirm={(reason) => toggle.mutate({ queue: q, reason })}
                    />
                  )}
                </td>
              </tr>
            ))}
      </DataTable>
    </>
  );
}
