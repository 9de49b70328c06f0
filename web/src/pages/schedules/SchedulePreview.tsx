import { CalendarClock } from 'lucide-react';
import { ApiError } from '@/api/client';
import { useSchedulePreview } from '@/api/queries';
import { Skeleton } from '@/components/PageHeader';
import { formatTime } from '@/lib/utils';

/** "2026-12-04T02:30:00.000+01:00" → "Fri 2026-12-04", "02:30", "UTC+01:00": a fire time as read in its zone. */
export function splitLocal(local: string): { day: string; time: string; offset: string } {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(local);
  if (!m) return { day: local, time: '', offset: '' };
  const weekday = new Date(`${m[1]}T00:00:00Z`).toLocaleDateString('en-US', { weekday: 'short', timeZone: 'UTC' });
  const seconds = m[3] && m[3] !== ':00' ? m[3] : '';
  return { day: `${weekday} ${m[1]}`, time: `${m[2]}${seconds}`, offset: m[4] ? `UTC${m[4] === 'Z' ? '' : m[4]}` : '' };
}

/** What the timing fields mean, from the server: a description and the next fire times (in the zone, and here). */
export function SchedulePreview({ query }: { query: Record<string, string> | null }) {
  const preview = useSchedulePreview(query);
  const e = preview.error;
  const messages = e instanceof ApiError ? Object.entries(e.errors ?? {}).flatMap(([field, m]) => m.map((x) => `${field}: ${x}`)) : [];
  return (
    <div aria-label="Preview" aria-live="polite" className="rounded-md border border-zinc-200 bg-zinc-50 p-4 text-sm dark:border-zinc-800 dark:bg-zinc-950">
      <div className="mb-2 flex items-center gap-2 font-medium"><CalendarClock className="h-4 w-4 text-indigo-500" aria-hidden /> Preview</div>
      {!query && <p className="text-zinc-500">Type an expression or an interval.</p>}
      {query && preview.isPending && <Skeleton className="h-16 w-full" />}
      {query && e && (
        <div role="alert" data-preview-error className="space-y-1 text-red-700 dark:text-red-400">
          {messages.length ? messages.map((m) => <p key={m}>{m}</p>) : <p>{e instanceof Error ? e.message : String(e)}</p>}
        </div>
      )}
      {query && preview.data && !e && (
        <>
          <p className="font-medium" data-testid="schedule-description">{preview.data.description}</p>
          <p className="mt-3 mb-1 text-xs text-zinc-500 uppercase">Next fire times ({preview.data.timezone})</p>
          <ol className="space-y-1.5 text-xs" data-testid="schedule-next">
            {preview.data.next_local.map((local, i) => {
              const { day, time, offset } = splitLocal(local);
              return (
                <li key={local}>
                  <span className="font-medium">{day}</span> <span className="font-mono">{time}</span> <span className="text-zinc-500">{offset}</span>
                  <div className="text-zinc-500">{formatTime(preview.data.next[i])} your time</div>
                </li>
              );
            })}
          </ol>
        </>
      )}
    </div>
  );
}
