import { useWorkers } from '@/api/queries';
import { Badge } from '@/components/ui/badge';
import { DataTable } from '@/components/ui/table';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { relativeTime } from '@/lib/utils';
import { Link } from 'react-router';
import { workerStateStyle } from './workerState';


export function WorkersPage() {
  const workers = useWorkers();
  return (
    <>
      <PageHeader title="Workers">Processes that fetch and run jobs, newest first.</PageHeader>
      <ErrorNote error={workers.error} />
      <DataTable
        columns={['Name', 'State', 'Host', 'Queues', { label: 'Running', numeric: true }, 'Last heartbeat', 'Version']}
        empty={workers.data?.items.length === 0 && <Empty>No workers have registered.</Empty>}
      >
            {workers.isPending && <tr><td colSpan={7} className="px-4 py-3"><Skeleton /></td></tr>}
            {workers.data?.items.map((w) => (
              <tr key={w.id} data-worker={w.id}>
                <td className="px-4 py-2 font-medium"><Link to={`/workers/${w.id}`} className="hover:underline">{w.name}</Link><div className="font-mono text-xs text-zinc-500">{w.id}</div></td>
                <td className="px-4 py-2"><Badge className={workerStateStyle[w.state] ?? workerStateStyle.stopped}>{w.state}</Badge></td>
                <td className="px-4 py-2">{w.host ?? '—'}{w.pid ? ` (pid ${w.pid})` : ''}</td>
                <td className="px-4 py-2">{w.queues.join(', ')}</td>
                <td className="px-4 py-2 text-right tabular-nums">{w.running_job_ids?.length ?? 0}/{w.capacity}</td>
                <td className="px-4 py-2 text-zinc-500">{relativeTime(w.last_heartbeat_at)}</td>
                <td className="px-4 py-2 text-zinc-500">{w.version ?? '—'}</td>
              </tr>
            ))}
      </DataTable>
    </>
  );
}
