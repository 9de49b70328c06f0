/**
 * The orders of the jobs list, as GET /api/v1/jobs takes them (`sort`): a column, `-` before it for descending; no
 * sort is `-created_at`, newest first. The address keeps the sort beside the filters.
 */
export const SORT_COLUMNS = ['created_at', 'run_at', 'finished_at', 'priority', 'attempt'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

export interface Sorted {
  column: SortColumn;
  desc: boolean;
}

export const DEFAULT_SORT: Sorted = { column: 'created_at', desc: true };

/** The sort an address holds; none (or one the console does not know) reads as the default. */
export function parseSort(value: string | undefined): Sorted {
  if (!value) return DEFAULT_SORT;
  const desc = value.startsWith('-');
  const column = (desc ? value.slice(1) : value) as SortColumn;
  return SORT_COLUMNS.includes(column) ? { column, desc } : DEFAULT_SORT;
}

/** The address's value for a sort: empty for the default, so the plain list keeps its plain address. */
export function sortParam(s: Sorted): string {
  return s.column === DEFAULT_SORT.column && s.desc === DEFAULT_SORT.desc ? '' : `${s.desc ? '-' : ''}${s.column}`;
}

/** The choices of the sort menu (the same orders as the column headers, for narrow screens that hide columns). */
export const SORT_OPTIONS: readonly { value: string; label: string }[] = [
  { value: '', label: 'Newest first' },
  { value: 'created_at', label: 'Oldest first' },
  { value: '-run_at', label: 'Run at, latest first' },
  { value: 'run_at', label: 'Run at, earliest first' },
  { value: '-finished_at', label: 'Finished, latest first' },
  { value: 'finished_at', label: 'Finished, earliest first' },
  { value: '-priority', label: 'Priority, highest first' },
  { value: 'priority', label: 'Priority, lowest first' },
  { value: '-attempt', label: 'Attempts, most first' },
  { value: 'attempt', label: 'Attempts, fewest first' },
];
