import { Fragment, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ChevronDown, ChevronRight, KeyRound, Pause, Pencil, Play, Trash2 } from 'lucide-react';
import { useCan, useMonitor, useMonitorRuns } from '@/api/queries';
import { BackLink, Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { ReasonDialog } from '@/components/ReasonDialog';
import { Badge } from '@/components/ui/badge';
import { ManagedBadge, managedHint, useManaged } from '@/components/ManagedBadge';
import { Button } from '@/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/dialog';
import { DataTable } from '@/components/ui/table';
import { formatDuration, formatTime, relativeTime } from '@/lib/utils';
import type { MonitorRun } from './monitorForm';
import { MonitorStateBadge } from './MonitorStateBadge';
import { PingUrls } from './PingUrls';
import { Sparkline } from './Sparkline';
import { successRate } from './sparkline';
import { useMonitorActions } from './useMonitorActions';

const outcomeStyles: Record<string, string> = {
  success: 'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  fail: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  timeout: 'bg-orange-50 text-orange-700 ring-orange-200 dark:bg-orange-950 dark:text-orange-300 dark:ring-orange-800',
  running: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
};

/** "Dec 3, 09:00:01": a run's time, short (the full start and end are its title). */
function shortTime(iso: unknown): string {
  if (typeof iso !== 'string') return '—';
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function runTimes(r: MonitorRun): string {
  return [r.started_at && `started ${formatTime(r.started_at)}`, r.finished_at && `finished ${formatTime(r.finished_at)}`, r.rid && `rid ${r.rid}`].filter(Boolean).join(', ');
}

export function MonitorDetailPage() {
  const { name = '' } = useParams();
  const monitor = useMonitor(name);
  const runs = useMonitorRuns(name);
  const managed = useManaged('Monitor', name);
  const canWrite = useCan('monitors.write');
  const actions = useMonitorActions();
  const navigate = useNavigate();
  const [open, setOpen] = useState<number | null>(null);
  const m = monitor.data;

  if (monitor.isPending) return <Skeleton className="h-40 w-full" />;
  if (!m) return <ErrorNote error={monitor.error ?? 'No such monitor.'} />;
  const items = runs.data?.items ?? [];
  const rate = successRate(items);

  return (
    <>
      <BackLink to="/monitors">Monitors</BackLink>
      <PageHeader
        title={<span className="flex flex-wrap items-center gap-3">{m.name}<MonitorStateBadge state={m.state} reason={m.reason} /><ManagedBadge kind="Monitor" name={m.name} managed={managed} /></span>}
        actions={canWrite && (
          <>
            {m.paused ? (
              <Button variant="outline" size="sm" onClick={() => actions.resume.mutate(m.name)} disabled={actions.busy}><Play className="h-4 w-4" /> Resume</Button>
            ) : (
              <ReasonDialog
                trigger={<Button variant="outline" size="sm" disabled={actions.busy}><Pause className="h-4 w-4" /> Pause</Button>}
                title={`Pause ${m.name}?`}
                description="It raises no alarm until resumed; pings are still recorded."
                confirmLabel="Pause monitor"
                onConfirm={(reason) => actions.pause.mutate({ name: m.name, reason })}
              />
            )}
            {managed ? (
              <Button variant="outline" size="sm" disabled title={managedHint('Monitor', m.name)}><Pencil className="h-4 w-4" /> Edit</Button>
            ) : (
              <Button variant="outline" size="sm" asChild>
                <Link to={`/monitors/${encodeURIComponent(m.name)}/edit`}><Pencil className="h-4 w-4" /> Edit</Link>
              </Button>
            )}
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={actions.busy || managed} title={managed ? managedHint('Monitor', m.name) : undefined}><Trash2 className="h-4 w-4" /> Delete</Button>}
              title={`Delete ${m.name}?`}
              description="Its runs go with it, and its ping URL stops working."
              confirmLabel="Delete monitor"
              destructive
              onConfirm={() => actions.remove.mutate(m.name, { onSuccess: () => navigate('/monitors', { replace: true }) })}
            />
          </>
        )}
      >
        {m.description}{m.cron ? ` (${m.timezone})` : ''}{m.paused && m.pause_reason ? ` · paused: ${m.pause_reason}` : ''}
      </PageHeader>
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="min-w-0 space-y-4">
          <Card>
            <CardHeader><CardTitle>Status</CardTitle></CardHeader>
            <CardContent>
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                <dt className="text-zinc-500">Expected</dt><dd>{m.description}{m.cron && <div className="font-mono text-xs text-zinc-500">{m.cron} ({m.timezone})</div>}</dd>
                <dt className="text-zinc-500">Grace</dt><dd>{formatDuration(m.grace_seconds * 1000)}</dd>
                {m.max_runtime_seconds != null && <><dt className="text-zinc-500">Max runtime</dt><dd>{formatDuration(m.max_runtime_seconds * 1000)}</dd></>}
                {m.start_grace_seconds != null && <><dt className="text-zinc-500">Start grace</dt><dd>{formatDuration(m.start_grace_seconds * 1000)}</dd></>}
                <dt className="text-zinc-500">Alert after</dt><dd>{m.failure_threshold === 1 ? 'the first failure' : `${m.failure_threshold} failures in a row`}{m.consecutive_failures > 0 && <span className="text-red-600 dark:text-red-400"> ({m.consecutive_failures} so far)</span>}</dd>
                <dt className="text-zinc-500">Last ping</dt><dd data-testid="last-ping">{m.last_ping_at ? <>{relativeTime(m.last_ping_at)} <span className="text-zinc-500">({formatTime(m.last_ping_at)})</span></> : 'never'}</dd>
                {!!m.running_since && <><dt className="text-zinc-500">Running since</dt><dd>{formatTime(m.running_since)}</dd></>}
                <dt className="text-zinc-500">Next due</dt><dd>{m.paused || !m.next_due_at ? '—' : <>{relativeTime(m.next_due_at)} <span className="text-zinc-500">({formatTime(m.next_due_at)})</span></>}</dd>
                <dt className="text-zinc-500">In this state</dt><dd>since {formatTime(m.state_changed_at)}</dd>
                <dt className="text-zinc-500">Slug</dt><dd className="font-mono text-xs">{m.slug}</dd>
                {m.tags.length > 0 && <><dt className="text-zinc-500">Tags</dt><dd className="flex flex-wrap gap-1">{m.tags.map((t) => <Badge key={t} className="bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700">{t}</Badge>)}</dd></>}
              </dl>
            </CardContent>
          </Card>
          <Card>
            <CardHeader>
              <CardTitle>Ping URLs</CardTitle>
              {canWrite && m.ping_url && (
                <ConfirmDialog
                  trigger={<Button variant="ghost" size="sm" disabled={actions.busy}><KeyRound className="h-3.5 w-3.5" /> New URL</Button>}
                  title="Give it a new ping URL?"
                  description="The old URL stops working at once: every pinger must be given the new one."
                  confirmLabel="Make a new URL"
                  destructive
                  onConfirm={() => actions.regenerate.mutate(m.name)}
                />
              )}
            </CardHeader>
            <CardContent><PingUrls monitor={m} /></CardContent>
          </Card>
        </div>
        <div className="min-w-0 space-y-2 lg:col-span-2">
          <div className="flex flex-wrap items-end justify-between gap-2">
            <h2 className="text-sm font-semibold">Runs</h2>
            <div className="flex items-center gap-3 text-xs text-zinc-500">
              {rate !== null && <span data-testid="success-rate">{Math.round(rate * 100)}% succeeded</span>}
              <Sparkline runs={runs.data?.items} count={50} label={`Recent runs of ${m.name}`} />
            </div>
          </div>
          <ErrorNote error={runs.error} />
          <DataTable
            columns={['', 'Outcome', 'When', { label: 'Duration', numeric: true }, { label: 'Exit', numeric: true }, 'From']}
            empty={runs.data && items.length === 0 && <Empty>No pings yet. Send one to a ping URL to see it here.</Empty>}
          >
            {runs.isPending && <tr><td colSpan={6} className="px-4 py-3"><Skeleton /></td></tr>}
            {items.map((r) => {
              const expanded = open === r.id;
              return (
                <Fragment key={r.id}>
                  <tr data-run={r.id} data-outcome={r.outcome} className={r.log ? 'cursor-pointer hover:bg-zinc-50 dark:hover:bg-zinc-800/50' : ''} onClick={() => r.log && setOpen(expanded ? null : r.id)}>
                    <td className="w-6 py-2 pl-3">
                      {r.log && (
                        <button type="button" aria-label={expanded ? 'Hide the log' : 'Show the log'} aria-expanded={expanded} className="text-zinc-500" onClick={(e) => { e.stopPropagation(); setOpen(expanded ? null : r.id); }}>
                          {expanded ? <ChevronDown className="h-4 w-4" /> : <ChevronRight className="h-4 w-4" />}
                        </button>
                      )}
                    </td>
                    <td className="px-4 py-2"><Badge className={outcomeStyles[r.outcome] ?? outcomeStyles.running}>{r.outcome}</Badge></td>
                    <td className="px-4 py-2 whitespace-nowrap" title={runTimes(r)}>{shortTime(r.finished_at ?? r.started_at ?? r.created_at)}</td>
                    <td className="px-4 py-2 text-right tabular-nums">{r.duration_ms != null ? formatDuration(r.duration_ms) : '—'}</td>
                    <td className="px-4 py-2 text-right tabular-nums">{r.exit_code ?? '—'}</td>
                    <td className="max-w-48 truncate px-4 py-2 text-xs text-zinc-500" title={r.user_agent ?? undefined}>{r.source_ip ?? '—'}{r.user_agent ? ` · ${r.user_agent}` : ''}</td>
                  </tr>
                  {expanded && r.log && (
                    <tr>
                      <td colSpan={6} className="bg-zinc-50 px-4 py-3 dark:bg-zinc-950">
                        <pre aria-label={`Log of run ${r.id}`} className="max-h-80 overflow-auto font-mono text-xs whitespace-pre-wrap">{r.log}</pre>
                        {r.log_truncated && <p className="mt-1 text-xs text-amber-700 dark:text-amber-400">The body was larger than 100 KB: the rest was cut off.</p>}
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </DataTable>
        </div>
      </div>
    </>
  );
}
