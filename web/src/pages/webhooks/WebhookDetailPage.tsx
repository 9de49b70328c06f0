import { Fragment, useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ChevronDown, ChevronRight, Pencil, Power, RotateCcw, Send, Trash2 } from 'lucide-react';
import { api, ApiError, unwrap, type Schemas } from '@/api/client';
import { keys } from '@/api/keys';
import { useWebhook, useWebhookDeliveries, useWebhookDelivery } from '@/api/queries';
import { JsonView } from '@/components/JsonView';
import { BackLink, Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { StateBadge } from '@/components/StateBadge';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Modal } from '@/components/ui/dialog';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input } from '@/components/ui/input';
import { DataTable } from '@/components/ui/table';
import { toast } from '@/lib/toast';
import { formatDuration, formatTime, relativeTime } from '@/lib/utils';
import { deliveryBadge, statusText, WEBHOOK_EVENT_HINT, webhookEditForm, webhookPatchFrom, type WebhookEditForm } from './webhookForm';
import { disabledBadge, enabledBadge, useWebhookActions } from './WebhooksPage';

/** One delivery opened: its body and every attempt with status, duration, response and request headers. */
function DeliveryDetail({ webhook, delivery }: { webhook: string; delivery: string }) {
  const d = useWebhookDelivery(webhook, delivery);
  if (d.isPending) return <Skeleton className="h-16 w-full" />;
  if (!d.data) return <ErrorNote error={d.error} />;
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <JsonView label="Body" value={d.data.body} />
      <ol className="space-y-2 text-xs" aria-label="Attempts">
        {(d.data.attempt_log ?? []).map((a) => (
          <li key={a.number} className="rounded border border-zinc-200 p-2 dark:border-zinc-800">
            <div className="flex flex-wrap gap-x-3 font-medium">
              <span>Attempt {a.number}</span><span>{statusText(a.status, a.error)}</span><span>{formatDuration(a.duration_ms)}</span>
              <span className="font-normal text-zinc-500">{formatTime(a.at)}</span>
            </div>
            {a.error && <p className="mt-1 text-red-600 dark:text-red-400">{a.error}</p>}
            {a.response && <pre className="mt-1 max-h-32 overflow-auto whitespace-pre-wrap text-zinc-600 dark:text-zinc-400">{a.response}</pre>}
            <details className="mt-1"><summary className="cursor-pointer text-zinc-500">Request headers</summary><pre className="whitespace-pre-wrap">{a.request_headers}</pre></details>
          </li>
        ))}
        {d.data.attempt_log?.length === 0 && <li className="text-zinc-500">No attempt yet.</li>}
      </ol>
    </div>
  );
}

/** Changes an endpoint's URL, event types and description (its signing secret stays). */
function EditWebhook({ webhook }: { webhook: Schemas['WebhookDto'] }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState<WebhookEditForm>(() => webhookEditForm(webhook));
  const [local, setLocal] = useState<Record<string, string[]>>({});
  const save = useMutation({
    mutationFn: (body: NonNullable<ReturnType<typeof webhookPatchFrom>['body']>) => unwrap(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: webhook.id } }, body })),
    onSuccess: (w) => { qc.setQueryData(keys.webhook(webhook.id), w); void qc.invalidateQueries({ queryKey: keys.webhooks }); toast.success('Webhook saved'); setOpen(false); },
  });
  const openWith = (o: boolean) => {
    if (o) { setForm(webhookEditForm(webhook)); setLocal({}); save.reset(); }
    setOpen(o);
  };
  const errs = (n: string) => [...(local[n] ?? []), ...fieldErrors(save.error, n)];
  const set = (k: keyof WebhookEditForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = webhookPatchFrom(form);
    setLocal(r.errors ?? {});
    if (r.body) save.mutate(r.body);
  };
  return (
    <Modal trigger={<Button variant="outline" size="sm"><Pencil className="h-4 w-4" /> Edit</Button>} open={open} onOpenChange={openWith} title="Edit webhook"
      description="The signing secret stays the same.">
      <form onSubmit={submit} noValidate className="space-y-4">
        <FormField id="whe-url" label="URL" errors={errs('url')}><Input id="whe-url" value={form.url} onChange={set('url')} /></FormField>
        <FormField id="whe-types" label="Event types" hint={WEBHOOK_EVENT_HINT} errors={errs('event_types')}><Input id="whe-types" value={form.types} onChange={set('types')} spellCheck={false} /></FormField>
        <FormField id="whe-desc" label="Description" errors={errs('description')}><Input id="whe-desc" value={form.description} onChange={set('description')} placeholder="optional" /></FormField>
        {save.error instanceof ApiError && !save.error.errors && <ErrorNote error={save.error} />}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" onClick={() => setOpen(false)}>Back</Button>
          <Button type="submit" disabled={save.isPending}>Save webhook</Button>
        </div>
      </form>
    </Modal>
  );
}

/** A webhook endpoint: its settings, a test event, enable again, delete, and its delivery log with redeliver. */
export function WebhookDetailPage() {
  const { id = '' } = useParams();
  const webhook = useWebhook(id);
  const deliveries = useWebhookDeliveries(id);
  const actions = useWebhookActions();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [open, setOpen] = useState<string | null>(null);
  const redeliver = useMutation({
    mutationFn: (delivery: string) => unwrap(api.POST('/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', { params: { path: { id, deliveryId: delivery } } })),
    onSuccess: () => { void qc.invalidateQueries({ queryKey: keys.webhookDeliveries(id) }); toast.success('Delivery sent again'); },
    onError: (e) => toast.error(e),
  });
  const enable = useMutation({
    mutationFn: (enabled: boolean) => unwrap(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id } }, body: { url: null, description: null, event_types: null, enabled } })),
    onSuccess: (w) => { qc.setQueryData(keys.webhook(id), w); void qc.invalidateQueries({ queryKey: keys.webhooks }); toast.success(w.enabled ? 'Webhook enabled' : 'Webhook disabled'); },
    onError: (e) => toast.error(e),
  });
  const w = webhook.data;
  if (webhook.isPending) return <Skeleton className="h-40 w-full" />;
  if (!w) return <ErrorNote error={webhook.error ?? 'No such webhook.'} />;
  const items = deliveries.data?.items ?? [];

  return (
    <>
      <BackLink to="/webhooks">Webhooks</BackLink>
      <PageHeader
        title={<span className="flex flex-wrap items-center gap-3 font-mono text-base break-all">{w.url}{w.enabled ? <Badge className={enabledBadge}>enabled</Badge> : <Badge className={disabledBadge}>disabled</Badge>}</span>}
        actions={(
          <>
            <Button size="sm" onClick={() => actions.test.mutate(w.id)} disabled={actions.busy}><Send className="h-4 w-4" /> Send test event</Button>
            <EditWebhook webhook={w} />
            <Button variant="outline" size="sm" onClick={() => enable.mutate(!w.enabled)} disabled={enable.isPending}><Power className="h-4 w-4" /> {w.enabled ? 'Disable' : 'Enable'}</Button>
            <ConfirmDialog
              trigger={<Button variant="outline" size="sm" disabled={actions.busy}><Trash2 className="h-4 w-4" /> Delete</Button>}
              title="Delete this webhook?"
              description="No more events go to it; its delivery log goes with it."
              confirmLabel="Delete webhook"
              destructive
              onConfirm={() => actions.remove.mutate(w.id, { onSuccess: () => navigate('/webhooks', { replace: true }) })}
            />
          </>
        )}
      >
        {w.description ? `${w.description} · ` : ''}{w.event_types.join(', ')}
        {!w.enabled && w.disabled_reason && <div className="text-red-600 dark:text-red-400">Disabled: {w.disabled_reason}</div>}
        {!!w.failing_since && <div className="text-amber-700 dark:text-amber-400">Failing since {formatTime(w.failing_since)}: after 3 days of failures it is disabled.</div>}
      </PageHeader>
      <h2 className="mb-2 text-sm font-semibold">Deliveries</h2>
      <ErrorNote error={deliveries.error} />
      <DataTable
        columns={['', 'Event', 'State', { label: 'Attempts', numeric: true }, { label: 'Last status', numeric: true }, 'When', '']}
        empty={deliveries.data && items.length === 0 && <Empty>No deliveries yet. Send a test event to see one.</Empty>}
      >
        {deliveries.isPending && <tr><td colSpan={7} className="px-4 py-3"><Skeleton /></td></tr>}
        {items.map((d) => {
          const expanded = open === d.id;
          return (
            <Fragment key={d.id}>
              <tr data-delivery={d.event_type} data-delivery-state={d.state}>
                <td className="w-6 py-2 pl-3">
                  <button type="button" aria-label={expanded ? 'Hide the delivery' : 'Show the delivery'} aria-expanded={expanded} className="text-zinc-500" onClick={() => setOpen(expanded ? null : d.id)}>
                    {expanded ? <ChevronDown className="h-4 w-4" /> : <ChevronRight className="h-4 w-4" />}
                  </button>
                </td>
                <td className="px-4 py-2 font-mono text-xs">{d.event_type}</td>
                <td className="px-4 py-2"><StateBadge state={deliveryBadge(d.state, d.attempts)} /></td>
                <td className="px-4 py-2 text-right tabular-nums">{d.attempts}</td>
                <td className="px-4 py-2 text-right tabular-nums">{d.last_status ?? '—'}</td>
                <td className="px-4 py-2 whitespace-nowrap" title={formatTime(d.created_at)}>{relativeTime(d.created_at)}</td>
                <td className="px-4 py-2 text-right">
                  <Button variant="ghost" size="sm" aria-label={`Redeliver ${d.event_type}`} title="Send it again" disabled={redeliver.isPending} onClick={() => redeliver.mutate(d.id)}>
                    <RotateCcw className="h-3.5 w-3.5" />
                  </Button>
                </td>
              </tr>
              {expanded && <tr><td colSpan={7} className="bg-zinc-50 px-4 py-3 dark:bg-zinc-950"><DeliveryDetail webhook={w.id} delivery={d.id} /></td></tr>}
            </Fragment>
          );
        })}
      </DataTable>
    </>
  );
}
