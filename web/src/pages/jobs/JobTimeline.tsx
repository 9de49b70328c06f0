import type { Job } from '@/api/client';
import { cn, formatTime } from '@/lib/utils';
import { timelineOf, type TimelineEntry } from './timeline';

const dots: Record<TimelineEntry['tone'], string> = {
  neutral: 'bg-zinc-400',
  running: 'bg-amber-500',
  good: 'bg-emerald-500',
  bad: 'bg-red-500',
};

export function JobTimeline({ job }: { job: Job }) {
  const entries = timelineOf(job);
  return (
    <ol aria-label="Timeline" className="relative ml-1.5 border-l border-zinc-200 dark:border-zinc-800">
      {entries.map((e, i) => (
        <li key={i} className="mb-3 ml-4 last:mb-0">
          <span className={cn('absolute -left-[5px] mt-1.5 h-2.5 w-2.5 rounded-full ring-2 ring-white dark:ring-zinc-900', dots[e.tone])} aria-hidden />
          <div className="text-sm font-medium">{e.label}</div>
          <div className="text-xs text-zinc-500">
            <time dateTime={e.at}>{formatTime(e.at)}</time>
            {e.detail && <> · <span className="break-words">{e.detail}</span></>}
          </div>
        </li>
      ))}
    </ol>
  );
}
