import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderAt } from '@/test/render';
import { ADMIN, job, me } from '@/test/fixtures';
import { JobsPage } from './JobsPage';
import { countFromStats } from './bulk';

afterEach(() => vi.unstubAllGlobals());

const stats = { counts: { failed: 7, queued: 3 }, queues: { mail: { failed: 2, queued: 1 } }, throughput_last_minute: 0, system: {} };

describe('countFromStats', () => {
  it('counts by state and queue from the server counts, and gives up on type or tag', () => {
    expect(countFromStats({ state: 'failed' }, stats)).toBe(7);
    expect(countFromStats({ state: 'failed', queue: 'mail' }, stats)).toBe(2);
    expect(countFromStats({ queue: 'mail' }, stats)).toBe(3);
    expect(countFromStats({}, stats)).toBe(10);
    expect(countFromStats({ queue: 'nope' }, stats)).toBe(0);
    expect(countFromStats({ state: 'failed', type: 'email.send' }, stats)).toBeNull();
  });
});

describe('bulk actions on the jobs page', () => {
  const ids = ['0195b5b2-0000-7000-8000-0000000000b1', '0195b5b2-0000-7000-8000-0000000000b2'];

  it('retries the selected jobs after a confirm that names how many', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/jobs': { items: ids.map((id) => job(id, { state: 'failed' })), next_cursor: null },
      'GET /api/v1/queues': { items: [], next_cursor: null },
      'GET /api/v1/stats': stats,
      'POST /api/v1/jobs/bulk-retry': { count: 1, skipped: 0, not_found: 0 },
    });
    renderAt('/jobs?state=failed', '/jobs', <JobsPage />);
    await userEvent.click(await screen.findByLabelText(`Select job ${ids[1]}`));
    await userEvent.click(screen.getByRole('button', { name: /Retry/ }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('bulk-count').textContent).toBe('1');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Retry 1 job' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'POST')).toBe(true));
    const post = calls.find((r) => r.method === 'POST')!;
    expect(await post.json()).toEqual({ ids: [ids[1]], filter: null });
  });

  it('cancels everything the filters match, with the count from the server counts', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/jobs': { items: ids.map((id) => job(id)), next_cursor: 'more' },
      'GET /api/v1/queues': { items: [], next_cursor: null },
      'GET /api/v1/stats': stats,
      'POST /api/v1/jobs/bulk-cancel': { count: 1, skipped: 0, not_found: 0 },
    });
    renderAt('/jobs?state=queued&queue=mail', '/jobs', <JobsPage />);
    await userEvent.click(await screen.findByRole('button', { name: /All matching/ }));
    await userEvent.click(await screen.findByRole('menuitem', { name: /Cancel every matching job/ }));
    const dialog = await screen.findByRole('dialog');
    expect((await within(dialog).findByTestId('bulk-count')).textContent).toBe('1');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel 1 job' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'POST')).toBe(true));
    expect(await calls.find((r) => r.method === 'POST')!.json()).toEqual({
      ids: null, filter: { state: 'queued', queue: 'mail', type: null, tag: null, created_after: null, created_before: null },
    });
  });

  it('says the list is empty only once the server has cancelled the matching jobs and the list came back empty', async () => {
    // The server answers the bulk cancel when the test lets it; until then its list still holds the jobs.
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let cancelled = false;
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/jobs': () => ({ items: cancelled ? [] : ids.map((id) => job(id)), next_cursor: null }),
      'GET /api/v1/queues': { items: [], next_cursor: null },
      'GET /api/v1/stats': { ...stats, queues: { mail: { queued: 2 } } },
      'POST /api/v1/jobs/bulk-cancel': async () => {
        await held;
        cancelled = true;
        return { count: 2, skipped: 0, not_found: 0 };
      },
    });
    renderAt('/jobs?state=queued&queue=mail', '/jobs', <JobsPage />);
    await screen.findByText(ids[0]!);
    expect(screen.queryByText('No jobs match these filters.')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: /All matching/ }));
    await userEvent.click(await screen.findByRole('menuitem', { name: /Cancel every matching job/ }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(await within(dialog).findByRole('button', { name: 'Cancel 2 jobs' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'POST')).toBe(true));
    // The server is at work: the rows stay, and nothing says the list is empty.
    await within(dialog).findByRole('button', { name: 'Working…' });
    expect(screen.getByText(ids[1]!)).toBeTruthy();
    expect(screen.queryByText('No jobs match these filters.')).toBeNull();
    release();
    await screen.findByText('No jobs match these filters.');
    expect(screen.queryByText(ids[0]!)).toBeNull();
  });

  it('shows no selection or bulk actions to someone who may only read', async () => {
    fakeApi({
      'GET /api/v1/auth/me': me(['read'], 'viewer'),
      'GET /api/v1/jobs': { items: ids.map((id) => job(id)), next_cursor: null },
      'GET /api/v1/queues': { items: [], next_cursor: null },
    });
    renderAt('/jobs', '/jobs', <JobsPage />);
    await screen.findByText(ids[0]!);
    expect(screen.queryByLabelText(`Select job ${ids[0]}`)).toBeNull();
    expect(screen.queryByTestId('bulk-actions')).toBeNull();
  });
});
