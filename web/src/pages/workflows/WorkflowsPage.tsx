import { Link } from 'react-router';
import { Workflow as WorkflowIcon } from 'lucide-react';
import { useWorkflows } from '@/api/queries';
import { FilterInput } from '@/components/FilterInput';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { StateBadge } from '@/components/StateBadge';
import { Label, Select } from '@/components/ui/input';
import { DataTable } from '@/components/ui/table';
import { PagerButtons, useUrlPager } from '@/lib/pager';
import { formatDuration, formatTime, relativeTime } from '@/lib/utils';
import { StepsBar } from './StepsBar';
import { WorkflowTemplates } from './WorkflowTemplates';

export const WORKFLOW_STATES = ['running', 'succeeded', 'failed', 'cancelled'] as const;

/** Workflows, newest first, filtered by state and name (kept in the address), with their steps' progress. */
export function WorkflowsPage() {
  const pager = useUrlPager();
  const { params, cursor, setFilter } = pager;
  const filters = { state: params.get('state') || undefined, name: params.get('name') || undefined, cursor };
  const workflows = useWorkflows(filters);
  const items = workflows.data?.items ?? [];

  return (
    <>
      <PageHeader title="Workflows">DAGs of jobs: a step starts when its parents have succeeded. Create them through the API, the SDK, a template or a schedule.</PageHeader>
      <WorkflowTemplates />
      <div className="mb-4 grid grid-cols-2 gap-3 lg:grid-cols-4">
        <div className="space-y-1">
          <Label htmlFor="w-state">State</Label>
          <Select id="w-state" value={filters.state ?? ''} onChange={(e) => setFilter('state', e.target.value)}>
            <option value="">Every state</option>
            {WORKFLOW_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </Select>
        </div>
        <FilterInput id="w-name" label="Name" value={filters.name} placeholder="e.g. nightly-etl" onApply={(v) => setFilter('name', v)} />
      </div>
      <ErrorNote error={workflows.error} />
      <DataTable
        columns={['Name', 'State', 'Steps', 'Started', { label: 'Duration', numeric: true }]}
        empty={workflows.data && items.length === 0 && (
          <Empty>
            <WorkflowIcon className="mx-auto mb-2 h-8 w-8 text-zinc-300 dark:text-zinc-700" aria-hidden />
            {filters.state || filters.name ? 'No workflow matches these filters.' : <>No workflows yet: <code className="font-mono text-xs">POST /api/v1/workflows</code> with its steps.</>}
          </Empty>
        )}
      >
        {workflows.isPending && [0, 1].map((i) => <tr key={i}><td colSpan={5} className="px-4 py-3"><Skeleton /></td></tr>)}
        {items.map((w) => (
          <tr key={w.id} data-workflow={w.id} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
            <td className="px-4 py-2 font-medium">
              <Link to={`/workflows/${w.id}`} className="hover:underline">{w.name}</Link>
              <div className="font-mono text-xs font-normal text-zinc-500">{w.id.slice(0, 13)}…</div>
            </td>
            <td className="px-4 py-2"><StateBadge state={w.state} />{w.cancel_requested && w.state === 'running' && <span className="ml-2 text-xs text-zinc-500">cancelling</span>}</td>
            <td className="px-4 py-2"><StepsBar workflow={w} /></td>
            <td className="px-4 py-2 whitespace-nowrap" title={formatTime(w.created_at)}>{relativeTime(w.created_at)}</td>
            <td className="px-4 py-2 text-right tabular-nums">{w.duration_ms != null ? formatDuration(w.duration_ms) : '—'}</td>
          </tr>
        ))}
      </DataTable>
      <PagerButtons pager={pager} nextCursor={workflows.data?.next_cursor} />
    </>
  );
}
