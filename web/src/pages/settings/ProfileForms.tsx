import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { ErrorNote } from '@/components/PageHeader';
import { Button } from '@/components/ui/button';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input } from '@/components/ui/input';
import { toast } from '@/lib/toast';

/** The signed-in user's display name (shown in the header's menu and to the other members). */
export function ProfileNameForm({ name: current }: { name: string }) {
  const qc = useQueryClient();
  const [name, setName] = useState(current);
  useEffect(() => setName(current), [current]);
  const rename = useMutation({
    mutationFn: () => unwrap(api.PATCH('/api/v1/me', { body: { name: name.trim() } })),
    onSuccess: (me) => {
      setCsrfToken(me.csrf_token);
      qc.setQueryData(keys.me, me);
      void qc.invalidateQueries({ queryKey: keys.members });
      toast.success('Name changed', me.user?.name);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    rename.mutate();
  };
  return (
    <form className="space-y-3" onSubmit={submit}>
      <FormField id="profile-name-input" label="Display name" errors={fieldErrors(rename.error, 'name')}>
        <div className="flex gap-2">
          <Input id="profile-name-input" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={200} />
          <Button type="submit" variant="outline" disabled={rename.isPending || !name.trim() || name.trim() === current}>Save</Button>
        </div>
      </FormField>
      {rename.error && !fieldErrors(rename.error, 'name').length && <ErrorNote error={rename.error} />}
    </form>
  );
}

const EMPTY = { current_password: '', new_password: '', confirm: '' };

/**
 * Changing the password: the current one, the new one twice (a mismatch is caught here, before asking). The server
 * checks the rest; on success the user's other sessions are signed out, this one stays.
 */
export function ChangePasswordForm() {
  const [form, setForm] = useState(EMPTY);
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/me/password', { body: { current_password: form.current_password, new_password: form.new_password } })),
    onSuccess: (r) => {
      setForm(EMPTY);
      toast.success('Password changed',
        r.sessions_ended === 0 ? 'No other session was signed in.' : `${r.sessions_ended} other session${r.sessions_ended === 1 ? ' was' : 's were'} signed out.`);
    },
  });
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => {
    setForm((f) => ({ ...f, [k]: e.target.value }));
    if (k !== 'current_password') setMismatch(false);
    // What the server said was about what was typed before.
    if (change.error) change.reset();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form.new_password !== form.confirm) {
      setMismatch(true);
      return;
    }
    change.mutate();
  };
  const shown = ['current_password', 'new_password'];
  return (
    <form className="space-y-3 border-t border-zinc-200 pt-4 dark:border-zinc-800" onSubmit={submit} aria-labelledby="password-heading">
      <h3 id="password-heading" className="text-sm font-medium">Change password</h3>
      <FormField id="current-password" label="Current password" errors={fieldErrors(change.error, 'current_password')}>
        <Input id="current-password" type="password" autoComplete="current-password" value={form.current_password} onChange={set('current_password')} />
      </FormField>
      <FormField id="new-password" label="New password" hint="At least 10 characters." errors={fieldErrors(change.error, 'new_password')}>
        <Input id="new-password" type="password" autoComplete="new-password" value={form.new_password} onChange={set('new_password')} />
      </FormField>
      <FormField id="confirm-password" label="Confirm new password" errors={mismatch ? ['does not match the new password'] : []}>
        <Input id="confirm-password" type="password" autoComplete="new-password" value={form.confirm} onChange={set('confirm')} />
      </FormField>
      {change.error && !fieldErrors(change.error, ...shown).length && <ErrorNote error={change.error} />}
      <Button type="submit" variant="outline" disabled={change.isPending || !form.current_password || !form.new_password || !form.confirm}>
        {change.isPending ? 'Changing…' : 'Change password'}
      </Button>
    </form>
  );
}
