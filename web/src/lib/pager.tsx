import { useSearchParams } from 'react-router';
import { Button } from '@/components/ui/button';

/**
 * Cursor pages kept in the address: ?cursor= is the page shown, ?prev= the cursors of the pages before it (so
 * "Previous" can go back and a shared address shows the same page). Changing a filter starts at the first page again.
 */
export function useUrlPager() {
  const [params, setParams] = useSearchParams();
  const prev = params.getAll('prev');
  const cursor = params.get('cursor') ?? undefined;

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    next.delete('cursor');
    next.delete('prev');
    setParams(next);
  };
  const go = (to: string | null | undefined, back: boolean) => {
    const next = new URLSearchParams(params);
    next.delete('prev');
    const stack = back ? prev.slice(0, -1) : [...prev, cursor ?? ''];
    stack.forEach((c) => next.append('prev', c));
    if (to) next.set('cursor', to);
    else next.delete('cursor');
    setParams(next);
  };
  return { params, cursor, setFilter, previous: () => go(prev[prev.length - 1], true), next: (c: string | null | undefined) => go(c, false) };
}

export function PagerButtons({ pager, nextCursor }: { pager: ReturnType<typeof useUrlPager>; nextCursor: string | null | undefined }) {
  return (
    <div className="mt-4 flex justify-end gap-2">
      <Button variant="outline" size="sm" disabled={!pager.cursor} onClick={pager.previous}>
        Previous
      </Button>
      <Button variant="outline" size="sm" disabled={!nextCursor} onClick={() => pager.next(nextCursor)}>
        Next
      </Button>
    </div>
  );
}
