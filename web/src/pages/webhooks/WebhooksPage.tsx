import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Plus, Send, Trash2, Webhook } from 'lucide-react';
import { api, ApiError, unwrap, type Schemas } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useWebhooks } from '@/api/queries';
import { CopyButton } from '@/components/CopyButton';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Modal } from '@/components/ui/dialog';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input } from '@/components/ui/input';
import { DataTable } from '@/components/ui/table';
import { toast } from '@/lib/toast';
import { formatTime, relativeTime } from '@/lib/utils';
import { parseEventTypes, WEBHOOK_EVENT_HINT } from './webhookForm';

type Created = Schemas['WebhookCreatedDto'];

export const disabledBadge = 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800';
export const enabledBadge = 'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800';

/** Send a test event to an endpoint and delete one, each saying how it went. */
export function useWebhookActions() {
  const qc = useQueryClient();
  const test = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/webhooks/{id}/test', { params: { path: { id } } })),
    onSuccess: (_, id) => { void qc.invalidateQueries({ queryKey: keys.webhookDeliveries(id) }); toast.success('Test event sent', 'Its delivery is in the log.'); },
    onError: (e) => toast.error(e),
  });
  const remove = useMutation({
    mutationFn: async (id: string) => { await unwrap(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } } })); return id; },
    onSuccess: (id) => { qc.removeQueries({ queryKey: keys.webhook(id) }); void qc.invalidateQueries({ queryKey: keys.webhooks }); toast.success('Webhook deleted'); },
    onError: (e) => toast.error(e),
  });
  return { test, remove, busy: test.isPending || remove.isPending };
}

/** The form of a new endpoint; once created, its signing secret, shown this once. */
function NewWebhook() {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState('job.failed, monitor.down');
  const [created, setCreated] = useState<Created | null>(null);
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/webhooks', { body: { url: url.trim(), description: description.trim() || null, event_types: parseEventTypes(types) } })),
    onSuccess: (w) => { setCreated(w); void qc.invalidateQueries({ queryKey: keys.webhooks }); },
  });
  const close = (o: boolean) => {
    setOpen(o);
    if (!o) { setCreated(null); setUrl(''); setDescription(''); create.reset(); }
  };
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <Modal
      trigger={<Button size="sm"><Plus className="h-4 w-4" /> New webhook</Button>}
      open={open}
      onOpenChange={close}
      title={created ? 'Webhook created' : 'New webhook'}
      description={created ? 'Copy the signing secret now: it is not shown again.' : 'Kairos POSTs each event to the URL, signed with HMAC-SHA256 in Kairos-Signature.'}
    >
      {created ? (
        <div className="space-y-4">
          <div className="flex items-center gap-2">
            <code className="min-w-0 flex-1 rounded bg-zinc-100 px-2 py-1.5 font-mono text-xs break-all dark:bg-zinc-800" data-testid="webhook-secret">{created.secret}</code>
            <CopyButton text={created.secret} label="Copy the secret" />
          </div>
          <p className="text-xs text-zinc-500">Verify a delivery: HMAC-SHA256 with this secret over <code className="font-mono">{'{t}.{body}'}</code>, compared with <code className="font-mono">v1</code> of <code className="font-mono">Kairos-Signature: t=…,v1=…</code>.</p>
          <div className="flex justify-end"><Button onClick={() => close(false)}>I have copied it</Button></div>
        </div>
      ) : (
        <form onSubmit={submit} noValidate className="space-y-4">
          <FormField id="wh-url" label="URL" errors={fieldErrors(create.error, 'url')}>
            <Input id="wh-url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/hooks/kairos" autoFocus />
          </FormField>
          <FormField id="wh-types" label="Event types" hint={WEBHOOK_EVENT_HINT} errors={fieldErrors(create.error, 'event_types')}>
            <Input id="wh-types" value={types} onChange={(e) => setTypes(e.target.value)} spellCheck={false} />
          </FormField>
          <FormField id="wh-desc" label="Description" errors={fieldErrors(create.error, 'description')}>
            <Input id="wh-desc" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="optional" />
          </FormField>
          {create.error instanceof ApiError && !create.error.errors && <ErrorNote error={create.error} />}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="outline" onClick={() => close(false)}>Back</Button>
            <Button type="submit" disabled={create.isPending}>Create webhook</Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

/** Webhook endpoints: create (the secret shown once), send a test event, delete; each opens its delivery log. */
export function WebhooksPage() {
  const canManage = useCan('webhooks.manage');
  const webhooks = useWebhooks(canManage);
  const actions = useWebhookActions();
  const items = webhooks.data?.items ?? [];
  if (!canManage) return <><PageHeader title="Webhooks" /><ErrorNote error="Webhooks are for admins and owners (webhooks.manage)." /></>;
  return (
    <>
      <PageHeader title="Webhooks" actions={<NewWebhook />}>Signed HTTP POSTs of the events you pick, retried with backoff for about a day.</PageHeader>
      <ErrorNote error={webhooks.error} />
      <DataTable
        columns={['URL', 'Events', 'State', 'Created', '']}
        empty={webhooks.data && items.length === 0 && (
          <Empty><Webhook className="mx-auto mb-2 h-8 w-8 text-zinc-300 dark:text-zinc-700" aria-hidden />No webhooks yet.</Empty>
        )}
      >
        {webhooks.isPending && <tr><td colSpan={5} className="px-4 py-3"><Skeleton /></td></tr>}
        {items.map((w) => (
          <tr key={w.id} data-webhook={w.url} className="hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
            <td className="max-w-sm px-4 py-2">
              <Link to={`/webhooks/${w.id}`} className="block truncate font-mono text-xs hover:underline" title={w.url}>{w.url}</Link>
              {w.description && <div className="text-xs text-zinc-500">{w.description}</div>}
            </td>
            <td className="px-4 py-2 text-xs">{w.event_types.join(', ')}</td>
            <td className="px-4 py-2">
              {w.enabled ? <Badge className={enabledBadge}>enabled</Badge> : <Badge className={disabledBadge} title={w.disabled_reason ?? undefined}>disabled</Badge>}
              {!!w.failing_since && <div className="text-xs text-amber-700 dark:text-amber-400">failing since {relativeTime(w.failing_since)}</div>}
            </td>
            <td className="px-4 py-2 whitespace-nowrap" title={formatTime(w.created_at)}>{relativeTime(w.created_at)}</td>
            <td className="px-4 py-2 text-right whitespace-nowrap">
              <Button variant="ghost" size="sm" aria-label={`Send a test event to ${w.url}`} title="Send a test event" disabled={actions.busy} onClick={() => actions.test.mutate(w.id)}>
                <Send className="h-3.5 w-3.5" />
              </Button>
              <ConfirmDialog
                trigger={<Button variant="ghost" size="sm" aria-label={`Delete ${w.url}`} title="Delete" disabled={actions.busy}><Trash2 className="h-3.5 w-3.5" /></Button>}
                title="Delete this webhook?"
                description={<>No more events go to <span className="font-mono">{w.url}</span>; its delivery log goes with it.</>}
                confirmLabel="Delete webhook"
                destructive
                onConfirm={() => actions.remove.mutate(w.id)}
              />
            </td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}
