import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { keys } from '@/api/keys';
import { Toaster } from '@/components/Toaster';
import { fakeApi, renderAt } from '@/test/render';
import { ADMIN, me } from '@/test/fixtures';
import { ChangePasswordForm, ProfileNameForm } from './ProfileForms';

afterEach(() => vi.unstubAllGlobals());

const problem = (status: number, detail: string, errors?: Record<string, string[]>) =>
  new Response(JSON.stringify({ title: status === 400 ? 'Invalid request' : 'Conflict', status, detail, errors }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });

const fieldError = (id: string) => document.querySelector(`[data-field-error="${id}"]`)?.textContent;

describe('ProfileNameForm', () => {
  it('saves the trimmed name, updates who I am and says so', async () => {
    const renamed = { ...me(ADMIN), user: { id: 'u1', email: 'ada@example.com', name: 'Ada Lovelace' } };
    const calls = fakeApi({ 'PATCH /api/v1/me': renamed });
    const { qc } = renderAt('/settings', '/settings', <><ProfileNameForm name="Ada" /><Toaster /></>);
    const input = screen.getByLabelText('Display name');
    expect(screen.getByRole('button', { name: 'Save' })).toHaveProperty('disabled', true);
    await userEvent.clear(input);
    await userEvent.type(input, '  Ada Lovelace ');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    const toast = await screen.findByText('Name changed');
    expect(toast.closest('[data-toast]')?.getAttribute('data-toast')).toBe('success');
    const patch = calls.find((r) => r.method === 'PATCH')!;
    expect(await patch.json()).toEqual({ name: 'Ada Lovelace' });
    expect(qc.getQueryData(keys.me)).toEqual(renamed);
  });

  it("shows the server's message next to the field", async () => {
    fakeApi({ 'PATCH /api/v1/me': problem(400, 'name: must be at most 200 characters', { name: ['must be at most 200 characters'] }) });
    const { qc } = renderAt('/settings', '/settings', <ProfileNameForm name="Ada" />);
    await userEvent.type(screen.getByLabelText('Display name'), ' the Great');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(fieldError('profile-name-input')).toBe('must be at most 200 characters'));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(qc.getQueryData(keys.me)).toBeUndefined();
  });
});

describe('ChangePasswordForm', () => {
  const fill = async (current: string, next: string, confirm: string) => {
    await userEvent.type(screen.getByLabelText('Current password'), current);
    await userEvent.type(screen.getByLabelText('New password'), next);
    await userEvent.type(screen.getByLabelText('Confirm new password'), confirm);
  };

  it('catches a confirmation that differs before asking, then changes the password and clears the form', async () => {
    const calls = fakeApi({ 'POST /api/v1/me/password': { sessions_ended: 2 } });
    renderAt('/settings', '/settings', <><ChangePasswordForm /><Toaster /></>);
    await fill('old password!', 'new password 1', 'new password 2');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect(fieldError('confirm-password')).toBe('does not match the new password');
    expect(calls).toHaveLength(0);

    await userEvent.clear(screen.getByLabelText('Confirm new password'));
    expect(fieldError('confirm-password')).toBeUndefined();
    await userEvent.type(screen.getByLabelText('Confirm new password'), 'new password 1');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));

    const toast = (await screen.findByText('Password changed')).closest('[data-toast]') as HTMLElement;
    expect(within(toast).getByText('2 other sessions were signed out.')).toBeTruthy();
    expect(calls).toHaveLength(1);
    expect(await calls[0]!.json()).toEqual({ current_password: 'old password!', new_password: 'new password 1' });
    expect(screen.getByLabelText('Current password')).toHaveProperty('value', '');
    expect(screen.getByLabelText('New password')).toHaveProperty('value', '');
    expect(screen.getByLabelText('Confirm new password')).toHaveProperty('value', '');
  });

  it('shows a wrong current password next to that field and keeps what was typed', async () => {
    fakeApi({ 'POST /api/v1/me/password': problem(400, 'current_password: is not your current password', { current_password: ['is not your current password'] }) });
    renderAt('/settings', '/settings', <ChangePasswordForm />);
    await fill('a wrong guess', 'new password 1', 'new password 1');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));

    await waitFor(() => expect(fieldError('current-password')).toBe('is not your current password'));
    expect(fieldError('new-password')).toBeUndefined();
    expect(screen.getByLabelText('New password')).toHaveProperty('value', 'new password 1');
    // Typing again clears what the server said about the earlier attempt.
    await userEvent.type(screen.getByLabelText('Current password'), '!');
    expect(fieldError('current-password')).toBeUndefined();
  });

  it('shows a refusal that names no field (a change made meanwhile) above the button', async () => {
    fakeApi({ 'POST /api/v1/me/password': problem(409, 'Your password was changed meanwhile by another request: nothing changed here.') });
    renderAt('/settings', '/settings', <ChangePasswordForm />);
    await fill('old password!', 'new password 1', 'new password 1');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));

    expect((await screen.findByRole('alert')).textContent).toContain('changed meanwhile');
  });
});
