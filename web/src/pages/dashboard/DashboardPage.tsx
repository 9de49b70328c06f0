import { Activity, CheckCircle2, Clock3, Cpu, Hourglass, XCircle } from 'lucide-react';
import { useStats, useWorkers } from '@/api/queries';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { formatDuration, formatTime } from '@/lib/utils';
import type { ReactNode } from 'react';

function Kpi({ label, value, icon }: { label: string; value: ReactNode; icon: ReactNode }) {
  return (
    <Card>
      <CardContent className="flex items-center justify-between">
        <div>
          <div className="text-xs font-medium tracking-wide text-zinc-500 uppercase">{label}</div>
          <div className="mt-1 text-2xl font-semibold tabular-nums" data-testid={`kpi-${label.toLowerCase().replace(/\s+/g, '-')}`}>{value}</div>
        </div>
        <div className="text-zinc-400">{icon}</div>
      </CardContent>
    </Card>
  );
}

export function DashboardPage() {
  const stats = useStats();
  const workers = useWorkers();
  const s = stats.data;
  const online = workers.data?.items.filter((w) => w.state === 'active' || w.state === 'quiet').length;
  const n = (v: number | undefined) => (v === undefined ? <Skeleton className="h-7 w-12" /> : v.toLocaleString());

  return (
    <>
      <PageHeader title="Dashboard">Jobs, queues and workers of this organization, live.</PageHeader>
      <ErrorNote error={stats.error} />
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-6">
        <Kpi label="Queued" value={n(s ? (s.counts.queued ?? 0) + (s.counts.scheduled ?? 0) : undefined)} icon={<Hourglass className="h-5 w-5" />} />
        <Kpi label="Running" value={n(s?.counts.running)} icon={<Activity className="h-5 w-5" />} />
        <Kpi label="Succeeded" value={n(s?.counts.succeeded)} icon={<CheckCircle2 className="h-5 w-5" />} />
        <Kpi label="Failed" value={n(s?.counts.failed)} icon={<XCircle className="h-5 w-5" />} />
        <Kpi label="Per minute" value={n(s?.throughput_last_minute)} icon={<Clock3 className="h-5 w-5" />} />
        <Kpi label="Workers online" value={n(online)} icon={<Cpu className="h-5 w-5" />} />
      </div>
      <div className="mt-6 grid gap-4 lg:grid-cols-3">
        <Card className="lg:col-span-2">
          <CardHeader>
            <CardTitle>Queues</CardTitle>
          </CardHeader>
          <CardContent className="p-0">
            {s && Object.keys(s.queues).length === 0 && <p className="p-4 text-sm text-zinc-500">No jobs yet. Enqueue one with the API or the CLI.</p>}
            <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {s &&
                Object.entries(s.queues).map(([name, counts]) => (
                  <li key={name} className="flex items-center justify-between px-4 py-2 text-sm">
                    <span className="font-medium">{name}</span>
                    <span className="text-zinc-500 tabular-nums">
                      {counts.queued ?? 0} queued · {counts.running ?? 0} running · {counts.failed ?? 0} failed
                    </span>
                  </li>
                ))}
            </ul>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>System</CardTitle>
          </CardHeader>
          <CardContent>
            {s ? (
              <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                <dt className="text-zinc-500">Version</dt>
                <dd data-testid="system-version">{s.system.version}</dd>
                <dt className="text-zinc-500">Store</dt>
                <dd>
                  {s.system.storage}
                  <div className="text-xs text-zinc-500">{s.system.durability}</div>
                </dd>
                <dt className="text-zinc-500">Uptime</dt>
                <dd>{formatDuration(s.system.uptime_ms)}</dd>
                <dt className="text-zinc-500">Started</dt>
                <dd>{formatTime(s.system.started_at)}</dd>
              </dl>
            ) : (
              <Skeleton className="h-20 w-full" />
            )}
          </CardContent>
        </Card>
      </div>
    </>
  );
}
