import { useMemo, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ArrowDown, ArrowUp, ArrowUpDown, ChevronRight } from 'lucide-react';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type SortingState, type Updater } from '@tanstack/react-table';
import type { Job } from '@/api/client';
import { StateBadge } from './StateBadge';
import { Card } from './ui/card';
import { Skeleton } from './PageHeader';
import { cn, relativeTime } from '@/lib/utils';
import { parseSort, sortParam, SORT_COLUMNS, type SortColumn } from '@/lib/jobSort';

type Select = { selected: ReadonlySet<string>; toggle: (id: string) => void; toggleAll: (ids: string[]) => void };

/** Cell classes per column: numbers right-aligned, the extra time columns only on wide screens. */
const CELL: Record<string, string> = {
  select: 'w-8',
  priority: 'hidden text-right tabular-nums lg:table-cell',
  attempt: 'tabular-nums',
  created_at: 'whitespace-nowrap text-zinc-500',
  run_at: 'hidden whitespace-nowrap text-zinc-500 md:table-cell',
  finished_at: 'hidden whitespace-nowrap text-zinc-500 md:table-cell',
  open: 'text-right',
};

/** What cells read from the table that changes between renders (the column definitions stay the same objects). */
type Meta = { select?: Select; ids: string[] };
const metaOf = (t: { options: { meta?: unknown } }) => t.options.meta as Meta;

// Module-level definitions: flexRender mounts a cell function as a component, so a new function each render would
// remount every cell (a checkbox clicked would be replaced by a fresh one). Sortable columns have an accessor
// (TanStack sorts only those); the sorting itself is the server's (manualSorting).
const time = (id: 'created_at' | 'run_at' | 'finished_at', header: string): ColumnDef<Job> =>
  ({ id, header, accessorFn: (j) => j[id], cell: ({ row }) => relativeTime(row.original[id]) });

const COLUMNS = {
  select: {
    id: 'select',
    header: ({ table }) => {
      const { select, ids } = metaOf(table);
      const all = !!select && ids.length > 0 && ids.every((id) => select.selected.has(id));
      return <input type="checkbox" aria-label="Select all jobs on this page" checked={all} onChange={() => select?.toggleAll(ids)} className="h-4 w-4 accent-indigo-600" />;
    },
    cell: ({ row, table }) => {
      const { select } = metaOf(table);
      return (
        <input type="checkbox" aria-label={`Select job ${row.original.id}`} checked={!!select?.selected.has(row.original.id)} onChange={() => select?.toggle(row.original.id)} className="h-4 w-4 accent-indigo-600" />
      );
    },
  },
  state: { id: 'state', header: 'State', cell: ({ row }) => <StateBadge state={row.original.state} /> },
  type: {
    id: 'type',
    header: 'Type',
    cell: ({ row }) => (
      <>
        <Link to={`/jobs/${row.original.id}`} className="font-medium hover:underline">{row.original.type}</Link>
        <div className="truncate font-mono text-xs text-zinc-500">{row.original.id}</div>
      </>
    ),
  },
  queue: { id: 'queue', header: 'Queue', cell: ({ row }) => row.original.queue },
  priority: { id: 'priority', header: 'Priority', accessorFn: (j) => j.priority, cell: ({ row }) => row.original.priority },
  attempt: { id: 'attempt', header: 'Attempt', accessorFn: (j) => j.attempt, cell: ({ row }) => `${row.original.attempt}/${row.original.max_attempts}` },
  created_at: time('created_at', 'Created'),
  run_at: time('run_at', 'Run at'),
  finished_at: time('finished_at', 'Finished'),
  open: {
    id: 'open',
    header: '',
    cell: ({ row }) => (
      <Link to={`/jobs/${row.original.id}`} aria-label={`Open job ${row.original.id}`}><ChevronRight className="h-4 w-4 text-zinc-400" /></Link>
    ),
  },
} satisfies Record<string, ColumnDef<Job>>;

function columnsFor(selectable: boolean, hideQueue: boolean, sortable: boolean): ColumnDef<Job>[] {
  const c = COLUMNS;
  return [
    ...(selectable ? [c.select] : []),
    c.state,
    c.type,
    ...(hideQueue ? [] : [c.queue]),
    ...(sortable ? [c.priority] : []),
    c.attempt,
    c.created_at,
    ...(sortable ? [c.run_at, c.finished_at] : []),
    c.open,
  ];
}

/**
 * Jobs as rows (state, type and id, queue, attempt, age), each opening its detail page. With `sort`, the columns the
 * API sorts by (created, run at, finished, priority, attempt) have header buttons that sort the list on the server
 * (`aria-sort` says how it is sorted): a new column sorts descending first, the sorted one flips.
 */
export function JobTable({ jobs, loading, empty, hideQueue, select, sort }: {
  jobs: readonly Job[] | undefined;
  loading?: boolean;
  empty?: ReactNode;
  hideQueue?: boolean;
  /** Row selection (bulk actions): a checkbox column when given. */
  select?: Select;
  /** The list's sort (the API's `sort`, '' for the default) and what to do when a header asks for another. */
  sort?: { value: string | undefined; onChange: (value: string) => void };
}) {
  const ids = jobs?.map((j) => j.id) ?? [];
  const current = parseSort(sort?.value);
  const sorting: SortingState = [{ id: current.column, desc: current.desc }];
  const selectable = !!select;
  const sortable = !!sort;
  const columns = useMemo(() => columnsFor(selectable, !!hideQueue, sortable), [selectable, hideQueue, sortable]);
  const table = useReactTable<Job>({
    data: (jobs ?? []) as Job[],
    columns,
    meta: { select, ids } satisfies Meta,
    getRowId: (j) => j.id,
    getCoreRowModel: getCoreRowModel(),
    state: { sorting },
    manualSorting: true,
    enableMultiSort: false,
    enableSortingRemoval: false,
    sortDescFirst: true,
    enableSorting: !!sort,
    onSortingChange: (updater: Updater<SortingState>) => {
      const next = (typeof updater === 'function' ? updater(sorting) : updater)[0];
      if (next && sort) sort.onChange(sortParam({ column: next.id as SortColumn, desc: next.desc }));
    },
  });
  const width = table.getVisibleLeafColumns().length;

  return (
    <Card className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="border-b border-zinc-200 text-xs text-zinc-500 uppercase dark:border-zinc-800">
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((h) => {
                const sortable = !!sort && (SORT_COLUMNS as readonly string[]).includes(h.column.id);
                const dir = h.column.getIsSorted();
                const Icon = dir === 'asc' ? ArrowUp : dir === 'desc' ? ArrowDown : ArrowUpDown;
                return (
                  <th
                    key={h.id}
                    aria-sort={sortable ? (dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none') : undefined}
                    className={cn('px-4 py-2 font-medium whitespace-nowrap', CELL[h.column.id])}
                  >
                    {sortable ? (
                      <button
                        type="button"
                        onClick={h.column.getToggleSortingHandler()}
                        className={cn('inline-flex items-center gap-1 uppercase hover:text-zinc-900 dark:hover:text-zinc-100', dir && 'text-zinc-900 dark:text-zinc-100')}
                      >
                        {flexRender(h.column.columnDef.header, h.getContext())}
                        <Icon className={cn('h-3 w-3', !dir && 'opacity-40')} aria-hidden />
                      </button>
                    ) : (
                      flexRender(h.column.columnDef.header, h.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {loading &&
            [0, 1, 2].map((i) => (
              <tr key={i}>
                <td colSpan={width} className="px-4 py-3"><Skeleton /></td>
              </tr>
            ))}
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} data-job-id={row.id} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id} className={cn('px-4 py-2', cell.column.id === 'type' && 'max-w-[16rem] sm:max-w-none', CELL[cell.column.id])}>
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {/* Only a list that came back empty is empty: not one still loading, nor one with rows. */}
      {jobs?.length === 0 && empty}
    </Card>
  );
}
