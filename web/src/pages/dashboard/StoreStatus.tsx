import { useReadiness } from '@/api/queries';
import { cn } from '@/lib/utils';

/** The store's status dot on the dashboard, from the server's readiness probe rather than assumed. */
export function StoreStatus() {
  const ready = useReadiness();
  const status = ready.isPending ? 'checking' : ready.isError ? 'unreachable' : ready.data;
  const color = status === 'ready' ? 'bg-emerald-500' : status === 'checking' ? 'bg-zinc-400' : 'bg-red-500';
  return (
    <span data-testid="store-status" data-status={status} className="ml-1 inline-flex items-center gap-1 text-xs text-zinc-500">
      <span className={cn('inline-block h-2 w-2 rounded-full', color)} aria-hidden />
      {status}
    </span>
  );
}
