import { useEffect, useState, type FormEvent } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Building2, LogOut, Trash2, User } from 'lucide-react';
import { api, setCsrfToken, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useLogout, useMe } from '@/api/queries';
import { ErrorNote, PageHeader } from '@/components/PageHeader';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { ConfirmDialog } from '@/components/ui/dialog';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input } from '@/components/ui/input';
import { formatTime } from '@/lib/utils';
import { toast } from '@/lib/toast';
import { ChangePasswordForm, ProfileNameForm } from './ProfileForms';

/** Profile, the current organization (rename, delete) and the user's organizations (switch, create). */
export function SettingsPage() {
  const me = useMe().data;
  const canManageOrg = useCan('organization.manage');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const { hash } = useLocation();
  const logout = useLogout();
  const org = me?.current_organization;
  const [name, setName] = useState(org?.name ?? '');
  const [newOrg, setNewOrg] = useState('');
  useEffect(() => setName(org?.name ?? ''), [org?.name]);
  useEffect(() => {
    if (hash) document.getElementById(hash.slice(1))?.scrollIntoView();
  }, [hash]);

  const reloadMe = () => qc.invalidateQueries({ queryKey: keys.me });
  const rename = useMutation({
    mutationFn: () => unwrap(api.PATCH('/api/v1/organizations/{id}', { params: { path: { id: org!.id } }, body: { name: name.trim() } })),
    onSuccess: (o) => { void reloadMe(); toast.success('Organization renamed', o.name); },
  });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/organizations', { body: { name: newOrg.trim() } })),
    onSuccess: (o) => { setNewOrg(''); void reloadMe(); toast.success('Organization created', `${o.name}: switch to it from the menu at the top left`); },
  });
  const switchTo = useMutation({
    mutationFn: (organization_id: string) => unwrap(api.POST('/api/v1/auth/organization', { body: { organization_id } })),
    onSuccess: (next) => { setCsrfToken(next.csrf_token); qc.clear(); qc.setQueryData(keys.me, next); navigate('/'); },
    onError: (e) => toast.error(e),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/organizations/{id}', { params: { path: { id: org!.id } } })),
    onSuccess: () => { qc.clear(); toast.success('Organization deleted', org?.name); navigate('/', { replace: true }); },
    onError: (e) => toast.error(e),
  });

  if (!me) return null;

  return (
    <>
      <PageHeader title="Settings">Your profile and your organizations.</PageHeader>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card id="profile">
          <CardHeader><CardTitle className="flex items-center gap-2"><User className="h-4 w-4" /> Profile</CardTitle></CardHeader>
          <CardContent className="space-y-4">
            {me.user ? (
              <>
                <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                  <dt className="text-zinc-500">Name</dt><dd data-testid="profile-name">{me.user.name || '—'}</dd>
                  <dt className="text-zinc-500">Email</dt><dd>{me.user.email}</dd>
                  <dt className="text-zinc-500">Role here</dt><dd><Badge className="bg-indigo-50 text-indigo-700 ring-indigo-200 dark:bg-indigo-950 dark:text-indigo-300 dark:ring-indigo-800">{org?.role}</Badge></dd>
                  <dt className="text-zinc-500">May</dt><dd className="text-xs text-zinc-500">{me.permissions.join(', ')}</dd>
                </dl>
                <ProfileNameForm name={me.user.name} />
                <ChangePasswordForm />
              </>
            ) : (
              <p className="text-sm">Signed in with the API key {me.api_key?.name} ({me.api_key?.prefix}…).</p>
            )}
            <Button variant="outline" size="sm" onClick={() => logout.mutate(undefined, { onSettled: () => navigate('/login', { replace: true }) })}>
              <LogOut className="h-4 w-4" /> Sign out
            </Button>
          </CardContent>
        </Card>

        <Card id="organization">
          <CardHeader><CardTitle className="flex items-center gap-2"><Building2 className="h-4 w-4" /> {org?.name}</CardTitle></CardHeader>
          <CardContent className="space-y-4">
            <form
              className="space-y-3"
              onSubmit={(e: FormEvent) => {
                e.preventDefault();
                rename.mutate();
              }}
            >
              <FormField id="org-name" label="Organization name" errors={fieldErrors(rename.error, 'name')}>
                <div className="flex gap-2">
                  <Input id="org-name" value={name} onChange={(e) => setName(e.target.value)} disabled={!canManageOrg} />
                  {canManageOrg && <Button type="submit" variant="outline" disabled={rename.isPending || !name.trim() || name.trim() === org?.name}>Rename</Button>}
                </div>
              </FormField>
              {rename.error && !fieldErrors(rename.error, 'name').length && <ErrorNote error={rename.error} />}
            </form>
            <p className="text-xs text-zinc-500">Created {formatTime(org?.created_at)}.{!canManageOrg && ' Only owners rename or delete it.'}</p>
            {canManageOrg && (
              <ConfirmDialog
                trigger={<Button variant="ghost" size="sm" className="text-red-600 dark:text-red-400"><Trash2 className="h-4 w-4" /> Delete organization</Button>}
                title={`Delete ${org?.name}?`}
                description="Its jobs, queues, schedules, keys, members and audit log are removed for good."
                confirmLabel="Delete everything"
                destructive
                onConfirm={() => remove.mutate()}
              />
            )}
          </CardContent>
        </Card>

        {me.kind === 'user' && (
          <Card id="organizations" className="lg:col-span-2">
            <CardHeader><CardTitle>Your organizations</CardTitle></CardHeader>
            <CardContent className="space-y-4">
              <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
                {me.organizations.map((o) => (
                  <li key={o.id} className="flex items-center justify-between gap-2 py-2" data-organization={o.name}>
                    <span className="min-w-0 truncate">{o.name} <span className="text-xs text-zinc-500">{o.role}</span></span>
                    {o.id === org?.id ? (
                      <span className="text-xs text-zinc-500">current</span>
                    ) : (
                      <Button variant="outline" size="sm" disabled={switchTo.isPending} onClick={() => switchTo.mutate(o.id)}>Switch</Button>
                    )}
                  </li>
                ))}
              </ul>
              <form
                className="flex flex-wrap items-end gap-2"
                onSubmit={(e: FormEvent) => {
                  e.preventDefault();
                  create.mutate();
                }}
              >
                <FormField id="new-org" label="New organization" errors={fieldErrors(create.error, 'name')} className="min-w-48 flex-1 space-y-1.5">
                  <Input id="new-org" value={newOrg} onChange={(e) => setNewOrg(e.target.value)} placeholder="Acme staging" />
                </FormField>
                <Button type="submit" disabled={create.isPending || !newOrg.trim()}>Create</Button>
              </form>
              {create.error && !fieldErrors(create.error, 'name').length && <ErrorNote error={create.error} />}
            </CardContent>
          </Card>
        )}
      </div>
    </>
  );
}
