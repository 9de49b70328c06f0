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
});

describe('filtersFrom', () => {
  it('keeps only the filters that are set', () => {
    expect(filtersFrom(new URLSearchParams('state=queued&queue=&type=t'))).toEqual({ state: 'queued', type: 't' });
  });
});
