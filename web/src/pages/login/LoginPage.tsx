import { useState, type FormEvent, type ReactNode } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { Clock } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { useMe, useSetupRequired, useSignIn } from '@/api/queries';
import { Button } from '@/components/ui/button';
import { Input, Label } from '@/components/ui/input';
import { ErrorNote } from '@/components/PageHeader';

export function AuthCard({ title, subtitle, children }: { title: string; subtitle: string; children: ReactNode }) {
  return (
    <main className="flex min-h-full items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center gap-2 text-lg font-semibold">
          <Clock className="h-6 w-6 text-indigo-600" aria-hidden /> Kairos
        </div>
        <div className="rounded-lg border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
          <h1 className="text-lg font-semibold">{title}</h1>
          <p className="mt-1 mb-6 text-sm text-zinc-500">{subtitle}</p>
          <div className="space-y-4">{children}</div>
        </div>
      </div>
    </main>
  );
}

/** Only a path of this console (never another site) is followed after sign-in. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const me = useMe();
  const setup = useSetupRequired();
  const [form, setForm] = useState({ email: '', password: '' });
  const signIn = useSignIn((f: typeof form) => unwrap(api.POST('/api/v1/auth/login', { body: f })));
  const next = safeNext(params.get('next'));

  if (me.data) return <Navigate to={next} replace />;
  if (setup.data?.required) return <Navigate to="/setup" replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    signIn.mutate(form, { onSuccess: () => navigate(next, { replace: true }) });
  };

  return (
    <AuthCard title="Sign in" subtitle="to your Kairos console">
      <form onSubmit={submit} className="space-y-4">
        <div className="space-y-1.5">
          <Label htmlFor="email">Email</Label>
          <Input id="email" type="email" required autoComplete="username" autoFocus value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="password">Password</Label>
          <Input id="password" type="password" required autoComplete="current-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
        </div>
        <ErrorNote error={signIn.error} />
        <Button type="submit" className="w-full" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
    </AuthCard>
  );
}
