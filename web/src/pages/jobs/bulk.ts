import { api, unwrap, type Stats } from '@/api/client';
import { jobQuery, type JobFilters } from '@/api/keys';

export type BulkAction = 'retry' | 'cancel' | 'delete';

/** What a bulk action does to each job, for the confirm dialog. */
export const BULK_WORDS: Record<BulkAction, { verb: string; done: string; note: string }> = {
  retry: { verb: 'Retry', done: 'queued again', note: 'Failed and cancelled jobs go back to their queues; others are skipped.' },
  cancel: { verb: 'Cancel', done: 'cancelled', note: 'Waiting jobs are cancelled at once, running ones asked to stop; finished ones are skipped.' },
  delete: { verb: 'Delete', done: 'deleted', note: 'Jobs are removed for good with their attempts and logs; running ones are skipped.' },
};

/** The list's filter as the bulk endpoints take it. */
export function bulkFilter(f: JobFilters) {
  const q = jobQuery(f);
  return { state: q.state ?? null, queue: q.queue ?? null, type: q.type ?? null, tag: q.tag ?? null, created_after: q.created_after ?? null, created_before: null };
}

/**
 * How many jobs match the filter, from the counts the server keeps (per state, per queue and state), when the filter
 * is only by state and queue; null when it also names a type or tag (those are not counted ahead).
 */
export function countFromStats(f: JobFilters, stats: Pick<Stats, 'counts' | 'queues'>): number | null {
  if (f.type || f.tag || f.q || f.since) return null;
  const counts = f.queue ? stats.queues[f.queue] ?? {} : stats.counts;
  if (f.state) return counts[f.state] ?? 0;
  return Object.values(counts).reduce((n, c) => n + c, 0);
}

/** Counts the matching jobs by paging through the list, up to `cap`; `more` when there are more than that. */
export async function countByPaging(f: JobFilters, cap = 5000): Promise<{ count: number; more: boolean }> {
  let count = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await unwrap(api.GET('/api/v1/jobs', { params: { query: { ...jobQuery({ ...f, cursor: undefined, sort: undefined }), limit: '500', cursor } } }));
    count += page.items.length;
    if (!page.next_cursor) return { count, more: false };
    if (count >= cap) return { count, more: true };
    cursor = page.next_cursor;
  }
}

export async function runBulk(action: BulkAction, target: { ids: string[] } | { filter: JobFilters }) {
  const body = 'ids' in target ? { ids: target.ids, filter: null } : { ids: null, filter: bulkFilter(target.filter) };
  const path = action === 'retry' ? '/api/v1/jobs/bulk-retry' : action === 'cancel' ? '/api/v1/jobs/bulk-cancel' : '/api/v1/jobs/bulk-delete';
  return unwrap(api.POST(path, { body }));
}
