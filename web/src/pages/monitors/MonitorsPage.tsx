import { Link, useSearchParams } from 'react-router';
import { useQueries } from '@tanstack/react-query';
import { HeartPulse, Pause, Play, Plus } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useMonitors } from '@/api/queries';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { ReasonDialog } from '@/components/ReasonDialog';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Select } from '@/components/ui/input';
import { DataTable } from '@/components/ui/table';
import { formatTime, relativeTime } from '@/lib/utils';
import { MonitorStateBadge } from './MonitorStateBadge';
import { OrganizationPingKey } from './OrganizationPingKey';
import { Sparkline } from './Sparkline';
import { useMonitorActions } from './useMonitorActions';
import { ManagedBadge, useManagedObjects } from '@/components/ManagedBadge';

const STATES = ['new', 'up', 'late', 'down', 'paused'] as const;
const SPARK_RUNS = 30;

/** Check-in monitors: their state, the sparkline of their latest runs, last ping and next due time. */
export function MonitorsPage() {
  const monitors = useMonitors();
  const managed = useManagedObjects().data;
  const canWrite = useCan('monitors.write');
  const actions = useMonitorActions();
  const [params, setParams] = useSearchParams();
  const state = params.get('state') ?? '';
  const all = monitors.data?.items ?? [];
  const items = state ? all.filter((m) => m.state === state) : all;
  // Each monitor's latest runs, for its sparkline (the same query its page reads, kept fresh by monitor events).
  const runs = useQueries({
    queries: items.map((m) => ({
      queryKey: keys.monitorRuns(m.name, SPARK_RUNS),
      queryFn: () => unwrap(api.GET('/api/v1/monitors/{name}/runs', { params: { path: { name: m.name }, query: { limit: String(SPARK_RUNS) } } })),
      refetchInterval: 30_000,
    })),
  });
  const counts = Object.fromEntries(STATES.map((s) => [s, all.filter((m) => m.state === s).length]));

  return (
    <>
      <PageHeader
        title="Monitors"
        actions={canWrite && (
          <Button asChild size="sm">
            <Link to="/monitors/new"><Plus className="h-4 w-4" /> New monitor</Link>
          </Button>
        )}
      >
        Jobs that run elsewhere (a crontab line, a CI job) ping Kairos; a ping that does not come in time raises the alarm.
      </PageHeader>
      <div className="mb-4 flex flex-wrap items-center gap-3">
        <Select aria-label="State" className="w-44" value={state} onChange={(e) => setParams(e.target.value ? { state: e.target.value } : {})}>
          <option value="">Every state ({all.length})</option>
          {STATES.map((s) => <option key={s} value={s}>{s} ({counts[s]})</option>)}
        </Select>
        {(counts.down ?? 0) > 0 && <Badge className="bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800">{counts.down} down</Badge>}
        {(counts.late ?? 0) > 0 && <Badge className="bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800">{counts.late} late</Badge>}
      </div>
      <ErrorNote error={monitors.error} />
      <DataTable
        columns={['Name', 'State', 'Expected', 'Recent runs', 'Last ping', 'Next due', '']}
        empty={monitors.data && items.length === 0 && (
          <Empty>
            <HeartPulse className="mx-auto mb-2 h-8 w-8 text-zinc-300 dark:text-zinc-700" aria-hidden />
            {state ? `No monitor is ${state}.` : <>No monitors yet.{canWrite && <> <Link to="/monitors/new" className="text-indigo-600 hover:underline dark:text-indigo-400">Create the first one</Link>.</>}</>}
          </Empty>
        )}
      >
        {monitors.isPending && [0, 1].map((i) => <tr key={i}><td colSpan={7} className="px-4 py-3"><Skeleton /></td></tr>)}
        {items.map((m, i) => (
          <tr key={m.id} data-monitor={m.name} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
            <td className="px-4 py-2 font-medium">
              <Link to={`/monitors/${encodeURIComponent(m.name)}`} className="hover:underline">{m.name}</Link>
              {' '}<ManagedBadge kind="Monitor" name={m.name} managed={managed?.has(`Monitor/${m.name}`) ?? false} />
              {m.tags.length > 0 && <div className="text-xs font-normal text-zinc-500">{m.tags.join(', ')}</div>}
            </td>
            <td className="px-4 py-2"><MonitorStateBadge state={m.state} reason={m.reason} /></td>
            <td className="px-4 py-2">
              <span className="text-xs">{m.description}</span>
              {m.cron && <div className="font-mono text-xs text-zinc-500">{m.cron} ({m.timezone})</div>}
            </td>
            <td className="px-4 py-2"><Sparkline runs={runs[i]?.data?.items} count={SPARK_RUNS} label={`Recent runs of ${m.name}`} /></td>
            <td className="px-4 py-2 whitespace-nowrap" title={formatTime(m.last_ping_at)}>{m.last_ping_at ? relativeTime(m.last_ping_at) : <span className="text-zinc-400">never</span>}</td>
            <td className="px-4 py-2 whitespace-nowrap" title={formatTime(m.next_due_at)}>{m.paused || !m.next_due_at ? <span className="text-zinc-400">—</span> : relativeTime(m.next_due_at)}</td>
            <td className="px-4 py-2 text-right whitespace-nowrap">
              {canWrite && (m.paused ? (
                <Button variant="ghost" size="sm" aria-label={`Resume ${m.name}`} title="Resume" disabled={actions.busy} onClick={() => actions.resume.mutate(m.name)}>
                  <Play className="h-3.5 w-3.5" />
                </Button>
              ) : (
                <ReasonDialog
                  trigger={<Button variant="ghost" size="sm" aria-label={`Pause ${m.name}`} title="Pause" disabled={actions.busy}><Pause className="h-3.5 w-3.5" /></Button>}
                  title={`Pause ${m.name}?`}
                  description="It raises no alarm until resumed; pings are still recorded."
                  confirmLabel="Pause monitor"
                  onConfirm={(reason) => actions.pause.mutate({ name: m.name, reason })}
                />
              ))}
            </td>
          </tr>
        ))}
      </DataTable>
      {canWrite && <OrganizationPingKey />}
    </>
  );
}
