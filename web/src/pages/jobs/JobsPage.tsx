import { Link, useLocation, useNavigate } from 'react-router';
import { PagerButtons, useUrlPager } from '@/lib/pager';
import { Plus, Search } from 'lucide-react';
import { useCan, useJobs, useQueues } from '@/api/queries';
import { SINCE, type JobFilters } from '@/api/keys';
import { JOB_STATES } from '@/components/StateBadge';
import { JobTable } from '@/components/JobTable';
import { BulkActions } from './BulkActions';
import { useState } from 'react';
import { FilterInput } from '@/components/FilterInput';
import { Button } from '@/components/ui/button';
import { Input, Label, Select } from '@/components/ui/input';
import { Empty, ErrorNote, PageHeader } from '@/components/PageHeader';
import { SORT_OPTIONS } from '@/lib/jobSort';

/** The list's filters and page, as kept in the URL (?state=&queue=&type=&cursor=). */
export function filtersFrom(params: URLSearchParams): JobFilters {
  const f: JobFilters = {};
  for (const k of ['q', 'state', 'queue', 'type', 'tag', 'since', 'sort', 'cursor'] as const) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  return f;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function JobsPage() {
  const pager = useUrlPager();
  const { params } = pager;
  const navigate = useNavigate();
  const location = useLocation();
  const canWrite = useCan('jobs.write');
  const filters = filtersFrom(params);
  const jobs = useJobs(filters);
  const queues = useQueues();
  const setFilter = (key: 'q' | 'state' | 'queue' | 'type' | 'tag' | 'since' | 'sort', value: string) => pager.setFilter(key, value);
  // The selection belongs to the page shown: a new filter or page starts with none.
  const view = JSON.stringify(filters);
  const [selection, setSelection] = useState<{ view: string; ids: ReadonlySet<string> }>({ view, ids: new Set() });
  const selected = selection.view === view ? selection.ids : new Set<string>();
  const select = {
    selected,
    toggle: (id: string) => {
      const next = new Set(selected);
      if (!next.delete(id)) next.add(id);
      setSelection({ view, ids: next });
    },
    toggleAll: (ids: string[]) => setSelection({ view, ids: ids.every((id) => selected.has(id)) ? new Set() : new Set(ids) }),
  };

  return (
    <>
      <PageHeader
        title="Jobs"
        actions={canWrite && (
          <Button asChild size="sm">
            <Link to="/jobs/new"><Plus className="h-4 w-4" /> New job</Link>
          </Button>
        )}
      >
        Filters and sort stay in the address, so a view can be shared.
      </PageHeader>
      <form
        role="search"
        className="mb-3"
        onSubmit={(e) => {
          e.preventDefault();
          const text = new FormData(e.currentTarget).get('search')?.toString().trim() ?? '';
          if (UUID.test(text)) navigate(`/jobs/${text.toLowerCase()}`);
          else setFilter('q', text);
        }}
      >
        <Label htmlFor="f-search" className="sr-only">Search jobs</Label>
        <div className="relative">
          <Search className="pointer-events-none absolute top-2.5 left-3 h-4 w-4 text-zinc-400" aria-hidden />
          <Input
            id="f-search"
            name="search"
            data-search
            autoFocus={!!(location.state as { focusSearch?: boolean } | null)?.focusSearch}
            key={filters.q ?? ''}
            defaultValue={filters.q ?? ''}
            placeholder="Search ids, types, tags, payloads and errors  ( / )"
            className="pl-9"
          />
        </div>
      </form>
      <div className="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
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
        <FilterInput id="f-type" label="Type" value={filters.type} placeholder="e.g. email.send" onApply={(v) => setFilter('type', v)} />
        <FilterInput id="f-tag" label="Tag" value={filters.tag} placeholder="e.g. billing" onApply={(v) => setFilter('tag', v)} />
        <div className="space-y-1">
          <Label htmlFor="f-since">Created</Label>
          <Select id="f-since" value={filters.since ?? ''} onChange={(e) => setFilter('since', e.target.value)}>
            <option value="">Any time</option>
            {Object.entries(SINCE).map(([k, v]) => <option key={k} value={k}>{v.label}</option>)}
          </Select>
        </div>
        <div className="space-y-1">
          <Label htmlFor="f-sort">Sort</Label>
          <Select id="f-sort" value={filters.sort ?? ''} onChange={(e) => setFilter('sort', e.target.value)}>
            {SORT_OPTIONS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
            {filters.sort && !SORT_OPTIONS.some((o) => o.value === filters.sort) && <option value={filters.sort}>{filters.sort}</option>}
          </Select>
        </div>
      </div>
      <ErrorNote error={jobs.error} />
      {canWrite && (
        <div className="mb-2 flex justify-end">
          <BulkActions filters={{ ...filters, cursor: undefined }} selected={[...selected]} onDone={() => setSelection({ view, ids: new Set() })} />
        </div>
      )}
      <JobTable
        jobs={jobs.data?.items}
        loading={jobs.isPending}
        empty={<Empty>No jobs match these filters.</Empty>}
        select={canWrite ? select : undefined}
        sort={{ value: filters.sort, onChange: (v) => setFilter('sort', v) }}
      />
      <PagerButtons pager={pager} nextCursor={jobs.data?.next_cursor} />
    </>
  );
}
