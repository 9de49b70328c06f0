import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, renderAt } from '@/test/render';
import { ADMIN, me } from '@/test/fixtures';
import { ApiKeysPage, expiresAt } from './ApiKeysPage';

afterEach(() => vi.unstubAllGlobals());

const existing = { id: 'k1', name: 'ci-deploy', prefix: 'kx_ab12', scopes: ['worker'], created_at: '2026-11-23T10:00:00.000Z', expires_at: null, last_used_at: null };

describe('ApiKeysPage', () => {
  it('creates a key and shows it once, with a copy button; closed, it is gone', async () => {
    let listed = [existing];
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/api-keys': () => ({ items: listed, next_cursor: null }),
      'POST /api/v1/api-keys': () => {
        const created = { id: 'k2', name: 'reports', key: 'kx_secret_0123456789', prefix: 'kx_secr', scopes: ['read'], created_at: '2026-11-23T11:00:00.000Z', expires_at: null };
        listed = [...listed, { ...created, last_used_at: null }];
        return created;
      },
    });
    renderAt('/settings/api-keys', '/settings/api-keys', <ApiKeysPage />);
    await screen.findByText('ci-deploy');
    await userEvent.click(screen.getByRole('button', { name: 'New API key' }));
    const form = await screen.findByRole('dialog');
    await userEvent.type(within(form).getByLabelText('Name'), 'reports');
    await userEvent.click(within(form).getByRole('checkbox', { name: /^read/ }));
    await userEvent.click(within(form).getByRole('checkbox', { name: /^worker/ }));
    await userEvent.click(within(form).getByRole('button', { name: 'Create key' }));

    expect((await screen.findByTestId('new-api-key')).textContent).toBe('kx_secret_0123456789');
    const post = calls.find((r) => r.method === 'POST')!;
    expect(await post.json()).toEqual({ name: 'reports', scopes: ['read'], expires_at: null });
    await userEvent.click(screen.getByRole('button', { name: 'Copy key' }));
    expect(writeText).toHaveBeenCalledWith('kx_secret_0123456789');
    await userEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    await waitFor(() => expect(screen.queryByTestId('new-api-key')).toBeNull());
    expect(await screen.findByText('reports')).toBeTruthy();
    expect(screen.queryByText('kx_secret_0123456789')).toBeNull();
  });

  it('revokes a key only after the confirm dialog', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/me': me(ADMIN),
      'GET /api/v1/api-keys': { items: [existing], next_cursor: null },
      'DELETE /api/v1/api-keys/k1': null,
    });
    renderAt('/settings/api-keys', '/settings/api-keys', <ApiKeysPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Revoke ci-deploy' }));
    expect(calls.some((r) => r.method === 'DELETE')).toBe(false);
    await userEvent.click(await screen.findByRole('button', { name: 'Revoke key' }));
    await waitFor(() => expect(calls.some((r) => r.method === 'DELETE' && r.url.endsWith('/api/v1/api-keys/k1'))).toBe(true));
  });

  it('gives a lifetime as an expiry time from now', () => {
    expect(expiresAt(null)).toBeNull();
    expect(expiresAt(30, Date.parse('2026-11-01T00:00:00.000Z'))).toBe('2026-12-01T00:00:00.000Z');
  });
});
