import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap } from '@/api/client';
import { useSetupRequired, useSignIn } from '@/api/queries';
import { Button } from '@/components/ui/button';
import { Input, Label } from '@/components/ui/input';
import { ErrorNote } from '@/components/PageHeader';
import { AuthCard } from '../login/LoginPage';

/** First run: the one-time token from the printed link, and the first owner's email, password and organization. */
export function SetupPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const setup = useSetupRequired();
  const navigate = useNavigate();
  const [form, setForm] = useState({ email: '', password: '', organization: '' });
  const signIn = useSignIn((f: typeof form) => unwrap(api.POST('/api/v1/setup', { body: { token, ...f, name: null } })));

  if (setup.data && !setup.data.required) return <Navigate to="/login" replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    signIn.mutate(form, { onSuccess: () => navigate('/', { replace: true }) });
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  return (
    <AuthCard title="Set up Kairos" subtitle="Create the first user: the owner of your organization.">
      {!token && <ErrorNote error="This page needs the setup link the server printed when it started (…/setup?token=…)." />}
      <form onSubmit={submit} className="space-y-4">
        <div className="space-y-1.5">
          <Label htmlFor="organization">Organization</Label>
          <Input id="organization" required value={form.organization} onChange={set('organization')} placeholder="Acme" autoFocus />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="email">Email</Label>
          <Input id="email" type="email" required autoComplete="username" value={form.email} onChange={set('email')} />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="password">Password</Label>
          <Input id="password" type="password" required minLength={10} autoComplete="new-password" value={form.password} onChange={set('password')} />
          <p className="text-xs text-zinc-500">At least 10 characters.</p>
        </div>
        <ErrorNote error={signIn.error} />
        <Button type="submit" className="w-full" disabled={!token || signIn.isPending}>
          {signIn.isPending ? 'Creating…' : 'Create owner and sign in'}
        </Button>
      </form>
    </AuthCard>
  );
}
