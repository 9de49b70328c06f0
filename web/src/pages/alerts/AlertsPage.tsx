import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { BellRing, Check, History, Pencil, Plus, Send, Trash2 } from 'lucide-react';
import { api, ApiError, unwrap } from '@/api/client';
import { useAlertChannels, useAlertRules, useCan, useIncident, useIncidents, useMaintenanceWindows } from '@/api/queries';
import { Empty, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Modal } from '@/components/ui/dialog';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input, Select } from '@/components/ui/input';
import { DataTable } from '@/components/ui/table';
import { ManagedBadge, managedHint, useManagedObjects } from '@/components/ManagedBadge';
import { toast } from '@/lib/toast';
import { cn, formatDuration, formatTime, relativeTime } from '@/lib/utils';
import {
  CHANNEL_FIELDS, CHANNEL_KINDS, channelConfigFrom, channelFieldsFrom, channelUpdateFrom, describeRule, emptyRuleForm, RULE_KINDS, ruleFormFrom, ruleRequestFrom,
  windowRequestFrom, type AlertChannel, type AlertRule, type ChannelKind, type RuleForm, type RuleKind, type WindowForm,
} from './alertForm';

const TABS = [
  { id: 'incidents', label: 'Incidents' },
  { id: 'rules', label: 'Rules' },
  { id: 'channels', label: 'Channels' },
  { id: 'maintenance', label: 'Maintenance' },
] as const;
type Tab = (typeof TABS)[number]['id'];

const openBadge = 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800';
const okBadge = 'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800';
const greyBadge = 'bg-zinc-100 text-zinc-600 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-700';

/** One mutation that says how it went and refreshes every alerts query. */
function useAlertMutation<T, R>(fn: (input: T) => Promise<R>, done: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['alerts'] }); toast.success(done); },
    onError: (e) => toast.error(e),
  });
}

const eventTone: Record<string, string> = { opened: 'text-red-600 dark:text-red-400', resolved: 'text-emerald-600 dark:text-emerald-400', notify_failed: 'text-amber-700 dark:text-amber-400' };

/** An incident's timeline: opened, each notification (and failure), suppressed repeats, resolved. */
function IncidentHistory({ id, title }: { id: string; title: string }) {
  const [open, setOpen] = useState(false);
  const incident = useIncident(id, open);
  const events = incident.data?.events ?? [];
  return (
    <Modal
      trigger={<Button variant="ghost" size="sm" aria-label={`History of ${title}`} title="History"><History className="h-3.5 w-3.5" /></Button>}
      open={open} onOpenChange={setOpen} title={title}
      description={incident.data ? `${incident.data.rule} · ${incident.data.key} · fired ${incident.data.fire_count === 1 ? 'once' : `${incident.data.fire_count} times`}` : undefined}
    >
      {incident.isPending && <Skeleton />}
      <ErrorNote error={incident.error} />
      {incident.data?.summary && <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400">{incident.data.summary}</p>}
      <ol className="space-y-2 border-l border-zinc-200 pl-4 text-sm dark:border-zinc-800" aria-label="Timeline">
        {events.map((e, n) => (
          <li key={n} data-incident-event={e.kind}>
            <div className="flex flex-wrap items-baseline gap-x-2">
              <span className={cn('font-medium', eventTone[e.kind])}>{e.kind.replace('_', ' ')}</span>
              <span className="text-xs text-zinc-500" title={formatTime(e.at)}>{formatTime(e.at)}</span>
            </div>
            {e.message && <div className="text-xs text-zinc-600 dark:text-zinc-400">{e.message}</div>}
          </li>
        ))}
      </ol>
    </Modal>
  );
}

function Incidents({ canManage }: { canManage: boolean }) {
  const [state, setState] = useState('open');
  const incidents = useIncidents(state);
  const resolve = useAlertMutation((id: string) => unwrap(api.POST('/api/v1/incidents/{id}/resolve', { params: { path: { id } } })), 'Incident resolved');
  const items = incidents.data?.items ?? [];
  return (
    <>
      <div className="mb-3 w-44">
        <Select aria-label="Incident state" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="open">Open</option><option value="resolved">Resolved</option><option value="">All</option>
        </Select>
      </div>
      <ErrorNote error={incidents.error} />
      <DataTable
        columns={['Incident', 'Rule', 'State', 'Opened', { label: 'Fired', numeric: true }, '']}
        empty={incidents.data && items.length === 0 && <Empty>{state === 'open' ? 'Nothing is on fire.' : 'No incidents.'}</Empty>}
      >
        {incidents.isPending && <tr><td colSpan={6} className="px-4 py-3"><Skeleton /></td></tr>}
        {items.map((i) => (
          <tr key={i.id} data-incident={i.rule}>
            <td className="px-4 py-2"><div className="font-medium">{i.title}</div>{i.summary && <div className="text-xs text-zinc-500">{i.summary}</div>}</td>
            <td className="px-4 py-2 text-xs">{i.rule}<div className="font-mono text-zinc-500">{i.key}</div></td>
            <td className="px-4 py-2"><Badge className={i.state === 'open' ? openBadge : okBadge}>{i.state}</Badge></td>
            <td className="px-4 py-2 whitespace-nowrap" title={formatTime(i.opened_at)}>{relativeTime(i.opened_at)}{i.resolved_at ? <div className="text-xs text-zinc-500">resolved {relativeTime(i.resolved_at)}</div> : null}</td>
            <td className="px-4 py-2 text-right tabular-nums" title={`last ${formatTime(i.last_fired_at)}`}>{i.fire_count}</td>
            <td className="px-4 py-2 text-right whitespace-nowrap">
              <IncidentHistory id={i.id} title={i.title} />
              {canManage && i.state === 'open' && (
                <Button variant="ghost" size="sm" aria-label={`Resolve ${i.title}`} title="Resolve by hand" disabled={resolve.isPending} onClick={() => resolve.mutate(i.id)}><Check className="h-3.5 w-3.5" /></Button>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}

/** Creates a rule, or (given <code>rule</code>) edits it: same name, PUT. */
function RuleDialog({ channels, rule }: { channels: string[]; rule?: AlertRule }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState<RuleForm>(emptyRuleForm);
  const [local, setLocal] = useState<Record<string, string[]>>({});
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (body: NonNullable<ReturnType<typeof ruleRequestFrom>['body']>) =>
      rule ? unwrap(api.PUT('/api/v1/alert-rules/{name}', { params: { path: { name: rule.name } }, body })) : unwrap(api.POST('/api/v1/alert-rules', { body })),
    onSuccess: (r) => { void qc.invalidateQueries({ queryKey: ['alerts'] }); toast.success(rule ? 'Rule saved' : 'Rule created', r.name); setOpen(false); setForm(emptyRuleForm()); },
  });
  const openWith = (o: boolean) => {
    if (o) { setForm(rule ? ruleFormFrom(rule) : emptyRuleForm()); setLocal({}); create.reset(); }
    setOpen(o);
  };
  const errs = (...n: string[]) => [...n.flatMap((x) => local[x] ?? []), ...fieldErrors(create.error, ...n)];
  const set = (k: keyof RuleForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = ruleRequestFrom(form);
    setLocal(r.errors ?? {});
    if (r.body) create.mutate(r.body);
  };
  const k = form.kind;
  const field = (id: keyof RuleForm, label: string, hint?: string, server = id as string) => (
    <FormField id={`r-${id}`} label={label} hint={hint} errors={errs(server)}>
      <Input id={`r-${id}`} value={form[id] as string} onChange={set(id)} />
    </FormField>
  );
  return (
    <Modal
      trigger={rule
        ? <Button variant="ghost" size="sm" aria-label={`Edit ${rule.name}`} title="Edit"><Pencil className="h-3.5 w-3.5" /></Button>
        : <Button size="sm"><Plus className="h-4 w-4" /> New rule</Button>}
      open={open} onOpenChange={openWith} title={rule ? `Edit ${rule.name}` : 'New alert rule'}
    >
      <form onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2">
        {!rule && field('name', 'Name')}
        <FormField id="r-kind" label="Fires on" errors={errs('kind')}>
          <Select id="r-kind" value={k} onChange={(e) => setForm((f) => ({ ...f, kind: e.target.value as RuleKind }))}>
            {Object.entries(RULE_KINDS).map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </Select>
        </FormField>
        {(k === 'job_failed' || k === 'failure_rate' || k === 'queue_backlog') && field('queue', 'Queue', 'empty: every queue')}
        {(k === 'job_failed' || k === 'failure_rate') && field('type', 'Job type', 'empty: every type')}
        {k === 'job_failed' && field('threshold', 'Failures', 'empty or 1: every failure')}
        {k === 'queue_backlog' && field('threshold', 'Ready jobs above')}
        {k === 'queue_backlog' && field('max_age_minutes', 'Oldest waits over (min)', undefined, 'max_age_ms')}
        {k === 'failure_rate' && field('rate_percent', 'Failed above (%)')}
        {k === 'failure_rate' && field('min_jobs', 'At least (jobs)', 'finished in the window')}
        {(k === 'job_failed' || k === 'failure_rate' || k === 'schedule_misfire') && field('window_minutes', 'Window (min)', undefined, 'window_ms')}
        {k === 'monitor' && field('monitor', 'Monitor (slug)', 'empty: every monitor')}
        {k === 'monitor' && field('monitor_states', 'States', 'late, down, late_start')}
        {k === 'schedule_misfire' && field('schedule', 'Schedule', 'empty: every schedule')}
        {field('cooldown_minutes', 'Cool-down (min)', 'no repeat within it', 'cooldown_ms')}
        <fieldset className="space-y-1 sm:col-span-2">
          <legend className="text-sm font-medium">Channels</legend>
          {channels.length === 0 && <p className="text-xs text-zinc-500">No channels yet: incidents are still recorded.</p>}
          <div className="flex flex-wrap gap-3">
            {channels.map((c) => (
              <label key={c} className="flex items-center gap-2 text-sm">
                <input type="checkbox" className="h-4 w-4 accent-indigo-600" checked={form.channels.includes(c)}
                  onChange={(e) => setForm((f) => ({ ...f, channels: e.target.checked ? [...f.channels, c] : f.channels.filter((x) => x !== c) }))} />
                {c}
              </label>
            ))}
          </div>
          {errs('channels').map((m) => <p key={m} className="text-xs text-red-600 dark:text-red-400">{m}</p>)}
        </fieldset>
        <label className="flex items-center gap-2 text-sm sm:col-span-2">
          <input type="checkbox" className="h-4 w-4 accent-indigo-600" checked={form.enabled} onChange={(e) => setForm((f) => ({ ...f, enabled: e.target.checked }))} />
          Enabled (a disabled rule fires no more)
        </label>
        {create.error instanceof ApiError && !create.error.errors && <div className="sm:col-span-2"><ErrorNote error={create.error} /></div>}
        <div className="flex justify-end gap-2 sm:col-span-2">
          <Button type="button" variant="outline" onClick={() => setOpen(false)}>Back</Button>
          <Button type="submit" disabled={create.isPending}>{rule ? 'Save rule' : 'Create rule'}</Button>
        </div>
      </form>
    </Modal>
  );
}

function Rules({ canManage }: { canManage: boolean }) {
  const rules = useAlertRules();
  const channels = useAlertChannels(canManage);
  const remove = useAlertMutation(async (name: string) => unwrap(api.DELETE('/api/v1/alert-rules/{name}', { params: { path: { name } } })), 'Rule deleted');
  const items = rules.data?.items ?? [];
  const channelNames = channels.data?.items.map((c) => c.name) ?? [];
  const managedSet = useManagedObjects().data;
  return (
    <>
      {canManage && <div className="mb-3 flex justify-end"><RuleDialog channels={channelNames} /></div>}
      <ErrorNote error={rules.error} />
      <DataTable columns={['Name', 'Watches', 'Channels', 'Cool-down', '']} empty={rules.data && items.length === 0 && <Empty>No alert rules yet.</Empty>}>
        {rules.isPending && <tr><td colSpan={5} className="px-4 py-3"><Skeleton /></td></tr>}
        {items.map((r) => { const managed = managedSet?.has(`AlertRule/${r.name}`) ?? false; return (
          <tr key={r.id} data-rule={r.name}>
            <td className="px-4 py-2 font-medium">{r.name}{!r.enabled && <Badge className={cn('ml-2', greyBadge)}>off</Badge>} <ManagedBadge kind="AlertRule" name={r.name} managed={managed} /></td>
            <td className="px-4 py-2 text-xs"><span className="font-medium">{RULE_KINDS[r.kind as RuleKind] ?? r.kind}</span><div className="text-zinc-500">{describeRule(r)}</div></td>
            <td className="px-4 py-2 text-xs">{r.channels.join(', ') || '—'}</td>
            <td className="px-4 py-2 whitespace-nowrap">{formatDuration(r.cooldown_ms)}</td>
            <td className="px-4 py-2 text-right whitespace-nowrap">
              {canManage && !managed && <RuleDialog channels={channelNames} rule={r} />}
              {canManage && (managed ? (
                <Button variant="ghost" size="sm" aria-label={`Delete ${r.name}`} title={managedHint('AlertRule', r.name)} disabled><Trash2 className="h-3.5 w-3.5" /></Button>
              ) : (
                <ConfirmDialog
                  trigger={<Button variant="ghost" size="sm" aria-label={`Delete ${r.name}`} title="Delete"><Trash2 className="h-3.5 w-3.5" /></Button>}
                  title={`Delete ${r.name}?`} description="It fires no more; its incidents stay in the history." confirmLabel="Delete rule" destructive
                  onConfirm={() => remove.mutate(r.name)}
                />
              ))}
            </td>
          </tr>
        ); })}
      </DataTable>
    </>
  );
}

/** Creates a channel, or (given <code>channel</code>) edits it: its kind stays, secret fields left empty keep what is stored. */
function ChannelDialog({ channel }: { channel?: AlertChannel }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<ChannelKind>('slack');
  const [fields, setFields] = useState<Record<string, string>>({});
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () => channel
      ? unwrap(api.PUT('/api/v1/alert-channels/{name}', { params: { path: { name: channel.name } }, body: { name: null, kind: channel.kind, config: channelUpdateFrom(channel, fields) } }))
      : unwrap(api.POST('/api/v1/alert-channels', { body: { name: name.trim(), kind, config: channelConfigFrom(kind, fields) } })),
    onSuccess: (c) => { void qc.invalidateQueries({ queryKey: ['alerts'] }); toast.success(channel ? 'Channel saved' : 'Channel created', c.name); setOpen(false); setName(''); setFields({}); },
  });
  const openWith = (o: boolean) => {
    if (o) { setFields(channel ? channelFieldsFrom(channel) : {}); setKind((channel?.kind as ChannelKind) ?? 'slack'); create.reset(); }
    setOpen(o);
  };
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <Modal
      trigger={channel
        ? <Button variant="ghost" size="sm" aria-label={`Edit ${channel.name}`} title="Edit"><Pencil className="h-3.5 w-3.5" /></Button>
        : <Button size="sm"><Plus className="h-4 w-4" /> New channel</Button>}
      open={open} onOpenChange={openWith} title={channel ? `Edit ${channel.name}` : 'New alert channel'}
      description={channel ? 'Secret fields are not shown: leave them empty to keep them.' : 'Secrets are stored encrypted and never shown again.'}
    >
      <form onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2">
        {!channel && <FormField id="c-name" label="Name" errors={fieldErrors(create.error, 'name')}><Input id="c-name" value={name} onChange={(e) => setName(e.target.value)} /></FormField>}
        {!channel && (
          <FormField id="c-kind" label="Kind" errors={fieldErrors(create.error, 'kind')}>
            <Select id="c-kind" value={kind} onChange={(e) => setKind(e.target.value as ChannelKind)}>
              {Object.entries(CHANNEL_KINDS).map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </Select>
          </FormField>
        )}
        {CHANNEL_FIELDS[kind].map((f) => (
          <FormField key={f.key} id={`c-${f.key}`} label={f.label} hint={f.hint} errors={fieldErrors(create.error, `config.${f.key}`, f.key)}>
            <Input id={`c-${f.key}`} type={f.secret ? 'password' : 'text'} autoComplete="off" value={fields[f.key] ?? ''}
              placeholder={channel && f.secret ? 'unchanged' : undefined} onChange={(e) => setFields((x) => ({ ...x, [f.key]: e.target.value }))} />
          </FormField>
        ))}
        {create.error instanceof ApiError && !create.error.errors && <div className="sm:col-span-2"><ErrorNote error={create.error} /></div>}
        <div className="flex justify-end gap-2 sm:col-span-2">
          <Button type="button" variant="outline" onClick={() => setOpen(false)}>Back</Button>
          <Button type="submit" disabled={create.isPending}>{channel ? 'Save channel' : 'Create channel'}</Button>
        </div>
      </form>
    </Modal>
  );
}

function Channels() {
  const channels = useAlertChannels(true);
  const remove = useAlertMutation(async (name: string) => unwrap(api.DELETE('/api/v1/alert-channels/{name}', { params: { path: { name } } })), 'Channel deleted');
  const test = useMutation({
    mutationFn: (name: string) => unwrap(api.POST('/api/v1/alert-channels/{name}/test', { params: { path: { name } } })),
    onSuccess: (r, name) => (r.delivered ? toast.success('Test sent', `${name} accepted it.`) : toast.error(r.error ?? 'refused', `${name} did not take it`)),
    onError: (e) => toast.error(e),
  });
  const items = channels.data?.items ?? [];
  return (
    <>
      <div className="mb-3 flex justify-end"><ChannelDialog /></div>
      <ErrorNote error={channels.error} />
      <DataTable columns={['Name', 'Kind', 'Sends to', '']} empty={channels.data && items.length === 0 && <Empty>No channels yet.</Empty>}>
        {channels.isPending && <tr><td colSpan={4} className="px-4 py-3"><Skeleton /></td></tr>}
        {items.map((c) => (
          <tr key={c.id} data-channel={c.name}>
            <td className="px-4 py-2 font-medium">{c.name}</td>
            <td className="px-4 py-2">{CHANNEL_KINDS[c.kind as ChannelKind] ?? c.kind}</td>
            <td className="max-w-sm truncate px-4 py-2 font-mono text-xs">{c.config.url ?? c.config.to?.join(', ') ?? c.config.routing_key ?? '—'}</td>
            <td className="px-4 py-2 text-right whitespace-nowrap">
              <Button variant="ghost" size="sm" aria-label={`Test ${c.name}`} title="Send a test notification" disabled={test.isPending} onClick={() => test.mutate(c.name)}><Send className="h-3.5 w-3.5" /></Button>
              <ChannelDialog channel={c} />
              <ConfirmDialog
                trigger={<Button variant="ghost" size="sm" aria-label={`Delete ${c.name}`} title="Delete"><Trash2 className="h-3.5 w-3.5" /></Button>}
                title={`Delete ${c.name}?`} description="Rules that name it send nothing to it any more." confirmLabel="Delete channel" destructive
                onConfirm={() => remove.mutate(c.name)}
              />
            </td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}

function Maintenance({ canManage }: { canManage: boolean }) {
  const windows = useMaintenanceWindows();
  const rules = useAlertRules();
  const [form, setForm] = useState<WindowForm>({ rule: '', starts: '', hours: '1', reason: '' });
  const [local, setLocal] = useState<Record<string, string[]>>({});
  const set = (k: keyof WindowForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const create = useAlertMutation(
    (body: NonNullable<ReturnType<typeof windowRequestFrom>['body']>) => unwrap(api.POST('/api/v1/maintenance-windows', { body })),
    'Maintenance window planned',
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = windowRequestFrom(form, new Date());
    setLocal(r.errors ?? {});
    if (r.body) create.mutate(r.body, { onSuccess: () => setForm((f) => ({ ...f, starts: '', reason: '' })) });
  };
  const errs = (...n: string[]) => [...n.flatMap((x) => local[x] ?? []), ...fieldErrors(create.error, ...n)];
  const remove = useAlertMutation(async (id: string) => unwrap(api.DELETE('/api/v1/maintenance-windows/{id}', { params: { path: { id } } })), 'Maintenance window ended');
  const items = windows.data?.items ?? [];
  return (
    <>
      {canManage && (
        <form className="mb-3 flex flex-wrap items-end gap-3" onSubmit={submit} noValidate>
          <FormField id="mw-rule" label="Silence" errors={errs('rule')}><Select id="mw-rule" value={form.rule} onChange={set('rule')} className="w-40"><option value="">every rule</option>{rules.data?.items.map((r) => <option key={r.id} value={r.name}>{r.name}</option>)}</Select></FormField>
          <FormField id="mw-starts" label="Starts (empty: now)" errors={errs('starts_at')}><Input id="mw-starts" type="datetime-local" value={form.starts} onChange={set('starts')} className="w-52" title="empty: now" /></FormField>
          <FormField id="mw-hours" label="For (hours)" errors={errs('duration_ms', 'ends_at')}><Input id="mw-hours" inputMode="decimal" value={form.hours} onChange={set('hours')} className="w-20" /></FormField>
          <FormField id="mw-reason" label="Reason" errors={errs('reason')}><Input id="mw-reason" value={form.reason} onChange={set('reason')} className="w-48" placeholder="database upgrade" /></FormField>
          <Button type="submit" disabled={create.isPending}>{form.starts ? 'Plan window' : 'Start now'}</Button>
        </form>
      )}
      <ErrorNote error={windows.error} />
      <DataTable columns={['Silences', 'From', 'Until', 'Reason', '']} empty={windows.data && items.length === 0 && <Empty>No maintenance windows.</Empty>}>
        {items.map((m) => (
          <tr key={m.id} data-window={m.rule ?? '*'}>
            <td className="px-4 py-2">{m.rule ?? 'every rule'}{m.active ? <Badge className={cn('ml-2', openBadge)}>now</Badge> : new Date(String(m.starts_at)) > new Date() && <Badge className={cn('ml-2', greyBadge)}>planned</Badge>}</td>
            <td className="px-4 py-2 whitespace-nowrap">{formatTime(m.starts_at)}</td>
            <td className="px-4 py-2 whitespace-nowrap">{formatTime(m.ends_at)}</td>
            <td className="px-4 py-2 text-xs">{m.reason ?? '—'}</td>
            <td className="px-4 py-2 text-right">{canManage && <Button variant="ghost" size="sm" aria-label="Delete the window" title={m.active ? 'End it now' : 'Delete'} onClick={() => remove.mutate(m.id)}><Trash2 className="h-3.5 w-3.5" /></Button>}</td>
          </tr>
        ))}
      </DataTable>
    </>
  );
}

/** Alerts: open and past incidents, the rules that raise them, the channels they go to, and maintenance windows. */
export function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const canManage = useCan('alerts.manage');
  const tabs = TABS.filter((t) => t.id !== 'channels' || canManage);
  const tab = (tabs.find((t) => t.id === params.get('tab'))?.id ?? 'incidents') as Tab;
  return (
    <>
      <PageHeader title={<span className="flex items-center gap-2"><BellRing className="h-5 w-5 text-indigo-500" aria-hidden />Alerts</span>}>
        Rules watch failures, backlogs, lost workers, monitors and schedules; an incident opens when one fires and is resolved when it clears.
      </PageHeader>
      <div role="tablist" aria-label="Alerts" className="mb-4 flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
        {tabs.map((t) => (
          <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} onClick={() => setParams({ tab: t.id })}
            className={cn('-mb-px border-b-2 px-3 py-2 text-sm font-medium', tab === t.id ? 'border-indigo-600 text-indigo-700 dark:text-indigo-300' : 'border-transparent text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200')}>
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === 'incidents' && <Incidents canManage={canManage} />}
        {tab === 'rules' && <Rules canManage={canManage} />}
        {tab === 'channels' && <Channels />}
        {tab === 'maintenance' && <Maintenance canManage={canManage} />}
      </div>
    </>
  );
}
