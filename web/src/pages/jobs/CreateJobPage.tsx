import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useJob, useQueues } from '@/api/queries';
import { JsonEditor } from '@/components/JsonEditor';
import { BackLink, ErrorNote, PageHeader } from '@/components/PageHeader';
import { Button } from '@/components/ui/button';
import { Card, CardContent } from '@/components/ui/card';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input } from '@/components/ui/input';
import { toast } from '@/lib/toast';
import { emptyJobForm, formFromJob, jobRequestFrom, type JobForm } from './jobForm';

/** Enqueue a job by hand: queue, type, a JSON payload checked as it is typed, and the options. ?from=ID clones a job. */
export function CreateJobPage() {
  const [params] = useSearchParams();
  const from = params.get('from') ?? '';
  const source = useJob(from);
  const queues = useQueues();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form, setForm] = useState<JobForm>({ ...emptyJobForm, queue: params.get('queue') ?? emptyJobForm.queue });
  const [local, setLocal] = useState<Record<string, string[]>>({});

  useEffect(() => {
    if (from && source.data) setForm(formFromJob(source.data));
  }, [from, source.data]);

  const create = useMutation({
    mutationFn: (body: NonNullable<ReturnType<typeof jobRequestFrom>['body']>) => unwrap(api.POST('/api/v1/jobs', { body })),
    onSuccess: (job) => {
      void qc.invalidateQueries({ queryKey: keys.jobs });
      if (job.deduplicated) toast.info('Not enqueued again', `A job with this unique key exists: ${job.id}`);
      else toast.success('Job enqueued', `${job.type} on ${job.queue}`);
      navigate(`/jobs/${job.id}`);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = jobRequestFrom(form);
    setLocal(r.errors ?? {});
    if (r.body) create.mutate(r.body);
  };
  const set = (k: keyof JobForm) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const errs = (name: string) => [...(local[name] ?? []), ...fieldErrors(create.error, name)];
  const serverOnly = create.error instanceof ApiError && create.error.errors ? null : create.error;

  return (
    <>
      <BackLink to="/jobs">Jobs</BackLink>
      <PageHeader title={from ? 'Clone job' : 'New job'}>
        {from ? <>A copy of <Link className="font-mono underline" to={`/jobs/${from}`}>{from}</Link>; change what you like.</> : 'Enqueue a job by hand.'}
      </PageHeader>
      <ErrorNote error={source.error} />
      <Card>
        <CardContent>
          <form onSubmit={submit} noValidate className="grid gap-4 md:grid-cols-2">
            <FormField id="job-queue" label="Queue" errors={errs('queue')}>
              <Input id="job-queue" list="job-queues" value={form.queue} onChange={set('queue')} required />
              <datalist id="job-queues">{queues.data?.items.map((q) => <option key={q.name} value={q.name} />)}</datalist>
            </FormField>
            <FormField id="job-type" label="Type" hint="The handler name, e.g. email.send" errors={errs('type')}>
              <Input id="job-type" value={form.type} onChange={set('type')} required autoFocus={!from} />
            </FormField>
            <FormField id="job-payload" label="Payload (JSON)" className="space-y-1.5 md:col-span-2">
              <JsonEditor id="job-payload" value={form.payload} onChange={(payload) => setForm({ ...form, payload })} rows={10} serverErrors={fieldErrors(create.error, 'payload')} />
            </FormField>
            <fieldset className="grid gap-4 rounded-md border border-zinc-200 p-4 sm:grid-cols-2 md:col-span-2 lg:grid-cols-3 dark:border-zinc-800">
              <legend className="px-1 text-sm font-medium">Options</legend>
              <FormField id="job-priority" label="Priority" hint="Higher runs first; default 0" errors={errs('priority')}>
                <Input id="job-priority" inputMode="numeric" value={form.priority} onChange={set('priority')} placeholder="0" />
              </FormField>
              <FormField id="job-attempts" label="Max attempts" hint="Default: the queue's" errors={errs('max_attempts')}>
                <Input id="job-attempts" inputMode="numeric" value={form.max_attempts} onChange={set('max_attempts')} placeholder="default" />
              </FormField>
              <FormField id="job-timeout" label="Timeout (ms)" hint="Default: the queue's" errors={errs('timeout_ms')}>
                <Input id="job-timeout" inputMode="numeric" value={form.timeout_ms} onChange={set('timeout_ms')} placeholder="none" />
              </FormField>
              <FormField id="job-delay" label="Delay (ms)" hint="Run later: scheduled until then" errors={errs('delay_ms')}>
                <Input id="job-delay" inputMode="numeric" value={form.delay_ms} onChange={set('delay_ms')} placeholder="0" />
              </FormField>
              <FormField id="job-unique" label="Unique key" hint="A second job with it is not enqueued" errors={errs('unique_key')}>
                <Input id="job-unique" value={form.unique_key} onChange={set('unique_key')} />
              </FormField>
              <FormField id="job-tags" label="Tags" hint="Comma-separated" errors={errs('tags')}>
                <Input id="job-tags" value={form.tags} onChange={set('tags')} placeholder="billing, eu" />
              </FormField>
            </fieldset>
            <div className="md:col-span-2">
              <ErrorNote error={serverOnly} />
            </div>
            <div className="flex justify-end gap-2 md:col-span-2">
              <Button type="button" variant="outline" onClick={() => navigate(-1)}>Back</Button>
              <Button type="submit" disabled={create.isPending}>{create.isPending ? 'Enqueuing…' : 'Enqueue job'}</Button>
            </div>
          </form>
        </CardContent>
      </Card>
    </>
  );
}
