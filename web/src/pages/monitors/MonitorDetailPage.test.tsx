import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setCsrfToken } from '@/api/client';
import { fakeApi, renderAt } from '@/test/render';
import { MonitorDetailPage } from './MonitorDetailPage';

const monitor = {
  id: '1', name: 'nightly-backup', slug: 'nightly-backup', period_seconds: 3600, cron: null, timezone: 'UTC', description: 'Every 1 hour',
  grace_seconds: 300, max_runtime_seconds: null, start_grace_seconds: null, failure_threshold: 1, tags: [], state: 'up', reason: 'ping',
  state_changed_at: '2026-12-03T08:00:00.000Z', paused: false, pause_reason: null, last_ping_at: '2026-12-03T08:00:00.000Z', last_start_at: null,
  last_finish_at: null, next_due_at: '2026-12-03T09:00:00.000Z', running_since: null, consecutive_failures: 0, ping_key: 'kp_abc',
  ping_url: 'http://kairos.test/ping/kp_abc', created_at: '2026-12-03T07:00:00.000Z', updated_at: '2026-12-03T07:00:00.000Z',
};
const runs = {
  items: [
    { id: 2, rid: null, outcome: 'fail', started_at: '2026-12-03T07:59:00.000Z', finished_at: '2026-12-03T08:00:00.000Z', duration_ms: 60_000, exit_code: 3,
      log: 'disk full', log_truncated: false, source_ip: '10.0.0.7', user_agent: 'curl/8.5', created_at: '2026-12-03T08:00:00.000Z' },
    { id: 1, rid: null, outcome: 'success', started_at: null, finished_at: '2026-12-03T07:00:00.000Z', duration_ms: null, exit_code: null,
      log: null, log_truncated: false, source_ip: '10.0.0.7', user_agent: 'curl/8.5', created_at: '2026-12-03T07:00:00.000Z' },
  ],
  next_cursor: null,
};

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe('MonitorDetailPage', () => {
  it('shows the ping URLs with copy buttons and snippets, the runs with their log, and pauses only after the dialog', async () => {
    setCsrfToken('csrf-1');
    let paused = false;
    const calls = fakeApi({
      'GET /api/v1/auth/me': { permissions: ['monitors.write'], csrf_token: 'csrf-1' },
      'GET /api/v1/monitors/nightly-backup': () => ({ ...monitor, paused, state: paused ? 'paused' : 'up' }),
      'GET /api/v1/monitors/nightly-backup/runs': runs,
      'POST /api/v1/monitors/nightly-backup/pause': () => {
        paused = true;
        return { ...monitor, paused, state: 'paused', pause_reason: 'moving the disk' };
      },
    });
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    renderAt('/monitors/nightly-backup', '/monitors/:name', <MonitorDetailPage />);

    expect((await screen.findByText('http://kairos.test/ping/kp_abc/start')).tagName).toBe('CODE');
    await userEvent.click(screen.getByRole('button', { name: 'Copy the fail URL' }));
    expect(writeText).toHaveBeenCalledWith('http://kairos.test/ping/kp_abc/fail');
    await userEvent.click(screen.getByRole('tab', { name: 'crontab' }));
    expect(screen.getByRole('tabpanel').textContent).toContain('0 * * * * curl -fsS');

    await userEvent.click(await screen.findByRole('button', { name: 'Show the log' }));
    expect(screen.getByLabelText('Log of run 2').textContent).toBe('disk full');
    expect(screen.getByTestId('success-rate').textContent).toBe('50% succeeded');
    expect(screen.getByRole('img', { name: 'Recent runs of nightly-backup' }).querySelectorAll('rect')).toHaveLength(2);

    await userEvent.click(await screen.findByRole('button', { name: /Pause/ }));
    expect(calls.some((r) => r.method === 'POST')).toBe(false);
    await userEvent.type(screen.getByLabelText('Reason (optional)'), 'moving the disk');
    await userEvent.click(screen.getByRole('button', { name: 'Pause monitor' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'POST')).toBe(true));
    const post = calls.find((r) => r.method === 'POST')!;
    expect(post.headers.get('X-CSRF-Token')).toBe('csrf-1');
    expect(await post.clone().json()).toEqual({ reason: 'moving the disk' });
    expect(await screen.findByText('paused', { selector: '[data-monitor-state]' })).toBeTruthy();
  });
});
