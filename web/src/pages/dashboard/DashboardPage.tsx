import { useMemo, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { Activity, CheckCircle2, Clock3, Cpu, Hourglass, XCircle } from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { Chart } from '@/components/chart/Chart';
import { LiveIndicator } from '@/components/LiveIndicator';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { describeEvent, useLiveStatus, useRecentActivity } from '@/live/activity';
import { cn, formatCount, formatDuration, formatTime, relativeTime } from '@/lib/utils';
import { useIdle } from '@/lib/useIdle';
import { StoreStatus } from './StoreStatus';
import type { Stats } from '@/api/client';
import { COLORS, metricSeries, timeChart, total } from './charts';
import { DASHBOARD_SERIES } from './early';
import { dashboardQueries } from './preload';

/** The organization's queues, the deepest (most queued) first. */
export function queuesByDepth(stats: Stats | undefined): string[] {
  return stats ? Object.entries(stats.queues).sort(([, a], [, b]) => (b.queued ?? 0) - (a.queued ?? 0)).map(([name]) => name) : [];
}

function Kpi({ label, value, icon, to }: { label: string; value: ReactNode; icon: ReactNode; to?: string }) {
  const body = (
    <CardContent className="flex items-center justify-between">
      <div>
        <div className="text-xs font-medium tracking-wide text-zinc-500 uppercase">{label}</div>
        <div className="mt-1 text-2xl font-semibold tabular-nums" data-testid={`kpi-${label.toLowerCase().replace(/\s+/g, '-')}`}>{value}</div>
      </div>
      <div className="text-zinc-400">{icon}</div>
    </CardContent>
  );
  return <Card className={to ? 'hover:border-indigo-300 dark:hover:border-indigo-800' : undefined}>{to ? <Link to={to}>{body}</Link> : body}</Card>;
}

/** Two or three choices as a small segmented switch (last hour / last day). */
function Segmented<T extends string>({ value, options, onChange, label }: { value: T; options: Record<T, string>; onChange: (v: T) => void; label: string }) {
  return (
    <div role="group" aria-label={label} className="inline-flex rounded-md border border-zinc-200 p-0.5 text-xs dark:border-zinc-800">
      {(Object.keys(options) as T[]).map((k) => (
        <button
          key={k}
          type="button"
          aria-pressed={value === k}
          onClick={() => onChange(k)}
          className={cn('rounded px-2 py-0.5', value === k ? 'bg-zinc-100 font-medium dark:bg-zinc-800' : 'text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200')}
        >
          {options[k]}
        </button>
      ))}
    </div>
  );
}

const QUEUE_COLORS = ['#6366f1', '#10b981', '#f59e0b', '#ef4444', '#06b6d4', '#a855f7', '#84cc16', '#ec4899'];

function ThroughputCard() {
  const [step, setStep] = useState<'minute' | 'hour'>(DASHBOARD_SERIES.throughput.step);
  const series = useQuery({ ...dashboardQueries.throughput(step), placeholderData: (previous) => previous });
  const option = useMemo(() => timeChart(metricSeries(series.data)), [series.data]);
  return (
    <Card className="lg:col-span-2">
      <CardHeader>
        <CardTitle>Throughput</CardTitle>
        <Segmented label="Throughput period" value={step} options={{ minute: 'Last hour', hour: 'Last day' }} onChange={setStep} />
      </CardHeader>
      <CardContent>
        <ErrorNote error={series.error} />
        <Chart option={option} loading={series.isPending} label={`Jobs enqueued, succeeded and failed per ${step}`} />
      </CardContent>
    </Card>
  );
}

/** Queue depth over the last hour, one line per queue (up to eight, the deepest over the hour; the API ranks them). */
function DepthCard({ hasQueues }: { hasQueues: boolean }) {
  const depth = useQuery(dashboardQueries.depth);
  const option = useMemo(
    () => timeChart((depth.data?.series ?? []).map((s, i) => ({ name: s.queue ?? '', color: QUEUE_COLORS[i % QUEUE_COLORS.length], points: s.points }))),
    [depth.data],
  );
  return (
    <Card>
      <CardHeader><CardTitle>Queue depth</CardTitle><span className="text-xs text-zinc-500">last hour</span></CardHeader>
      <CardContent>
        <ErrorNote error={depth.error} />
        {hasQueues ? <Chart option={option} loading={depth.isPending} label="Jobs waiting per queue, per minute" /> : <p className="py-16 text-center text-sm text-zinc-500">No queues yet.</p>}
      </CardContent>
    </Card>
  );
}

function SuccessRateCard() {
  const [step, setStep] = useState<'hour' | 'day'>(DASHBOARD_SERIES.successRate.step);
  const series = useQuery({ ...dashboardQueries.successRate(step), placeholderData: (previous) => previous });
  const option = useMemo(() => timeChart(metricSeries(series.data), { kind: 'bar', percent: true }), [series.data]);
  return (
    <Card>
      <CardHeader>
        <CardTitle>Success rate</CardTitle>
        <Segmented label="Success rate period" value={step} options={{ hour: 'By hour', day: 'By day' }} onChange={setStep} />
      </CardHeader>
      <CardContent>
        <ErrorNote error={series.error} />
        <Chart option={option} loading={series.isPending} label={`Share of finished jobs that succeeded, by ${step}`} />
      </CardContent>
    </Card>
  );
}

function ActivityCard() {
  const events = useRecentActivity();
  const idle = useIdle();
  return (
    <Card>
      <CardHeader><CardTitle>Recent activity</CardTitle><span className="text-xs text-zinc-500">live</span></CardHeader>
      <CardContent className="p-0">
        {events.length === 0 && <p className="p-4 text-sm text-zinc-500">Nothing yet: events show here as they happen.</p>}
        <ul className="max-h-80 divide-y divide-zinc-200 overflow-y-auto dark:divide-zinc-800" aria-label="Recent activity">
          {events.map((e) => {
            const { text, href } = describeEvent(e);
            const tone = e.type.endsWith('failed') || e.type.endsWith('lost') || e.type.endsWith('misfired') ? 'bg-red-500' : e.type.endsWith('succeeded') ? 'bg-emerald-500' : 'bg-zinc-400';
            return (
              <li key={e.id} className="flex items-start gap-3 px-4 py-2 text-sm">
                <span className={cn('mt-1.5 h-2 w-2 shrink-0 rounded-full', tone)} aria-hidden />
                <span className="min-w-0 flex-1 truncate">{href ? <Link to={href} className="hover:underline">{text}</Link> : text}</span>
                <time className="shrink-0 text-xs text-zinc-500" dateTime={e.time} title={idle ? formatTime(e.time) : undefined}>{relativeTime(e.time)}</time>
              </li>
            );
          })}
        </ul>
      </CardContent>
    </Card>
  );
}

export function DashboardPage() {
  const stats = useQuery(dashboardQueries.stats);
  const workers = useQuery(dashboardQueries.workers);
  const day = useQuery(dashboardQueries.day);
  const live = useLiveStatus();
  const s = stats.data;
  const online = workers.data?.items.filter((w) => w.state === 'active' || w.state === 'quiet').length;
  const n = (v: number | undefined) => (v === undefined ? <Skeleton className="h-7 w-12" /> : formatCount(v));
  // Dates in the reader's locale (Intl) once the page has drawn: the first use of ICU is slow.
  const idle = useIdle();
  const queues = queuesByDepth(s);

  return (
    <>
      <PageHeader title="Dashboard">Jobs, queues and workers of this organization, live.</PageHeader>
      <ErrorNote error={stats.error} />
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-6">
        <Kpi label="Queued" to="/jobs?state=queued" value={n(s ? (s.counts.queued ?? 0) + (s.counts.scheduled ?? 0) : undefined)} icon={<Hourglass className="h-5 w-5" />} />
        <Kpi label="Running" to="/jobs?state=running" value={n(s?.counts.running)} icon={<Activity className="h-5 w-5" />} />
        <Kpi label="Succeeded 24h" value={n(total(day.data, 'succeeded'))} icon={<CheckCircle2 className="h-5 w-5" style={{ color: COLORS.succeeded }} />} />
        <Kpi label="Failed 24h" to="/jobs?state=failed&since=24h" value={n(total(day.data, 'failed'))} icon={<XCircle className="h-5 w-5" style={{ color: COLORS.failed }} />} />
        <Kpi label="Per minute" value={n(s?.throughput_last_minute)} icon={<Clock3 className="h-5 w-5" />} />
        <Kpi label="Workers online" to="/workers" value={n(online)} icon={<Cpu className="h-5 w-5" />} />
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-3">
        <ThroughputCard />
        <Card>
          <CardHeader><CardTitle>System</CardTitle><LiveIndicator status={live} announce={false} /></CardHeader>
          <CardContent>
            {s ? (
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                <dt className="text-zinc-500">Version</dt>
                <dd data-testid="system-version">{s.system.version}</dd>
                <dt className="text-zinc-500">Store</dt>
                <dd>
                  {s.system.storage} <StoreStatus />
                  <div className="text-xs text-zinc-500">{s.system.durability}</div>
                </dd>
                <dt className="text-zinc-500">Uptime</dt>
                <dd>{formatDuration(s.system.uptime_ms)}</dd>
                <dt className="text-zinc-500">Started</dt>
                <dd>{idle ? formatTime(s.system.started_at) : '\u00a0'}</dd>
                <dt className="text-zinc-500">Workers</dt>
                <dd>{online ?? '—'} online of {workers.data?.items.length ?? '—'}</dd>
              </dl>
            ) : (
              <Skeleton className="h-20 w-full" />
            )}
          </CardContent>
        </Card>
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <DepthCard hasQueues={s === undefined || queues.length > 0} />
        <SuccessRateCard />
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader><CardTitle>Queues</CardTitle><Link to="/queues" className="text-xs text-indigo-600 hover:underline dark:text-indigo-400">All queues</Link></CardHeader>
          <CardContent className="p-0">
            {s && queues.length === 0 && <p className="p-4 text-sm text-zinc-500">No jobs yet. Enqueue one with the API, the CLI or <Link to="/jobs/new" className="text-indigo-600 hover:underline dark:text-indigo-400">the console</Link>.</p>}
            <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {s && queues.map((name) => {
                const counts = s.queues[name] ?? {};
                return (
                  <li key={name} className="flex items-center justify-between gap-2 px-4 py-2 text-sm">
                    <Link to={`/queues/${encodeURIComponent(name)}`} className="truncate font-medium hover:underline">{name}</Link>
                    <span className="shrink-0 text-zinc-500 tabular-nums">
                      {counts.queued ?? 0} queued · {counts.running ?? 0} running · {counts.failed ?? 0} failed
                    </span>
                  </li>
                );
              })}
            </ul>
          </CardContent>
        </Card>
        <ActivityCard />
      </div>
    </>
  );
}
