import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderAt } from '@/test/render';
import { job } from '@/test/fixtures';
import { CreateJobPage } from './CreateJobPage';

afterEach(() => vi.unstubAllGlobals());

const newId = '0195b5b2-0000-7000-8000-0000000000c1';

describe('CreateJobPage', () => {
  it('says where the payload breaks and sends nothing until it is valid JSON', async () => {
    const calls = fakeApi({
      'GET /api/v1/queues': { items: [], next_cursor: null },
      'POST /api/v1/jobs': job(newId, { type: 'email.send' }),
    });
    renderAt('/jobs/new', '/jobs/new', <CreateJobPage />);
    await userEvent.type(screen.getByLabelText('Type'), 'email.send');
    fireEvent.change(screen.getByLabelText('Payload (JSON)'), { target: { value: '{\n  "to": "a@example.com",\n}' } });
    expect(screen.getByText(/^Line 3, column 1:/)).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Enqueue job' }));
    expect(calls.some((r) => r.method === 'POST')).toBe(false);

    fireEvent.change(screen.getByLabelText('Payload (JSON)'), { target: { value: '{"to": "a@example.com"}' } });
    expect(screen.getByText('Valid JSON')).toBeTruthy();
    await userEvent.type(screen.getByLabelText('Max attempts'), '5');
    await userEvent.click(screen.getByRole('button', { name: 'Enqueue job' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe(`/jobs/${newId}`));
    const post = calls.find((r) => r.method === 'POST')!;
    expect(await post.json()).toMatchObject({ queue: 'default', type: 'email.send', payload: { to: 'a@example.com' }, max_attempts: 5, priority: null });
  });

  it('shows the server’s complaint under the field it names', async () => {
    fakeApi({ 'GET /api/v1/queues': { items: [], next_cursor: null } });
    vi.stubGlobal('fetch', vi.fn(async (input: Request) => {
      if (input.method === 'POST') {
        return new Response(JSON.stringify({ title: 'One or more validation errors occurred.', status: 400, errors: { queue: ['must be at most 200 characters'] } }), {
          status: 400, headers: { 'Content-Type': 'application/problem+json' },
        });
      }
      return new Response(JSON.stringify({ items: [], next_cursor: null }), { headers: { 'Content-Type': 'application/json' } });
    }));
    renderAt('/jobs/new', '/jobs/new', <CreateJobPage />);
    await userEvent.type(screen.getByLabelText('Type'), 't');
    fireEvent.change(screen.getByLabelText('Payload (JSON)'), { target: { value: '{}' } });
    await userEvent.click(screen.getByRole('button', { name: 'Enqueue job' }));
    expect(await screen.findByText('must be at most 200 characters')).toBeTruthy();
    expect(screen.getByTestId('location').textContent).toBe('/jobs/new');
  });

  it('clones a job: its queue, type, payload and options filled in', async () => {
    const from = '0195b5b2-0000-7000-8000-0000000000c0';
    fakeApi({
      'GET /api/v1/queues': { items: [], next_cursor: null },
      [`GET /api/v1/jobs/${from}`]: job(from, { queue: 'reports', type: 'report.build', payload: { n: 1 }, priority: 3, tags: ['eu'], unique_key: 'once' }),
    });
    renderAt(`/jobs/new?from=${from}`, '/jobs/new', <CreateJobPage />);
    await waitFor(() => expect((screen.getByLabelText('Type') as HTMLInputElement).value).toBe('report.build'));
    expect((screen.getByLabelText('Queue') as HTMLInputElement).value).toBe('reports');
    expect(JSON.parse((screen.getByLabelText('Payload (JSON)') as HTMLTextAreaElement).value)).toEqual({ n: 1 });
    expect((screen.getByLabelText('Priority') as HTMLInputElement).value).toBe('3');
    expect((screen.getByLabelText('Unique key') as HTMLInputElement).value).toBe('');
  });
});
