import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderAt } from '@/test/render';
import { filtersFrom, JobsPage } from './JobsPage';

const job = (id: string, state: string) => ({
  id, queue: 'mail', type: 'email.send', payload: {}, state, priority: 0, run_at: null, attempt: 1, max_attempts: 3, timeout_ms: null,
  unique_key: null, tags: [], result: null, progress: null, cancel_requested: false, created_at: new Date().toISOString(), started_at: null,
  finished_at: null, worker_id: null, lease_expires_at: null, last_error: null, attempts: null, logs: null, deduplicated: null,
});

afterEach(() => vi.unstubAllGlobals());

describe('JobsPage', () => {
  it('reads its filters from the address and asks the API for them', async () => {
    const calls = fakeApi({
      'GET /api/v1/jobs': { items: [job('0195b5b2-0000-7000-8000-000000000001', 'failed')], next_cursor: null },
      'GET /api/v1/queues': { items: [], next_cursor: null },
    });
    renderAt('/jobs?state=failed&queue=mail', '/jobs', <JobsPage />);
    expect(await screen.findByText('0195b5b2-0000-7000-8000-000000000001')).toBeTruthy();
    const list = calls.find((r) => new URL(r.url).pathname === '/api/v1/jobs')!;
    const q = new URL(list.url).searchParams;
    expect([q.get('state'), q.get('queue'), q.get('type')]).toEqual(['failed', 'mail', null]);
    expect(screen.getByText('failed', { selector: '[data-state]' })).toBeTruthy();
  });

  it('keeps a changed filter in the address and starts again from the first page', async () => {
    fakeApi({ 'GET /api/v1/jobs': { items: [], next_cursor: null }, 'GET /api/v1/queues': { items: [], next_cursor: null } });
    renderAt('/jobs?queue=mail&cursor=abc', '/jobs', <JobsPage />);
    await screen.findByText('No jobs match these filters.');
    await userEvent.selectOptions(screen.getByLabelText('State'), 'running');
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/jobs?queue=mail&state=running'));
  });

  it('pages forward with the cursor and back again', async () => {
    fakeApi({ 'GET /api/v1/jobs': { items: [job('0195b5b2-0000-7000-8000-000000000002', 'queued')], next_cursor: 'n1' }, 'GET /api/v1/queues': { items: [], next_cursor: null } });
    renderAt('/jobs', '/jobs', <JobsPage />);
    await screen.findByText('0195b5b2-0000-7000-8000-000000000002');
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/jobs?prev=&cursor=n1'));
    await userEvent.click(screen.getByRole('button', { name: 'Previous' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/jobs'));
  });

  it('sorts by a column header on the server, keeps the sort in the address and says it with aria-sort', async () => {
    const calls = fakeApi({
      'GET /api/v1/jobs': { items: [job('0195b5b2-0000-7000-8000-000000000003', 'failed')], next_cursor: 'n1' },
      'GET /api/v1/queues': { items: [], next_cursor: null },
    });
    renderAt('/jobs?state=failed&cursor=abc', '/jobs', <JobsPage />);
    await screen.findByText('0195b5b2-0000-7000-8000-000000000003');
    const header = (name: string) => screen.getByRole('button', { name }).closest('th')!;
    expect(header('Created').getAttribute('aria-sort')).toBe('descending');
    expect(header('Priority').getAttribute('aria-sort')).toBe('none');
    expect(screen.getByRole('columnheader', { name: 'State' }).hasAttribute('aria-sort')).toBe(false);
    const asked = () => calls.filter((r) => new URL(r.url).pathname === '/api/v1/jobs').map((r) => new URL(r.url).searchParams.get('sort'));

    // A new column sorts descending first and starts from the first page; the sorted one flips.
    await userEvent.click(screen.getByRole('button', { name: 'Priority' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/jobs?state=failed&sort=-priority'));
    await waitFor(() => expect(header('Priority').getAttribute('aria-sort')).toBe('descending'));
    expect(header('Created').getAttribute('aria-sort')).toBe('none');
    await waitFor(() => expect(asked()).toContain('-priority'));
    await userEvent.click(screen.getByRole('button', { name: 'Priority' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/jobs?state=failed&sort=priority'));
    await waitFor(() => expect(header('Priority').getAttribute('aria-sort')).toBe('ascending'));
    await waitFor(() => expect(asked()).toContain('priority'));
    expect((screen.getByLabelText('Sort') as HTMLSelectElement).value).toBe('priority');

    // Back to newest first: the default leaves the address plain.
    await userEvent.click(screen.getByRole('button', { name: 'Created' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/jobs?state=failed'));
    await waitFor(() => expect(header('Created').getAttribute('aria-sort')).toBe('descending'));
    await waitFor(() => expect(asked().at(-1)).toBeNull());
  });

  it('opens on the sort the address holds and sorts from the menu too', async () => {
    const calls = fakeApi({ 'GET /api/v1/jobs': { items: [], next_cursor: null }, 'GET /api/v1/queues': { items: [], next_cursor: null } });
    renderAt('/jobs?sort=run_at', '/jobs', <JobsPage />);
    await screen.findByText('No jobs match these filters.');
    expect(screen.getByRole('button', { name: 'Run at' }).closest('th')!.getAttribute('aria-sort')).toBe('ascending');
    expect(new URL(calls.find((r) => new URL(r.url).pathname === '/api/v1/jobs')!.url).searchParams.get('sort')).toBe('run_at');
    await userEvent.selectOptions(screen.getByLabelText('Sort'), '-finished_at');
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/jobs?sort=-finished_at'));
    expect(screen.getByRole('button', { name: 'Finished' }).closest('th')!.getAttribute('aria-sort')).toBe('descending');
  });
});

describe('filtersFrom', () => {
  it('keeps only the filters that are set', () => {
    expect(filtersFrom(new URLSearchParams('state=queued&queue=&type=t&sort=-priority'))).toEqual({ state: 'queued', type: 't', sort: '-priority' });
  });
});
