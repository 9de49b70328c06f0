import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { KeyRound, Plus, Trash2, TriangleAlert } from 'lucide-react';
import { api, unwrap, type Schemas } from '@/api/client';
import { keys } from '@/api/keys';
import { useApiKeys, useCan } from '@/api/queries';
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

const SCOPES = [
  { value: 'read', label: 'read', hint: 'reads everything' },
  { value: 'worker', label: 'worker', hint: 'runs the worker protocol' },
  { value: 'admin', label: 'admin', hint: 'manages like an admin, and runs workers' },
] as const;

const EXPIRY: Record<string, number | null> = { never: null, '30 days': 30, '90 days': 90, '1 year': 365 };

/** When a key made now with this lifetime (in days) expires. */
export function expiresAt(days: number | null, now: number = Date.now()): string | null {
  return days === null ? null : new Date(now + days * 86_400_000).toISOString();
}

function CreateKey({ onCreated }: { onCreated: (k: Schemas['CreatedApiKeyDto']) => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['worker']);
  const [expiry, setExpiry] = useState('never');
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/api-keys', { body: { name: name.trim(), scopes, expires_at: expiresAt(EXPIRY[expiry] ?? null) } })),
    onSuccess: (k) => {
      void qc.invalidateQueries({ queryKey: keys.apiKeys });
      setOpen(false);
      setName('');
      onCreated(k);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Modal
      trigger={<Button size="sm"><Plus className="h-4 w-4" /> New API key</Button>}
      open={open}
      onOpenChange={(o) => { setOpen(o); if (!o) create.reset(); }}
      title="New API key"
      description="For workers, scripts and CI. The key is shown once, right after it is made."
    >
      <form onSubmit={submit} className="space-y-4">
        <FormField id="key-name" label="Name" errors={fieldErrors(create.error, 'name')}>
          <Input id="key-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-deploy" required autoFocus />
        </FormField>
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium">Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s.value} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                className="h-4 w-4 accent-indigo-600"
                checked={scopes.includes(s.value)}
                onChange={(e) => setScopes(e.target.checked ? [...scopes, s.value] : scopes.filter((x) => x !== s.value))}
              />
              <span className="font-mono">{s.label}</span> <span className="text-zinc-500">{s.hint}</span>
            </label>
          ))}
          {fieldErrors(create.error, 'scopes').map((m) => <p key={m} className="text-xs text-red-600 dark:text-red-400">{m}</p>)}
        </fieldset>
        <FormField id="key-expiry" label="Expires" errors={fieldErrors(create.error, 'expires_at')}>
          <Select id="key-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {Object.keys(EXPIRY).map((k) => <option key={k} value={k}>{k === 'never' ? 'Never' : `In ${k}`}</option>)}
          </Select>
        </FormField>
        {create.error && !fieldErrors(create.error, 'name', 'scopes', 'expires_at').length && <ErrorNote error={create.error} />}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" onClick={() => setOpen(false)}>Cancel</Button>
          <Button type="submit" disabled={create.isPending || scopes.length === 0 || !name.trim()}>{create.isPending ? 'Creating…' : 'Create key'}</Button>
        </div>
      </form>
    </Modal>
  );
}

/** The new key, shown this once with a copy button. */
function ShowKeyOnce({ created, onClose }: { created: Schemas['CreatedApiKeyDto'] | null; onClose: () => void }) {
  return (
    <Modal open={!!created} onOpenChange={(o) => !o && onClose()} title={`Key ${created?.name ?? ''} created`}>
      {created && (
        <div className="space-y-4">
          <div className="flex items-start gap-2 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
            <TriangleAlert className="mt-0.5 h-4 w-4 shrink-0" aria-hidden />
            Copy it now: it is stored hashed and cannot be shown again.
          </div>
          <div className="flex items-center gap-2">
            <code data-testid="new-api-key" className="min-w-0 flex-1 rounded-md bg-zinc-100 px-3 py-2 font-mono text-xs break-all select-all dark:bg-zinc-950">{created.key}</code>
            <CopyButton text={created.key} label="Copy key" withText />
          </div>
          <p className="text-xs text-zinc-500">Use it as <code className="font-mono">Authorization: Bearer {created.prefix}…</code></p>
          <div className="flex justify-end"><Button onClick={onClose}>I have copied it</Button></div>
        </div>
      )}
    </Modal>
  );
}

export function ApiKeysPage() {
  const list = useApiKeys();
  const canManage = useCan('keys.manage');
  const [created, setCreated] = useState<Schemas['CreatedApiKeyDto'] | null>(null);
  const qc = useQueryClient();
  const revoke = useMutation({
    mutationFn: (k: Schemas['ApiKeyDto']) => unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: k.id } } })).then(() => k),
    onSuccess: (k) => {
      void qc.invalidateQueries({ queryKey: keys.apiKeys });
      toast.success('Key revoked', k.name);
    },
    onError: (e) => toast.error(e),
  });

  return (
    <>
      <PageHeader title="API keys" actions={canManage && <CreateKey onCreated={setCreated} />}>
        Keys for workers, scripts and CI, scoped and revocable.
      </PageHeader>
      <ShowKeyOnce created={created} onClose={() => setCreated(null)} />
      {!canManage && <p className="mb-4 text-sm text-zinc-500">Only admins manage API keys.</p>}
      <ErrorNote error={list.error} />
      <DataTable
        columns={['Name', 'Key', 'Scopes', 'Created', 'Last used', 'Expires', '']}
        empty={list.data?.items.length === 0 && (
          <Empty>
            <KeyRound className="mx-auto mb-2 h-8 w-8 text-zinc-300 dark:text-zinc-700" aria-hidden />
            No API keys yet.
          </Empty>
        )}
      >
        {list.isPending && <tr><td colSpan={7} className="px-4 py-3"><Skeleton /></td></tr>}
        {list.data?.items.map((k) => (
          <tr key={k.id} data-api-key={k.name}>
            <td className="px-4 py-2 font-medium">{k.name}</td>
            <td className="px-4 py-2 font-mono text-xs">{k.prefix}…</td>
            <td className="px-4 py-2"><div className="flex gap-1">{k.scopes.map((s) => <Badge key={s} className="bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700">{s}</Badge>)}</div></td>
            <td className="px-4 py-2 whitespace-nowrap text-zinc-500" title={formatTime(k.created_at)}>{relativeTime(k.created_at)}</td>
            <td className="px-4 py-2 whitespace-nowrap text-zinc-500">{k.last_used_at ? relativeTime(k.last_used_at) : 'never'}</td>
            <td className="px-4 py-2 whitespace-nowrap text-zinc-500">{k.expires_at ? formatTime(k.expires_at) : 'never'}</td>
            <td className="px-4 py-2 text-right">
              {canManage && (
                <ConfirmDialog
                  trigger={<Button variant="ghost" size="sm" aria-label={`Revoke ${k.name}`} disabled={revoke.isPending}><Trash2 className="h-3.5 w-3.5" /> Revoke</Button>}
                  title={`Revoke ${k.name}?`}
                  description="Whatever uses it is refused from now on. This cannot be undone."
                  confirmLabel="Revoke key"
                  destructive
                  onConfirm={() => revoke.mutate(k)}
                />
              )}
            </td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}
