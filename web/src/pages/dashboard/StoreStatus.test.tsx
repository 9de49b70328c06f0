import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import { fakeApi, renderAt } from '@/test/render';
import { StoreStatus } from './StoreStatus';

afterEach(() => vi.unstubAllGlobals());

describe('StoreStatus', () => {
  it('shows ready when /readyz answers 200', async () => {
    const calls = fakeApi({ 'GET /readyz': { status: 'ready' } });
    renderAt('/', '/', <StoreStatus />);
    await waitFor(() => expect(screen.getByTestId('store-status').dataset.status).toBe('ready'));
    expect(calls.map((r) => new URL(r.url).pathname)).toContain('/readyz');
  });

  it('shows not ready when /readyz answers 503', async () => {
    fakeApi({ 'GET /readyz': new Response(JSON.stringify({ status: 'not ready' }), { status: 503, headers: { 'Content-Type': 'application/json' } }) });
    renderAt('/', '/', <StoreStatus />);
    await waitFor(() => expect(screen.getByTestId('store-status').dataset.status).toBe('not ready'));
    expect(screen.getByTestId('store-status').textContent).toContain('not ready');
  });

  it('shows unreachable when the server does not answer', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    renderAt('/', '/', <StoreStatus />);
    await waitFor(() => expect(screen.getByTestId('store-status').dataset.status).toBe('unreachable'));
  });
});
