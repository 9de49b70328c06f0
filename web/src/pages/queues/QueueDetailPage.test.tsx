import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderAt } from '@/test/render';
import { ADMIN, me, queue } from '@/test/fixtures';
import { QueueDetailPage } from './QueueDetailPage';
import { limitsRequestFrom } from './LimitsEditor';

afterEach(() => vi.unstubAllGlobals());

const mail = queue('mail', { counts: { queued: 4, scheduled: 2, retrying: 1, running: 3, failed: 9 } });

describe('QueueDetailPage', () => {
  it('purges after a confirm that counts the waiting jobs (not the running or finished ones)', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/queues/mail': mail,
      'GET /api/v1/jobs': { items: [], next_cursor: null },
      'POST /api/v1/queues/mail/purge': { queue: 'mail', purged: 7 },
    });
    renderAt('/queues/mail', '/queues/:name', <QueueDetailPage />);
    await userEvent.click(await screen.findByRole('button', { name: /Purge/ }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('purge-count').textContent).toBe('7');
    expect(calls.some((r) => r.method === 'POST')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Purge 7 jobs' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'POST' && r.url.endsWith('/queues/mail/purge'))).toBe(true));
  });

  it('pauses with the reason given', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/queues/mail': mail,
      'GET /api/v1/jobs': { items: [], next_cursor: null },
      'POST /api/v1/queues/mail/pause': { ...mail, paused: true, pause_reason: 'smtp down' },
    });
    renderAt('/queues/mail', '/queues/:name', <QueueDetailPage />);
    await userEvent.click(await screen.findByRole('button', { name: /Pause/ }));
    await userEvent.type(await screen.findByLabelText('Reason (optional)'), 'smtp down');
    await userEvent.click(screen.getByRole('button', { name: 'Pause queue' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'POST')).toBe(true));
    expect(await calls.find((r) => r.method === 'POST')!.json()).toEqual({ reason: 'smtp down' });
  });

  it('saves the limits with PUT, empty fields as none', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/queues/mail': mail,
      'GET /api/v1/jobs': { items: [], next_cursor: null },
      'PUT /api/v1/queues/mail': { ...mail, concurrency_limit: 5 },
    });
    renderAt('/queues/mail', '/queues/:name', <QueueDetailPage />);
    await userEvent.type(await screen.findByLabelText('Concurrency limit'), '5');
    await userEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'PUT')).toBe(true));
    expect(await calls.find((r) => r.method === 'PUT')!.json()).toEqual({ concurrency_limit: 5, rate_limit: null, default_max_attempts: null, default_timeout_ms: null });
  });

  it('shows no management buttons to a member', async () => {
    fakeApi({
      'GET /api/v1/auth/me': me(['read', 'jobs.write'], 'member'),
      'GET /api/v1/queues/mail': mail,
      'GET /api/v1/jobs': { items: [], next_cursor: null },
    });
    renderAt('/queues/mail', '/queues/:name', <QueueDetailPage />);
    await screen.findByRole('link', { name: /New job/ });
    expect(screen.queryByRole('button', { name: /Purge|Pause/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Save limits' })).toBeNull();
  });
});

describe('limitsRequestFrom', () => {
  it('wants a rate limit whole: starts and period together', () => {
    const f = { concurrency_limit: '', rate_limit: '10', rate_period_ms: '', default_max_attempts: '0', default_timeout_ms: '' };
    expect(Object.keys(limitsRequestFrom(f).errors ?? {}).sort()).toEqual(['default_max_attempts', 'rate_limit.period_ms']);
    expect(limitsRequestFrom({ ...f, rate_period_ms: '60000', default_max_attempts: '3' }).body).toEqual({
      concurrency_limit: null, rate_limit: { limit: 10, period_ms: 60000 }, default_max_attempts: 3, default_timeout_ms: null,
    });
  });
});
