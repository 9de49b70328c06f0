import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Ban, ChevronDown, RotateCcw, Trash2, X } from 'lucide-react';
import type { JobFilters } from '@/api/keys';
import { keys } from '@/api/keys';
import { useStats } from '@/api/queries';
import { Button } from '@/components/ui/button';
import { Modal } from '@/components/ui/dialog';
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from '@/components/ui/dropdown-menu';
import { Skeleton } from '@/components/PageHeader';
import { toast } from '@/lib/toast';
import { BULK_WORDS, countByPaging, countFromStats, runBulk, type BulkAction } from './bulk';

const icons = { retry: RotateCcw, cancel: Ban, delete: Trash2 } as const;
const ACTIONS: BulkAction[] = ['retry', 'cancel', 'delete'];

/** How many jobs the filter matches: from the server's counts when it can, else by paging the list (capped). */
function useMatchCount(filters: JobFilters, enabled: boolean) {
  const stats = useStats();
  const fromStats = stats.data ? countFromStats(filters, stats.data) : null;
  const paged = useQuery({
    queryKey: ['jobs', 'count', filters],
    queryFn: () => countByPaging(filters),
    enabled: enabled && stats.isSuccess && fromStats === null,
    staleTime: 0,
  });
  if (fromStats !== null) return { count: fromStats, more: false, pending: false };
  return { count: paged.data?.count ?? 0, more: paged.data?.more ?? false, pending: enabled && !paged.data };
}

/**
 * Bulk retry, cancel and delete: of the selected jobs, or of every job the filters match (the confirm dialog says how
 * many). The server does the work in batches and answers how many it changed and skipped.
 */
export function BulkActions({ filters, selected, onDone }: { filters: JobFilters; selected: string[]; onDone: () => void }) {
  const [pending, setPending] = useState<{ action: BulkAction; scope: 'selected' | 'matching' } | null>(null);
  const match = useMatchCount(filters, pending?.scope === 'matching');
  const qc = useQueryClient();
  const run = useMutation({
    mutationFn: (p: { action: BulkAction; scope: 'selected' | 'matching' }) =>
      runBulk(p.action, p.scope === 'selected' ? { ids: selected } : { filter: filters }),
    onSuccess: (r, p) => {
      void qc.invalidateQueries({ queryKey: keys.jobs });
      void qc.invalidateQueries({ queryKey: keys.stats });
      void qc.invalidateQueries({ queryKey: keys.queues });
      const skipped = r.skipped + r.not_found;
      toast.success(`${r.count.toLocaleString()} job${r.count === 1 ? '' : 's'} ${BULK_WORDS[p.action].done}`, skipped ? `${skipped.toLocaleString()} skipped` : undefined);
      setPending(null);
      onDone();
    },
    onError: (e) => toast.error(e),
  });
  const filtered = Object.entries(filters).some(([k, v]) => k !== 'cursor' && v);
  const count = pending?.scope === 'selected' ? selected.length : match.count;
  const words = pending ? BULK_WORDS[pending.action] : null;

  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="bulk-actions">
      {selected.length > 0 && (
        <>
          <span className="text-sm font-medium">{selected.length} selected</span>
          {ACTIONS.map((a) => {
            const Icon = icons[a];
            return (
              <Button key={a} variant="outline" size="sm" onClick={() => setPending({ action: a, scope: 'selected' })}>
                <Icon className="h-3.5 w-3.5" /> {BULK_WORDS[a].verb}
              </Button>
            );
          })}
          <Button variant="ghost" size="sm" onClick={onDone} aria-label="Clear the selection"><X className="h-3.5 w-3.5" /></Button>
        </>
      )}
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          {/* The bulk endpoints take the list's filters, not a search: a search's results are acted on by selection. */}
          <Button variant="outline" size="sm" disabled={!!filters.q} title={filters.q ? 'Select the jobs to act on: bulk actions by filter do not take a search' : undefined}>
            All {filtered ? 'matching' : 'jobs'} <ChevronDown className="h-3.5 w-3.5" />
          </Button>
        </DropdownMenuTrigger>
        <DropdownMenuContent align="end">
          {ACTIONS.map((a) => {
            const Icon = icons[a];
            return (
              <DropdownMenuItem key={a} onSelect={() => setPending({ action: a, scope: 'matching' })}>
                <Icon className="h-4 w-4" /> {BULK_WORDS[a].verb} every {filtered ? 'matching ' : ''}job…
              </DropdownMenuItem>
            );
          })}
        </DropdownMenuContent>
      </DropdownMenu>
      <Modal
        open={!!pending}
        onOpenChange={(o) => !o && setPending(null)}
        title={pending && words ? `${words.verb} ${pending.scope === 'selected' ? 'the selected' : filtered ? 'every matching' : 'every'} job?` : ''}
      >
        {pending && words && (
          <div className="space-y-4 text-sm">
            {pending.scope === 'matching' && match.pending ? (
              <Skeleton className="h-5 w-48" />
            ) : (
              <p>
                This {words.verb.toLowerCase()}s <strong data-testid="bulk-count">{count.toLocaleString()}{pending.scope === 'matching' && match.more ? '+' : ''}</strong> job
                {count === 1 ? '' : 's'}{pending.scope === 'matching' && filtered ? ' matching the filters' : ''}.
              </p>
            )}
            <p className="text-zinc-500">{words.note}</p>
            <div className="flex justify-end gap-2">
              <Button variant="outline" onClick={() => setPending(null)}>Keep them</Button>
              <Button
                variant={pending.action === 'retry' ? 'default' : 'destructive'}
                disabled={run.isPending || (pending.scope === 'matching' && match.pending) || count === 0}
                onClick={() => run.mutate(pending)}
              >
                {run.isPending ? 'Working…' : `${words.verb} ${count.toLocaleString()}${pending.scope === 'matching' && match.more ? '+' : ''} job${count === 1 ? '' : 's'}`}
              </Button>
            </div>
          </div>
        )}
      </Modal>
    </div>
  );
}
