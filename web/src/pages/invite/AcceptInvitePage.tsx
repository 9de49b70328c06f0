import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { api, unwrap } from '@/api/client';
import { useMe, useSignIn } from '@/api/queries';
import { ErrorNote } from '@/components/PageHeader';
import { Button } from '@/components/ui/button';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input } from '@/components/ui/input';
import { AuthCard } from '../login/LoginPage';

/**
 * The invite link (/invite?token=...): a new person picks a name and password; one with an account gives its
 * password (or accepts at once when signed in as it). Either way they end up signed in, in the organization.
 */
export function AcceptInvitePage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const me = useMe().data;
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: '', password: '' });
  const accept = useSignIn((f: typeof form) =>
    unwrap(api.POST('/api/v1/invites/accept', { body: { token, name: f.name.trim() || null, password: f.password || null } })),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    accept.mutate(form, { onSuccess: () => navigate('/', { replace: true }) });
  };
  const named = fieldErrors(accept.error, 'name', 'password', 'token');
  return (
    <AuthCard title="Join an organization" subtitle="You were invited to Kairos.">
      {!token && <ErrorNote error="This page needs the invite link you were sent (…/invite?token=…)." />}
      <form onSubmit={submit} className="space-y-4">
        {me?.user ? (
          <p className="text-sm">You are signed in as <strong>{me.user.email}</strong>. Accept to join with this account (the invite must be for it).</p>
        ) : (
          <>
            <FormField id="invite-name" label="Your name" hint="For a new account" errors={fieldErrors(accept.error, 'name')}>
              <Input id="invite-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} autoComplete="name" autoFocus />
            </FormField>
            <FormField id="invite-password" label="Password" hint="A new one (10 characters or more), or your account's if you have one" errors={fieldErrors(accept.error, 'password')}>
              <Input id="invite-password" type="password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} autoComplete="new-password" />
            </FormField>
          </>
        )}
        {accept.error && !named.length && <ErrorNote error={accept.error} />}
        <Button type="submit" className="w-full" disabled={!token || accept.isPending}>{accept.isPending ? 'Joining…' : 'Accept invite'}</Button>
      </form>
    </AuthCard>
  );
}
