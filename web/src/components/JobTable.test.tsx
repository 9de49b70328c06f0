import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { job } from '@/test/fixtures';
import { JobTable } from './JobTable';

describe('JobTable', () => {
  it('shows its empty note only for a list that came back empty: not while loading, not beside rows', () => {
    const id = '0195b5b2-0000-7000-8000-0000000000e1';
    const table = (jobs: ReturnType<typeof job>[] | undefined) => (
      <MemoryRouter>
        <JobTable jobs={jobs as never} loading={jobs === undefined} empty={<p>Nothing here.</p>} />
      </MemoryRouter>
    );
    const { rerender } = render(table(undefined));
    expect(screen.queryByText('Nothing here.')).toBeNull();
    rerender(table([job(id)]));
    expect(screen.getByText(id)).toBeTruthy();
    expect(screen.queryByText('Nothing here.')).toBeNull();
    rerender(table([]));
    expect(screen.getByText('Nothing here.')).toBeTruthy();
    expect(screen.queryByText(id)).toBeNull();
  });
});
