import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setCsrfToken } from '@/api/client';
import { fakeApi, renderAt } from '@/test/render';
import { JobDetailPage } from './JobDetailPage';

const id = '0195b5b2-0000-7000-8000-0000000000aa';
const job = {
  id, queue: 'mail', type: 'email.send', payload: { to: 'ada@example.com' }, state: 'queued', priority: 0, run_at: null, attempt: 0,
  max_attempts: 3, timeout_ms: null, unique_key: null, tags: [], result: null, progress: null, cancel_requested: false,
  created_at: '2026-11-23T10:00:00.000Z', started_at: null, finished_at: null, worker_id: null, lease_expires_at: null,
  last_error: { message: 'SMTP said no', type: 'IOException', stack: 'at Mailer.Send()' }, attempts: [], logs: [], deduplicated: null,
};

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe('JobDetailPage', () => {
  it('shows payload, error, stack and log, and cancels only after the confirm dialog, with the CSRF token', async () => {
    setCsrfToken('csrf-123');
    let state = 'queued';
    const calls = fakeApi({
      [`GET /api/v1/jobs/${id}`]: () => ({ ...job, state }),
      [`GET /api/v1/jobs/${id}/logs`]: { items: [{ id: 1, attempt: 1, at: '2026-11-23T10:00:01.000Z', line: 'connecting to smtp' }], next_cursor: null, job_state: 'queued' },
      [`POST /api/v1/jobs/${id}/cancel`]: () => {
        state = 'cancelled';
        return { ...job, state };
      },
    });
    renderAt(`/jobs/${id}`, '/jobs/:id', <JobDetailPage />);
    expect(await screen.findByText('SMTP said no')).toBeTruthy();
    expect(screen.getByLabelText('Stack trace').textContent).toBe('at Mailer.Send()');
    expect(screen.getByLabelText('Payload').textContent).toContain('ada@example.com');
    await waitFor(() => expect(screen.getByLabelText('Log').textContent).toContain('connecting to smtp'));

    await userEvent.click(screen.getByRole('button', { name: /Cancel/ }));
    const dialog = await screen.findByRole('dialog');
    expect(calls.some((r) => r.method === 'POST')).toBe(false);
    await userEvent.click(screen.getByRole('button', { name: 'Cancel job' }));
    await waitFor(() => expect(dialog.isConnected).toBe(false));
    const post = calls.find((r) => r.method === 'POST')!;
    expect(new URL(post.url).pathname).toBe(`/api/v1/jobs/${id}/cancel`);
    expect(post.headers.get('X-CSRF-Token')).toBe('csrf-123');
    expect(await screen.findByText('cancelled', { selector: '[data-state]' })).toBeTruthy();
  });
});
