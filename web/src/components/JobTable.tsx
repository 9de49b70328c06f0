import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ChevronRight } from 'lucide-react';
import type { Job } from '@/api/client';
import { StateBadge } from './StateBadge';
import { DataTable } from './ui/table';
import { Skeleton } from './PageHeader';
import { relativeTime } from '@/lib/utils';

/** Jobs as rows (state, type and id, queue, attempt, age), each opening its detail page. */
export function JobTable({ jobs, loading, empty, hideQueue, select }: {
  jobs: readonly Job[] | undefined;
  loading?: boolean;
  empty?: ReactNode;
  hideQueue?: boolean;
  /** Row selection (bulk actions): a checkbox column when given. */
  select?: { selected: ReadonlySet<string>; toggle: (id: string) => void; toggleAll: (ids: string[]) => void };
}) {
  const ids = jobs?.map((j) => j.id) ?? [];
  const allSelected = !!select && ids.length > 0 && ids.every((id) => select.selected.has(id));
  const width = 5 + (hideQueue ? 0 : 1) + (select ? 1 : 0);
  const header = select ? (
    <input type="checkbox" aria-label="Select all jobs on this page" checked={allSelected} onChange={() => select.toggleAll(ids)} className="h-4 w-4 accent-indigo-600" />
  ) : '';
  return (
    <DataTable
      columns={[...(select ? [{ label: '', node: header }] : []), 'State', 'Type', ...(hideQueue ? [] : ['Queue']), 'Attempt', 'Created', '']}
      empty={jobs && jobs.length === 0 && empty}
    >
      {loading &&
        [0, 1, 2].map((i) => (
          <tr key={i}>
            <td colSpan={width} className="px-4 py-3"><Skeleton /></td>
          </tr>
        ))}
      {jobs?.map((j) => (
        <tr key={j.id} data-job-id={j.id} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
          {select && (
            <td className="w-8 px-4 py-2">
              <input type="checkbox" aria-label={`Select job ${j.id}`} checked={select.selected.has(j.id)} onChange={() => select.toggle(j.id)} className="h-4 w-4 accent-indigo-600" />
            </td>
          )}
          <td className="px-4 py-2"><StateBadge state={j.state} /></td>
          <td className="max-w-[16rem] px-4 py-2 font-medium sm:max-w-none">
            <Link to={`/jobs/${j.id}`} className="hover:underline">{j.type}</Link>
            <div className="truncate font-mono text-xs text-zinc-500">{j.id}</div>
          </td>
          {!hideQueue && <td className="px-4 py-2">{j.queue}</td>}
          <td className="px-4 py-2 tabular-nums">{j.attempt}/{j.max_attempts}</td>
          <td className="px-4 py-2 whitespace-nowrap text-zinc-500">{relativeTime(j.created_at)}</td>
          <td className="px-4 py-2 text-right">
            <Link to={`/jobs/${j.id}`} aria-label={`Open job ${j.id}`}><ChevronRight className="h-4 w-4 text-zinc-400" /></Link>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
