import { useMemo, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useQueues, useSchedule, useWorkflowTemplates } from '@/api/queries';
import { JsonEditor } from '@/components/JsonEditor';
import { BackLink, ErrorNote, PageHeader, Skeleton } from '@/components/PageHeader';
import { Button } from '@/components/ui/button';
import { Card, CardContent } from '@/components/ui/card';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input, Select } from '@/components/ui/input';
import { toast } from '@/lib/toast';
import { useDebounced } from '@/lib/useDebounced';
import { useEditForm } from '@/lib/useEditForm';
import { emptyScheduleForm, formFromSchedule, previewQuery, scheduleRequestFrom, UNITS, type Unit } from './scheduleForm';
import { SchedulePreview } from './SchedulePreview';

const zones = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
})();

const MACROS = ['@hourly', '@daily', '@weekly', '@monthly', '@yearly'];

/** Create a schedule (/schedules/new) or edit one (/schedules/:name/edit), with a live preview of its timing. */
export function ScheduleFormPage() {
  const { name } = useParams();
  return <ScheduleFormView key={name ?? ''} editing={name} />;
}

function ScheduleFormView({ editing }: { editing: string | undefined }) {
  const existing = useSchedule(editing ?? '');
  const queues = useQueues();
  const templates = useWorkflowTemplates();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (body: NonNullable<ReturnType<typeof scheduleRequestFrom>['body']>) =>
      editing
        ? unwrap(api.PUT('/api/v1/schedules/{name}', { params: { path: { name: editing } }, body }))
        : unwrap(api.POST('/api/v1/schedules', { body })),
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: keys.schedules });
      qc.setQueryData(keys.schedule(s.name), s);
      toast.success(editing ? 'Schedule saved' : 'Schedule created', s.name);
      navigate(`/schedules/${encodeURIComponent(s.name)}`);
    },
  });
  const { form, setForm, local, setLocal, set, errs } = useEditForm(emptyScheduleForm, existing.data, formFromSchedule, !!editing, save.error);
  const query = useDebounced(useMemo(() => previewQuery(form), [form]), 300);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = scheduleRequestFrom(form);
    setLocal(r.errors ?? {});
    if (r.body) save.mutate(r.body);
  };

  if (editing && existing.isPending) return <Skeleton className="h-40 w-full" />;
  if (editing && !existing.data) return <ErrorNote error={existing.error ?? 'No such schedule.'} />;

  return (
    <>
      <BackLink to={editing ? `/schedules/${encodeURIComponent(editing)}` : '/schedules'}>{editing ?? 'Schedules'}</BackLink>
      <PageHeader title={editing ? `Edit ${editing}` : 'New schedule'}>Enqueues a job each time it fires.</PageHeader>
      <form onSubmit={submit} noValidate className="grid gap-4 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          <Card>
            <CardContent className="grid gap-4 sm:grid-cols-2">
              <FormField id="s-name" label="Name" hint="Letters, digits, - _ . :" errors={errs('name')} className="space-y-1.5 sm:col-span-2">
                <Input id="s-name" value={form.name} onChange={set('name')} disabled={!!editing} autoFocus={!editing} placeholder="nightly-report" />
              </FormField>
              <fieldset className="space-y-2 sm:col-span-2">
                <legend className="text-sm font-medium">Fires</legend>
                <div className="flex gap-4 text-sm">
                  <label className="flex items-center gap-2">
                    <input type="radio" name="kind" checked={form.kind === 'cron'} onChange={() => setForm((f) => ({ ...f, kind: 'cron' }))} className="accent-indigo-600" /> On a cron expression
                  </label>
                  <label className="flex items-center gap-2">
                    <input type="radio" name="kind" checked={form.kind === 'every'} onChange={() => setForm((f) => ({ ...f, kind: 'every' }))} className="accent-indigo-600" /> At a fixed interval
                  </label>
                </div>
              </fieldset>
              {form.kind === 'cron' ? (
                <FormField id="s-cron" label="Cron expression" hint="5 fields (6 with seconds first) or a macro" errors={errs('cron')}>
                  <Input id="s-cron" value={form.cron} onChange={set('cron')} className="font-mono" list="s-macros" spellCheck={false} />
                  <datalist id="s-macros">{MACROS.map((m) => <option key={m} value={m} />)}</datalist>
                </FormField>
              ) : (
                <FormField id="s-every" label="Every" errors={errs('every_ms')}>
                  <div className="flex gap-2">
                    <Input id="s-every" inputMode="decimal" value={form.every} onChange={set('every')} className="w-24" />
                    <Select aria-label="Unit" value={form.unit} onChange={(e) => setForm((f) => ({ ...f, unit: e.target.value as Unit }))}>
                      {Object.keys(UNITS).map((u) => <option key={u} value={u}>{u}</option>)}
                    </Select>
                  </div>
                </FormField>
              )}
              <FormField id="s-tz" label="Time zone" hint="IANA name, e.g. Europe/Berlin" errors={errs('timezone')}>
                <Input id="s-tz" value={form.timezone} onChange={set('timezone')} list="s-zones" spellCheck={false} />
                <datalist id="s-zones">{zones.map((z) => <option key={z} value={z} />)}</datalist>
              </FormField>
            </CardContent>
          </Card>
          <Card>
            <CardContent className="grid gap-4 sm:grid-cols-2">
              <FormField id="s-starts" label="Each run starts">
                <Select id="s-starts" value={form.starts} onChange={(e) => setForm((f) => ({ ...f, starts: e.target.value as 'job' | 'workflow' }))}>
                  <option value="job">a job</option>
                  <option value="workflow">a workflow (from a template)</option>
                </Select>
              </FormField>
              {form.starts === 'workflow' && (
                <FormField id="s-workflow" label="Workflow template" hint="Each run makes an instance of it as it is then" errors={errs('workflow')}>
                  <Select id="s-workflow" value={form.workflow} onChange={(e) => setForm((f) => ({ ...f, workflow: e.target.value }))}>
                    <option value="">Choose a template…</option>
                    {templates.data?.items.map((t) => <option key={t.id} value={t.name}>{t.name}</option>)}
                    {form.workflow && !templates.data?.items.some((t) => t.name === form.workflow) && <option value={form.workflow}>{form.workflow}</option>}
                  </Select>
                </FormField>
              )}
            </CardContent>
          </Card>
          {form.starts === 'job' && <Card>
            <CardContent className="grid gap-4 sm:grid-cols-2">
              <h2 className="text-sm font-semibold sm:col-span-2">The job it enqueues</h2>
              <FormField id="s-queue" label="Queue" errors={errs('job.queue', 'job')}>
                <Input id="s-queue" list="s-queues" value={form.queue} onChange={set('queue')} />
                <datalist id="s-queues">{queues.data?.items.map((q) => <option key={q.name} value={q.name} />)}</datalist>
              </FormField>
              <FormField id="s-type" label="Type" errors={errs('job.type')}>
                <Input id="s-type" value={form.type} onChange={set('type')} placeholder="report.build" />
              </FormField>
              <FormField id="s-payload" label="Payload (JSON)" className="space-y-1.5 sm:col-span-2">
                <JsonEditor id="s-payload" value={form.payload} onChange={(payload) => setForm((f) => ({ ...f, payload }))} rows={6} serverErrors={fieldErrors(save.error, 'job.payload')} />
              </FormField>
              <div className="grid gap-4 sm:col-span-2 sm:grid-cols-4">
                <FormField id="s-priority" label="Priority" errors={errs('job.priority')}>
                  <Input id="s-priority" inputMode="numeric" value={form.priority} onChange={set('priority')} placeholder="0" />
                </FormField>
                <FormField id="s-attempts" label="Max attempts" errors={errs('job.max_attempts')}>
                  <Input id="s-attempts" inputMode="numeric" value={form.max_attempts} onChange={set('max_attempts')} placeholder="default" />
                </FormField>
                <FormField id="s-timeout" label="Timeout (ms)" errors={errs('job.timeout_ms')}>
                  <Input id="s-timeout" inputMode="numeric" value={form.timeout_ms} onChange={set('timeout_ms')} placeholder="none" />
                </FormField>
                <FormField id="s-tags" label="Tags" errors={errs('job.tags')}>
                  <Input id="s-tags" value={form.tags} onChange={set('tags')} placeholder="a, b" />
                </FormField>
              </div>
            </CardContent>
          </Card>}
          <Card>
            <CardContent className="grid gap-4 sm:grid-cols-2">
              <h2 className="text-sm font-semibold sm:col-span-2">Policies</h2>
              <FormField id="s-overlap" label="While the previous run is unfinished" errors={errs('overlap')}>
                <Select id="s-overlap" value={form.overlap} onChange={set('overlap')}>
                  <option value="allow">Start anyway (allow)</option>
                  <option value="skip">Skip this run (skip)</option>
                  <option value="replace">Cancel it and start (replace)</option>
                </Select>
              </FormField>
              <FormField id="s-catchup" label="After downtime" errors={errs('catch_up')}>
                <Select id="s-catchup" value={form.catch_up} onChange={set('catch_up')}>
                  <option value="once">Run the latest missed once (once)</option>
                  <option value="skip">Run none of the missed (skip)</option>
                  <option value="all">Run the missed, up to a limit (all)</option>
                </Select>
              </FormField>
              {form.catch_up === 'all' && (
                <FormField id="s-limit" label="Catch-up limit" hint="Default 10, at most 1000" errors={errs('catch_up_limit')}>
                  <Input id="s-limit" inputMode="numeric" value={form.catch_up_limit} onChange={set('catch_up_limit')} placeholder="10" />
                </FormField>
              )}
              <FormField id="s-jitter" label="Jitter (ms)" hint="Delays each run by up to this much (max 1 hour)" errors={errs('jitter_ms')}>
                <Input id="s-jitter" inputMode="numeric" value={form.jitter_ms} onChange={set('jitter_ms')} placeholder="0" />
              </FormField>
              <FormField id="s-start" label="Starts" hint="Your local time; empty: now" errors={errs('start_at')}>
                <Input id="s-start" type="datetime-local" value={form.start_at} onChange={set('start_at')} />
              </FormField>
              <FormField id="s-end" label="Ends" hint="Empty: never" errors={errs('end_at')}>
                <Input id="s-end" type="datetime-local" value={form.end_at} onChange={set('end_at')} />
              </FormField>
              <label className="flex items-center gap-2 text-sm sm:col-span-2">
                <input type="checkbox" checked={form.paused} onChange={(e) => setForm((f) => ({ ...f, paused: e.target.checked }))} className="h-4 w-4 accent-indigo-600" />
                Paused (fires nothing until resumed)
              </label>
              {form.paused && (
                <FormField id="s-reason" label="Pause reason" errors={errs('pause_reason')} className="space-y-1.5 sm:col-span-2">
                  <Input id="s-reason" value={form.pause_reason} onChange={set('pause_reason')} />
                </FormField>
              )}
            </CardContent>
          </Card>
        </div>
        <div className="space-y-4">
          <div className="lg:sticky lg:top-4">
            <SchedulePreview query={query} />
            {save.error instanceof ApiError && !save.error.errors && <div className="mt-4"><ErrorNote error={save.error} /></div>}
            {Object.keys(local).length > 0 && <p className="mt-4 text-sm text-red-600 dark:text-red-400">Some fields need a look.</p>}
            <div className="mt-4 flex justify-end gap-2">
              <Button type="button" variant="outline" onClick={() => navigate(-1)}>Back</Button>
              <Button type="submit" disabled={save.isPending}>{save.isPending ? 'Saving…' : editing ? 'Save schedule' : 'Create schedule'}</Button>
            </div>
          </div>
        </div>
      </form>
    </>
  );
}
