import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '@/test/render';
import { ScheduleFormPage } from './ScheduleFormPage';

afterEach(() => vi.unstubAllGlobals());

/** The server's preview: a description for valid crons, the 400 it gives (naming field and position) for hour 25. */
function fakeServer() {
  const calls: Request[] = [];
  vi.stubGlobal('fetch', vi.fn(async (req: Request) => {
    calls.push(req);
    const url = new URL(req.url);
    const json = (body: unknown, status = 200, type = 'application/json') => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
    if (url.pathname === '/api/v1/schedules/preview') {
      const cron = url.searchParams.get('cron');
      if (cron === '0 25 * * *') {
        return json({ title: 'One or more validation errors occurred.', status: 400, errors: { cron: ['field 2 (hour) "25" at position 3: must be a number between 0 and 23'] } }, 400, 'application/problem+json');
      }
      return json({ description: `described: ${cron}`, timezone: url.searchParams.get('timezone'), next: ['2026-12-04T01:30:00.000Z'], next_local: ['2026-12-04T02:30:00.000+01:00'] });
    }
    if (url.pathname === '/api/v1/schedules' && req.method === 'POST') return json({ name: 'nightly' }, 201);
    return json({ items: [], next_cursor: null });
  }));
  return calls;
}

describe('ScheduleFormPage', () => {
  it('previews the expression as it is typed, and shows where it is wrong', async () => {
    fakeServer();
    renderAt('/schedules/new', '/schedules/new', <ScheduleFormPage />);
    const cron = screen.getByLabelText('Cron expression');
    fireEvent.change(screen.getByLabelText('Time zone'), { target: { value: 'Europe/Berlin' } });
    fireEvent.change(cron, { target: { value: '30 2 * * *' } });
    await waitFor(() => expect(screen.getByTestId('schedule-description').textContent).toBe('described: 30 2 * * *'));
    expect(screen.getByTestId('schedule-next').textContent).toContain('Fri 2026-12-04');
    fireEvent.change(cron, { target: { value: '0 25 * * *' } });
    expect(await screen.findByText(/cron: field 2 \(hour\) "25" at position 3/)).toBeTruthy();
  });

  it('creates the schedule with its job template and goes to it', async () => {
    const calls = fakeServer();
    renderAt('/schedules/new', '/schedules/new', <ScheduleFormPage />);
    await userEvent.type(screen.getByLabelText('Name'), 'nightly');
    fireEvent.change(screen.getByLabelText('Cron expression'), { target: { value: '@daily' } });
    fireEvent.change(screen.getByLabelText('Time zone'), { target: { value: 'UTC' } });
    await userEvent.type(screen.getByLabelText('Type'), 'report.build');
    fireEvent.change(screen.getByLabelText('Payload (JSON)'), { target: { value: '{"kind": "nightly"}' } });
    await userEvent.selectOptions(screen.getByLabelText('While the previous run is unfinished'), 'skip');
    await userEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/schedules/nightly'));
    const post = calls.find((r) => r.method === 'POST')!;
    expect(await post.json()).toMatchObject({
      name: 'nightly', cron: '@daily', every_ms: null, timezone: 'UTC', overlap: 'skip', catch_up: 'once',
      job: { queue: 'default', type: 'report.build', payload: { kind: 'nightly' } },
    });
  });
});
