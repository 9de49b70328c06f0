import { useWorkers } from '@/api/queries';
import { Badge } from '@/components/ui/badge';
import { DataTable } from '@/components/ui/table';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { relativeTime } from '@/lib/utils';

const stateStyle: Record<string, string> = {
  active: 'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  quiet: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  stopped: 'bg-zinc-100 text-zinc-600 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-700',
  lost: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
};

export function WorkersPage() {
  const workers = useWorkers();
  return (
    <>
      <PageHeader title="Workers">Processes that fetch and run jobs, newest first.</PageHeader>
      <ErrorNote error={workers.error} />
      <DataTable
        columns={['Name', 'State', 'Host', 'Queues', { label: 'Capacity', numeric: true }, 'Last heartbeat', 'Version']}
        empty={workers.data?.items.length === 0 && <Empty>No workers have registered.</Empty>}
      >
            {workers.isPending && <tr><td colSpan={7} className="px-4 py-3"><Skeleton /></td></tr>}
            {workers.data?.items.map((w) => (
              <tr key={w.id} data-worker={w.id}>
                <td className="px-4 py-2 font-medium">{w.name}<div className="font-mono text-xs text-zinc-500">{w.id}</div></td>
                <td className="px-4 py-2"><Badge className={stateStyle[w.state] ?? stateStyle.stopped}>{w.state}</Badge></td>
                <td className="px-4 py-2">{w.host ?? '—'}{w.pid ? ` (pid ${w.pid})` : ''}</td>
                <td className="px-4 py-2">{w.queues.join(', ')}</td>
                <td className="px-4 py-2 text-right tabular-nums">{w.capacity}</td>
                <td className="px-4 py-2 text-zinc-500">{relativeTime(w.last_heartbeat_at)}</td>
                <td className="px-4 py-2 text-zinc-500">{w.version ?? '—'}</td>
              </tr>
            ))}
      </DataTable>
    </>
  );
}
