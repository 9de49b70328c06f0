import type { LiveStatus } from '@/live/events';
import { cn } from '@/lib/utils';

const labels: Record<LiveStatus, string> = {
  connecting: 'Connecting',
  connected: 'Live',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
};

const dots: Record<LiveStatus, string> = {
  connecting: 'bg-zinc-400',
  connected: 'bg-emerald-500',
  reconnecting: 'bg-amber-500 animate-pulse',
  offline: 'bg-red-500',
};

/** The stream's state; `announce` makes it the one live region screen readers hear (the header's), a copy stays quiet. */
export function LiveIndicator({ status, announce = true }: { status: LiveStatus; announce?: boolean }) {
  return (
    <span {...(announce ? { role: 'status', 'aria-live': 'polite' as const, 'data-live': status } : { 'data-live-copy': status })} className="inline-flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400">
      <span className={cn('h-2 w-2 rounded-full', dots[status])} aria-hidden />
      {labels[status]}
    </span>
  );
}
