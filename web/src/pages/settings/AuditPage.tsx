import { Fragment, useState } from 'react';
import { ChevronDown, ChevronRight, ScrollText } from 'lucide-react';
import type { AuditFilters } from '@/api/keys';
import { useAudit } from '@/api/queries';
import { FilterInput } from '@/components/FilterInput';
import { JsonView } from '@/components/JsonView';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { Badge } from '@/components/ui/badge';
import { Input, Label, Select } from '@/components/ui/input';
import { DataTable } from '@/components/ui/table';
import { PagerButtons, useUrlPager } from '@/lib/pager';
import { cn, formatTime, relativeTime } from '@/lib/utils';
import { toLocalInput } from '../schedules/scheduleForm';

const FILTERS = ['action', 'actor_type', 'target_type', 'target_id', 'since', 'until', 'cursor'] as const;

export function auditFiltersFrom(params: URLSearchParams): AuditFilters {
  const f: AuditFilters = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  return f;
}

const statusTone = (status: number) =>
  status < 300 ? 'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800'
    : status < 500 ? 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800'
      : 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800';

/** The audit log, newest first: who did what to which object, from where, and how it ended; filters in the address. */
export function AuditPage() {
  const pager = useUrlPager();
  const filters = auditFiltersFrom(pager.params);
  const audit = useAudit(filters);
  const [open, setOpen] = useState<string | null>(null);
  const text = (key: 'action' | 'target_type' | 'target_id', label: string, placeholder: string) => (
    <FilterInput id={`a-${key}`} label={label} value={filters[key]} placeholder={placeholder} onApply={(v) => pager.setFilter(key, v)} />
  );
  const time = (key: 'since' | 'until', label: string) => (
    <div className="space-y-1">
      <Label htmlFor={`a-${key}`}>{label}</Label>
      <Input
        id={`a-${key}`}
        type="datetime-local"
        value={toLocalInput(filters[key])}
        onChange={(e) => pager.setFilter(key, e.target.value ? new Date(e.target.value).toISOString() : '')}
      />
    </div>
  );

  return (
    <>
      <PageHeader title="Audit log">Every management action, refusals included; newest first.</PageHeader>
      <div className="mb-4 grid gap-3 sm:grid-cols-3 lg:grid-cols-6">
        {text('action', 'Action', 'queue.* or job.retry')}
        <div className="space-y-1">
          <Label htmlFor="a-actor_type">Actor</Label>
          <Select id="a-actor_type" value={filters.actor_type ?? ''} onChange={(e) => pager.setFilter('actor_type', e.target.value)}>
            <option value="">Anyone</option>
            <option value="user">People</option>
            <option value="api_key">API keys</option>
            <option value="system">The server</option>
          </Select>
        </div>
        {text('target_type', 'Target type', 'queue, job, …')}
        {text('target_id', 'Target', 'name or id')}
        {time('since', 'Since')}
        {time('until', 'Until')}
      </div>
      <ErrorNote error={audit.error} />
      <DataTable
        columns={['', 'Time', 'Actor', 'Action', 'Target', 'Result', 'From']}
        empty={audit.data?.items.length === 0 && (
          <Empty><ScrollText className="mx-auto mb-2 h-8 w-8 text-zinc-300 dark:text-zinc-700" aria-hidden />No entries match these filters.</Empty>
        )}
      >
        {audit.isPending && [0, 1, 2].map((i) => <tr key={i}><td colSpan={7} className="px-4 py-3"><Skeleton /></td></tr>)}
        {audit.data?.items.map((e) => {
          const expanded = open === e.id;
          return (
            <Fragment key={e.id}>
              <tr data-audit={e.action} className={cn('cursor-pointer hover:bg-zinc-50 dark:hover:bg-zinc-800/50', expanded && 'bg-zinc-50 dark:bg-zinc-800/50')} onClick={() => setOpen(expanded ? null : e.id)}>
                <td className="w-8 px-4 py-2">
                  <button type="button" aria-expanded={expanded} aria-label={`Details of ${e.action} at ${formatTime(e.time)}`} className="text-zinc-400">
                    {expanded ? <ChevronDown className="h-4 w-4" /> : <ChevronRight className="h-4 w-4" />}
                  </button>
                </td>
                <td className="px-4 py-2 whitespace-nowrap" title={formatTime(e.time)}>{relativeTime(e.time)}</td>
                <td className="px-4 py-2">
                  <div className="max-w-[14rem] truncate">{e.actor_name ?? e.actor_id ?? '—'}</div>
                  <div className="text-xs text-zinc-500">{e.actor_type.replace('_', ' ')}</div>
                </td>
                <td className="px-4 py-2 font-mono text-xs">{e.action}</td>
                <td className="px-4 py-2">
                  {e.target_type ? <><span className="text-zinc-500">{e.target_type}</span> <span className="font-mono text-xs">{e.target_id}</span></> : '—'}
                </td>
                <td className="px-4 py-2"><Badge className={statusTone(e.status)}>{e.status}</Badge></td>
                <td className="px-4 py-2 text-xs text-zinc-500">{e.ip ?? '—'}</td>
              </tr>
              {expanded && (
                <tr>
                  <td colSpan={7} className="bg-zinc-50 px-4 pt-1 pb-4 dark:bg-zinc-800/50">
                    <dl className="mb-2 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-xs">
                      <dt className="text-zinc-500">When</dt><dd>{formatTime(e.time)}</dd>
                      <dt className="text-zinc-500">Request</dt><dd className="font-mono">{e.request_id ?? '—'}</dd>
                      <dt className="text-zinc-500">Entry</dt><dd className="font-mono">{e.id}</dd>
                    </dl>
                    {e.details != null && <JsonView label="Details" value={e.details} />}
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </DataTable>
      <PagerButtons pager={pager} nextCursor={audit.data?.next_cursor} />
    </>
  );
}
