import type { ReactNode } from 'react';
import { Card } from './card';
import { cn } from '@/lib/utils';

/** A column header: its label (or a node, e.g. a select-all box), and whether its cells are numbers (right-aligned). */
export type Column = string | { label: string; numeric?: boolean; node?: ReactNode };

/** A list as a table in a card: header row from the columns, body rows from the children, an empty state below. */
export function DataTable({ columns, children, empty }: { columns: Column[]; children: ReactNode; empty?: ReactNode }) {
  return (
    <Card className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="border-b border-zinc-200 text-xs text-zinc-500 uppercase dark:border-zinc-800">
          <tr>
            {columns.map((c, i) => {
              const { label, numeric, node } = typeof c === 'string' ? { label: c, numeric: false, node: undefined } : c;
              return (
                <th key={label || i} className={cn('px-4 py-2 font-medium whitespace-nowrap', numeric && 'text-right')}>
                  {node ?? label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">{children}</tbody>
      </table>
      {empty}
    </Card>
  );
}
