import { useMemo, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useMonitor } from '@/api/queries';
import { BackLink, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { Button } from '@/components/ui/button';
import { Card, CardContent } from '@/components/ui/card';
import { FormField } from '@/components/ui/form';
import { Input, Select } from '@/components/ui/input';
import { toast } from '@/lib/toast';
import { useDebounced } from '@/lib/useDebounced';
import { useEditForm } from '@/lib/useEditForm';
import { SchedulePreview } from '../schedules/SchedulePreview';
import { emptyMonitorForm, formFromMonitor, monitorPreviewQuery, monitorRequestFrom, SECOND_UNITS, type SecondUnit } from './monitorForm';

/** The edit as a merge patch: every field of the form (a null clears it), not the name nor the pause (their own actions). */
function patchOf(body: NonNullable<ReturnType<typeof monitorRequestFrom>['body']>): Record<string, unknown> {
  const { name: _name, paused: _paused, pause_reason: _reason, ...fields } = body;
  return fields;
}

/** Create a monitor (/monitors/new) or edit one (/monitors/:name/edit). */
export function MonitorFormPage() {
  const { name } = useParams();
  return <MonitorFormView key={name ?? ''} editing={name} />;
}

type UnitKey = 'period_unit' | 'grace_unit' | 'max_runtime_unit' | 'start_grace_unit';
type NumberKey = 'period' | 'grace' | 'max_runtime' | 'start_grace';

function MonitorFormView({ editing }: { editing: string | undefined }) {
  const existing = useMonitor(editing ?? '');
  const navigate = useNavigate();
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (body: NonNullable<ReturnType<typeof monitorRequestFrom>['body']>) =>
      editing
        ? unwrap(api.PATCH('/api/v1/monitors/{name}', { params: { path: { name: editing } }, body: patchOf(body) }))
        : unwrap(api.POST('/api/v1/monitors', { body })),
    onSuccess: (m) => {
      void qc.invalidateQueries({ queryKey: keys.monitors });
      qc.setQueryData(keys.monitor(m.name), m);
      toast.success(editing ? 'Monitor saved' : 'Monitor created', editing ? m.name : 'Point your job at its ping URL.');
      navigate(`/monitors/${encodeURIComponent(m.name)}`);
    },
  });

  const { form, setForm, local, setLocal, set, errs } = useEditForm(emptyMonitorForm, existing.data, formFromMonitor, !!editing, save.error);
  const query = useDebounced(useMemo(() => monitorPreviewQuery(form), [form]), 300);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = monitorRequestFrom(form);
    setLocal(r.errors ?? {});
    if (r.body) save.mutate(r.body);
  };
  /** A number of minutes, hours or days: the number typed and its unit. */
  const duration = (id: string, k: NumberKey, u: UnitKey, label: string, hint: string, field: string) => (
    <FormField id={id} label={label} hint={hint} errors={errs(field)}>
      <div className="flex gap-2">
        <Input id={id} inputMode="decimal" value={form[k]} onChange={set(k)} className="w-24" />
        <Select aria-label={`${label} unit`} value={form[u]} onChange={(e) => setForm((f) => ({ ...f, [u]: e.target.value as SecondUnit }))} className="w-32">
          {Object.keys(SECOND_UNITS).map((x) => <option key={x} value={x}>{x}</option>)}
        </Select>
      </div>
    </FormField>
  );

  if (editing && existing.isPending) return <Skeleton className="h-40 w-full" />;
  if (editing && !existing.data) return <ErrorNote error={existing.error ?? 'No such monitor.'} />;

  return (
    <>
      <BackLink to={editing ? `/monitors/${encodeURIComponent(editing)}` : '/monitors'}>{editing ?? 'Monitors'}</BackLink>
      <PageHeader title={editing ? `Edit ${editing}` : 'New monitor'}>Says when pings are due and how long to wait before raising the alarm.</PageHeader>
      <form onSubmit={submit} noValidate className="grid gap-4 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          <Card>
            <CardContent className="grid gap-4 sm:grid-cols-2">
              <FormField id="m-name" label="Name" hint="Letters, digits, - _ . :" errors={errs('name')}>
                <Input id="m-name" value={form.name} onChange={set('name')} disabled={!!editing} autoFocus={!editing} placeholder="nightly-backup" />
              </FormField>
              <FormField id="m-slug" label="Slug" hint="For slug ping URLs; empty: made from the name" errors={errs('slug')}>
                <Input id="m-slug" value={form.slug} onChange={set('slug')} placeholder="nightly-backup" spellCheck={false} />
              </FormField>
              <fieldset className="space-y-2 sm:col-span-2">
                <legend className="text-sm font-medium">Pings are expected</legend>
                <div className="flex gap-4 text-sm">
                  <label className="flex items-center gap-2">
                    <input type="radio" name="kind" checked={form.kind === 'period'} onChange={() => setForm((f) => ({ ...f, kind: 'period' }))} className="accent-indigo-600" /> Every period
                  </label>
                  <label className="flex items-center gap-2">
                    <input type="radio" name="kind" checked={form.kind === 'cron'} onChange={() => setForm((f) => ({ ...f, kind: 'cron' }))} className="accent-indigo-600" /> On a cron expression
                  </label>
                </div>
              </fieldset>
              {form.kind === 'period' ? (
                duration('m-period', 'period', 'period_unit', 'Period', 'From 1 minute to 366 days', 'period_seconds')
              ) : (
                <>
                  <FormField id="m-cron" label="Cron expression" hint="The job's own crontab line, e.g. 0 3 * * *" errors={errs('cron')}>
                    <Input id="m-cron" value={form.cron} onChange={set('cron')} className="font-mono" spellCheck={false} />
                  </FormField>
                  <FormField id="m-tz" label="Time zone" hint="IANA name, e.g. Europe/Berlin" errors={errs('timezone')}>
                    <Input id="m-tz" value={form.timezone} onChange={set('timezone')} spellCheck={false} />
                  </FormField>
                </>
              )}
            </CardContent>
          </Card>
          <Card>
            <CardContent className="grid gap-4 sm:grid-cols-2">
              <h2 className="text-sm font-semibold sm:col-span-2">When to raise the alarm</h2>
              {duration('m-grace', 'grace', 'grace_unit', 'Grace', 'How late a ping may be before the monitor is down (empty: 5 minutes)', 'grace_seconds')}
              {duration('m-runtime', 'max_runtime', 'max_runtime_unit', 'Max runtime', 'A started run longer than this is down (empty: no limit)', 'max_runtime_seconds')}
              {form.kind === 'cron' && duration('m-start', 'start_grace', 'start_grace_unit', 'Start grace', 'A start ping later than this after the cron time is a late start (empty: not watched)', 'start_grace_seconds')}
              <FormField id="m-threshold" label="Failures before the alarm" hint="Consecutive failed runs (1 to 1000)" errors={errs('failure_threshold')}>
                <div><Input id="m-threshold" inputMode="numeric" value={form.failure_threshold} onChange={set('failure_threshold')} className="w-24" /></div>
              </FormField>
              <FormField id="m-tags" label="Tags" errors={errs('tags')} className="space-y-1.5 sm:col-span-2">
                <Input id="m-tags" value={form.tags} onChange={set('tags')} placeholder="backups, prod" />
              </FormField>
            </CardContent>
          </Card>
        </div>
        <div className="space-y-4">
          <div className="lg:sticky lg:top-4">
            {form.kind === 'cron' && <SchedulePreview query={query} />}
            {save.error instanceof ApiError && !save.error.errors && <div className="mt-4"><ErrorNote error={save.error} /></div>}
            {Object.keys(local).length > 0 && <p className="mt-4 text-sm text-red-600 dark:text-red-400">Some fields need a look.</p>}
            <div className="mt-4 flex justify-end gap-2">
              <Button type="button" variant="outline" onClick={() => navigate(-1)}>Back</Button>
              <Button type="submit" disabled={save.isPending}>{save.isPending ? 'Saving…' : editing ? 'Save monitor' : 'Create monitor'}</Button>
            </div>
          </div>
        </div>
      </form>
    </>
  );
}
