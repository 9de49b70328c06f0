import { CalendarClock } from 'lucide-react';
import { ApiError } from '@/api/client';
import { useSchedulePreview } from '@/api/queries';
import { Skeleton } from '@/components/PageHeader';
import { formatTime } from '@/lib/utils';

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
          <ol className="space-y-0.5 font-mono text-xs" data-testid="schedule-next">
            {preview.data.next_local.map((local, i) => (
              <li key={local}>
                {local.replace('T', ' ')}
                <span className="ml-2 font-sans text-zinc-500">{formatTime(preview.data.next[i])} here</span>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
