import { describe, expect, it } from 'vitest';
import { parseSort, SORT_COLUMNS, SORT_OPTIONS, sortParam } from './jobSort';

describe('jobSort', () => {
  it('reads the address: none or an unknown sort is newest first', () => {
    expect(parseSort(undefined)).toEqual({ column: 'created_at', desc: true });
    expect(parseSort('')).toEqual({ column: 'created_at', desc: true });
    expect(parseSort('-payload')).toEqual({ column: 'created_at', desc: true });
    expect(parseSort('priority')).toEqual({ column: 'priority', desc: false });
    expect(parseSort('-finished_at')).toEqual({ column: 'finished_at', desc: true });
  });

  it('writes every sort back as the API spells it, the default as nothing', () => {
    for (const column of SORT_COLUMNS) {
      for (const desc of [false, true]) {
        const value = sortParam({ column, desc });
        expect(value).toBe(column === 'created_at' && desc ? '' : `${desc ? '-' : ''}${column}`);
        expect(parseSort(value)).toEqual({ column, desc });
      }
    }
  });

  it('offers each order once in the menu', () => {
    expect(new Set(SORT_OPTIONS.map((o) => sortParam(parseSort(o.value)))).size).toBe(SORT_COLUMNS.length * 2);
  });
});
