import { Link, useSearchParams } from 'react-router';
import { ChevronRight } from 'lucide-react';
import { useJobs, useQueues } from '@/api/queries';
import type { JobFilters } from '@/api/keys';
import { JOB_STATES, StateBadge } from '@/components/StateBadge';
import { Button } from '@/components/ui/button';
import { DataTable } from '@/components/ui/table';
import { Input, Label, Select } from '@/components/ui/input';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { relativeTime } from '@/lib/utils';

/** The list's filters and page, as kept in the URL (?state=&queue=&type=&cursor=). */
export function filtersFrom(params: URLSearchParams): JobFilters {
  const f: JobFilters = {};
  for (const k of ['state', 'queue', 'type', 'cursor'] as const) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  return f;
}

export function JobsPage() {
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const jobs = useJobs(filters);
  const queues = useQueues();
  // The cursors of the pages before this one, so "Previous" can go back (kept in history state via the URL's prev).
  const prev = params.getAll('prev');

  const setFilter = (key: 'state' | 'queue' | 'type', value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    next.delete('cursor');
    next.delete('prev');
    setParams(next);
  };
  const page = (cursor: string | null | undefined, back: boolean) => {
    const next = new URLSearchParams(params);
    next.delete('prev');
    const stack = back ? prev.slice(0, -1) : [...prev, filters.cursor ?? ''];
    stack.forEach((c) => next.append('prev', c));
    if (cursor) next.set('cursor', cursor);
    else next.delete('cursor');
    setParams(next);
  };

  return (
    <>
      <PageHeader title="Jobs">Newest first. Filters stay in the address, so a view can be shared.</PageHeader>
      <div className="mb-4 grid gap-3 sm:grid-cols-3">
        <div className="space-y-1">
          <Label htmlFor="f-state">State</Label>
          <Select id="f-state" value={filters.state ?? ''} onChange={(e) => setFilter('state', e.target.value)}>
            <option value="">All states</option>
            {JOB_STATES.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </Select>
        </div>
        <div className="space-y-1">
          <Label htmlFor="f-queue">Queue</Label>
          <Select id="f-queue" value={filters.queue ?? ''} onChange={(e) => setFilter('queue', e.target.value)}>
            <option value="">All queues</option>
            {queues.data?.items.map((q) => (
              <option key={q.name} value={q.name}>{q.name}</option>
            ))}
            {filters.queue && !queues.data?.items.some((q) => q.name === filters.queue) && <option value={filters.queue}>{filters.queue}</option>}
          </Select>
        </div>
        <div className="space-y-1">
          <Label htmlFor="f-type">Type</Label>
          <Input
            id="f-type"
            placeholder="e.g. email.send"
            defaultValue={filters.type ?? ''}
            key={filters.type ?? ''}
            onKeyDown={(e) => e.key === 'Enter' && setFilter('type', e.currentTarget.value.trim())}
            onBlur={(e) => e.currentTarget.value.trim() !== (filters.type ?? '') && setFilter('type', e.currentTarget.value.trim())}
          />
        </div>
      </div>
      <ErrorNote error={jobs.error} />
      <DataTable columns={['State', 'Type', 'Queue', 'Attempt', 'Created', '']} empty={jobs.data && jobs.data.items.length === 0 && <Empty>No jobs match these filters.</Empty>}>
            {jobs.isPending &&
              [0, 1, 2].map((i) => (
                <tr key={i}>
                  <td colSpan={6} className="px-4 py-3"><Skeleton /></td>
                </tr>
              ))}
            {jobs.data?.items.map((j) => (
              <tr key={j.id} data-job-id={j.id} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
                <td className="px-4 py-2"><StateBadge state={j.state} /></td>
                <td className="px-4 py-2 font-medium">
                  <Link to={`/jobs/${j.id}`} className="hover:underline">{j.type}</Link>
                  <div className="font-mono text-xs text-zinc-500">{j.id}</div>
                </td>
                <td className="px-4 py-2">{j.queue}</td>
                <td className="px-4 py-2 tabular-nums">{j.attempt}/{j.max_attempts}</td>
                <td className="px-4 py-2 text-zinc-500">{relativeTime(j.created_at)}</td>
                <td className="px-4 py-2 text-right">
                  <Link to={`/jobs/${j.id}`} aria-label={`Open job ${j.id}`}><ChevronRight className="h-4 w-4 text-zinc-400" /></Link>
                </td>
              </tr>
            ))}
      </DataTable>
      <div className="mt-4 flex justify-end gap-2">
        <Button variant="outline" size="sm" disabled={!filters.cursor} onClick={() => page(prev[prev.length - 1], true)}>
          Previous
        </Button>
        <Button variant="outline" size="sm" disabled={!jobs.data?.next_cursor} onClick={() => page(jobs.data?.next_cursor, false)}>
          Next
        </Button>
      </div>
    </>
  );
}
