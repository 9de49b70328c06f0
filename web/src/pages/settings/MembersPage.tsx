import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Mail, Trash2, TriangleAlert, UserPlus, Users } from 'lucide-react';
import { api, unwrap, type Schemas } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useInvites, useMe, useMembers } from '@/api/queries';
import { CopyButton } from '@/components/CopyButton';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Modal } from '@/components/ui/dialog';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input, Select } from '@/components/ui/input';
import { DataTable } from '@/components/ui/table';
import { formatTime, relativeTime } from '@/lib/utils';
import { toast } from '@/lib/toast';

export const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;

/** The roles one may hand out: only owners grant the owner role. */
export function grantableRoles(myRole: string | null | undefined): readonly string[] {
  return myRole === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner');
}

function Invite({ roles }: { roles: readonly string[] }) {
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const [link, setLink] = useState<Schemas['CreatedInviteDto'] | null>(null);
  const qc = useQueryClient();
  const invite = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/invites', { body: { email: email.trim(), role } })),
    onSuccess: (created) => {
      void qc.invalidateQueries({ queryKey: keys.invites });
      setLink(created);
    },
  });
  const close = (o: boolean) => {
    setOpen(o);
    if (!o) {
      setLink(null);
      setEmail('');
      invite.reset();
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  return (
    <Modal
      trigger={<Button size="sm"><UserPlus className="h-4 w-4" /> Invite</Button>}
      open={open}
      onOpenChange={close}
      title={link ? `Invite link for ${link.email}` : 'Invite someone'}
      description={link ? undefined : 'They get a link to join with this role (valid 7 days). Send it to them yourself.'}
    >
      {link ? (
        <div className="space-y-4">
          <div className="flex items-start gap-2 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
            <TriangleAlert className="mt-0.5 h-4 w-4 shrink-0" aria-hidden />
            The link is shown once. It expires {formatTime(link.expires_at)}.
          </div>
          <div className="flex items-center gap-2">
            <code data-testid="invite-url" className="min-w-0 flex-1 rounded-md bg-zinc-100 px-3 py-2 font-mono text-xs break-all select-all dark:bg-zinc-950">{link.invite_url}</code>
            <CopyButton text={link.invite_url} label="Copy invite link" withText />
          </div>
          <div className="flex justify-end"><Button onClick={() => close(false)}>Done</Button></div>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-4">
          <FormField id="invite-email" label="Email" errors={fieldErrors(invite.error, 'email')}>
            <Input id="invite-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus />
          </FormField>
          <FormField id="invite-role" label="Role" errors={fieldErrors(invite.error, 'role')}>
            <Select id="invite-role" value={role} onChange={(e) => setRole(e.target.value)}>
              {roles.map((r) => <option key={r} value={r}>{r}</option>)}
            </Select>
          </FormField>
          {invite.error && !fieldErrors(invite.error, 'email', 'role').length && <ErrorNote error={invite.error} />}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="outline" onClick={() => close(false)}>Cancel</Button>
            <Button type="submit" disabled={invite.isPending || !email.trim()}>{invite.isPending ? 'Creating…' : 'Create invite link'}</Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

export function MembersPage() {
  const me = useMe().data;
  const members = useMembers();
  const canManage = useCan('members.manage');
  const invites = useInvites(canManage);
  const qc = useQueryClient();
  const roles = grantableRoles(me?.current_organization?.role);

  const change = useMutation({
    mutationFn: ({ member, role }: { member: Schemas['MemberDto']; role: string }) =>
      unwrap(api.PATCH('/api/v1/members/{userId}', { params: { path: { userId: member.user_id } }, body: { role } })),
    onSuccess: (m) => { void qc.invalidateQueries({ queryKey: keys.members }); toast.success('Role changed', `${m.email} is now ${m.role}`); },
    onError: (e) => { void qc.invalidateQueries({ queryKey: keys.members }); toast.error(e); },
  });
  const remove = useMutation({
    mutationFn: (m: Schemas['MemberDto']) => unwrap(api.DELETE('/api/v1/members/{userId}', { params: { path: { userId: m.user_id } } })).then(() => m),
    onSuccess: (m) => { void qc.invalidateQueries({ queryKey: keys.members }); toast.success('Member removed', m.email); },
    onError: (e) => toast.error(e),
  });
  const withdraw = useMutation({
    mutationFn: (i: Schemas['InviteDto']) => unwrap(api.DELETE('/api/v1/invites/{id}', { params: { path: { id: i.id } } })).then(() => i),
    onSuccess: (i) => { void qc.invalidateQueries({ queryKey: keys.invites }); toast.success('Invite withdrawn', i.email); },
    onError: (e) => toast.error(e),
  });

  return (
    <>
      <PageHeader title="Members" actions={canManage && <Invite roles={roles} />}>
        People in {me?.current_organization?.name ?? 'this organization'} and what they may do.
      </PageHeader>
      <ErrorNote error={members.error} />
      <DataTable
        columns={['Member', 'Role', 'Joined', '']}
        empty={members.data?.items.length === 0 && <Empty><Users className="mx-auto mb-2 h-8 w-8 text-zinc-300" aria-hidden />No members.</Empty>}
      >
        {members.isPending && <tr><td colSpan={4} className="px-4 py-3"><Skeleton /></td></tr>}
        {members.data?.items.map((m) => {
          const self = m.user_id === me?.user?.id;
          const editable = canManage && (m.role !== 'owner' || roles.includes('owner'));
          return (
            <tr key={m.user_id} data-member={m.email}>
              <td className="px-4 py-2">
                <div className="font-medium">{m.name || m.email}{self && <span className="ml-2 text-xs text-zinc-500">(you)</span>}</div>
                <div className="text-xs text-zinc-500">{m.email}</div>
              </td>
              <td className="px-4 py-2">
                {editable ? (
                  <Select
                    aria-label={`Role of ${m.email}`}
                    className="h-8 w-32"
                    value={m.role}
                    disabled={change.isPending}
                    onChange={(e) => change.mutate({ member: m, role: e.target.value })}
                  >
                    {roles.map((r) => <option key={r} value={r}>{r}</option>)}
                  </Select>
                ) : (
                  <Badge className="bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700">{m.role}</Badge>
                )}
              </td>
              <td className="px-4 py-2 whitespace-nowrap text-zinc-500" title={formatTime(m.joined_at)}>{relativeTime(m.joined_at)}</td>
              <td className="px-4 py-2 text-right">
                {editable && (
                  <ConfirmDialog
                    trigger={<Button variant="ghost" size="sm" aria-label={`Remove ${m.email}`} disabled={remove.isPending}><Trash2 className="h-3.5 w-3.5" /> {self ? 'Leave' : 'Remove'}</Button>}
                    title={self ? 'Leave this organization?' : `Remove ${m.email}?`}
                    description={self ? 'You lose access to it at once.' : 'They lose access to this organization at once; their account stays.'}
                    confirmLabel={self ? 'Leave' : 'Remove member'}
                    destructive
                    onConfirm={() => remove.mutate(m)}
                  />
                )}
              </td>
            </tr>
          );
        })}
      </DataTable>

      {canManage && (
        <div className="mt-8">
          <h2 className="mb-2 text-sm font-semibold">Open invites</h2>
          <DataTable
            columns={['Email', 'Role', 'Expires', '']}
            empty={invites.data?.items.length === 0 && <Empty><Mail className="mx-auto mb-2 h-6 w-6 text-zinc-300" aria-hidden />No open invites.</Empty>}
          >
            {invites.isPending && <tr><td colSpan={4} className="px-4 py-3"><Skeleton /></td></tr>}
            {invites.data?.items.map((i) => (
              <tr key={i.id} data-invite={i.email}>
                <td className="px-4 py-2">{i.email}</td>
                <td className="px-4 py-2">{i.role}</td>
                <td className="px-4 py-2 whitespace-nowrap text-zinc-500">{i.expired ? <span className="text-red-600">expired</span> : relativeTime(i.expires_at)}</td>
                <td className="px-4 py-2 text-right">
                  <Button variant="ghost" size="sm" aria-label={`Withdraw invite for ${i.email}`} disabled={withdraw.isPending} onClick={() => withdraw.mutate(i)}>
                    <Trash2 className="h-3.5 w-3.5" /> Withdraw
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        </div>
      )}
    </>
  );
}
