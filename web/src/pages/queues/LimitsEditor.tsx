import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap, type Queue } from '@/api/client';
import { keys } from '@/api/keys';
import { ErrorNote } from '@/components/PageHeader';
import { Button } from '@/components/ui/button';
import { fieldErrors, FormField } from '@/components/ui/form';
import { Input } from '@/components/ui/input';
import { toast } from '@/lib/toast';
import { parseWhole } from '@/lib/forms';

interface LimitsForm {
  concurrency_limit: string;
  rate_limit: string;
  rate_period_ms: string;
  default_max_attempts: string;
  default_timeout_ms: string;
}

const text = (n: number | null | undefined) => (n == null ? '' : String(n));

export function limitsFormOf(q: Queue): LimitsForm {
  return {
    concurrency_limit: text(q.concurrency_limit),
    rate_limit: text(q.rate_limit?.limit),
    rate_period_ms: text(q.rate_limit?.period_ms),
    default_max_attempts: text(q.default_max_attempts),
    default_timeout_ms: text(q.default_timeout_ms),
  };
}

/** The settings request from the form (an empty field is "none"), or the fields that are not whole positive numbers. */
export function limitsRequestFrom(f: LimitsForm) {
  const errors: Record<string, string[]> = {};
  const num = (v: string, field: string) => parseWhole(v, field, errors, 1);
  const limit = num(f.rate_limit, 'rate_limit.limit');
  const period = num(f.rate_period_ms, 'rate_limit.period_ms');
  if ((limit === null) !== (period === null) && !errors['rate_limit.limit'] && !errors['rate_limit.period_ms']) {
    errors[limit === null ? 'rate_limit.limit' : 'rate_limit.period_ms'] = ['a rate limit needs both a number of starts and a period'];
  }
  const body = {
    concurrency_limit: num(f.concurrency_limit, 'concurrency_limit'),
    rate_limit: limit !== null && period !== null ? { limit, period_ms: period } : null,
    default_max_attempts: num(f.default_max_attempts, 'default_max_attempts'),
    default_timeout_ms: num(f.default_timeout_ms, 'default_timeout_ms'),
  };
  return Object.keys(errors).length ? { errors } : { body };
}

/** The queue's limits and defaults, saved together (PUT: an empty field means none). */
export function LimitsEditor({ queue, canEdit }: { queue: Queue; canEdit: boolean }) {
  const qc = useQueryClient();
  const [form, setForm] = useState(() => limitsFormOf(queue));
  const [local, setLocal] = useState<Record<string, string[]>>({});
  const save = useMutation({
    mutationFn: (body: NonNullable<ReturnType<typeof limitsRequestFrom>['body']>) =>
      unwrap(api.PUT('/api/v1/queues/{name}', { params: { path: { name: queue.name } }, body })),
    onSuccess: (q) => {
      qc.setQueryData(keys.queue(queue.name), q);
      void qc.invalidateQueries({ queryKey: keys.queues });
      setForm(limitsFormOf(q));
      toast.success('Limits saved', queue.name);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = limitsRequestFrom(form);
    setLocal(r.errors ?? {});
    if (r.body) save.mutate(r.body);
  };
  const set = (k: keyof LimitsForm) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const errs = (name: string) => [...(local[name] ?? []), ...fieldErrors(save.error, name)];
  const dirty = JSON.stringify(form) !== JSON.stringify(limitsFormOf(queue));

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <fieldset disabled={!canEdit} className="grid gap-4">
        <FormField id="l-concurrency" label="Concurrency limit" hint="Jobs running at once, all workers together" errors={errs('concurrency_limit')}>
          <Input id="l-concurrency" inputMode="numeric" placeholder="no limit" value={form.concurrency_limit} onChange={set('concurrency_limit')} />
        </FormField>
        <div className="grid grid-cols-2 gap-2">
          <FormField id="l-rate" label="Rate limit (starts)" errors={errs('rate_limit.limit')}>
            <Input id="l-rate" inputMode="numeric" placeholder="no limit" value={form.rate_limit} onChange={set('rate_limit')} />
          </FormField>
          <FormField id="l-period" label="per period (ms)" errors={errs('rate_limit.period_ms')}>
            <Input id="l-period" inputMode="numeric" placeholder="60000" value={form.rate_period_ms} onChange={set('rate_period_ms')} />
          </FormField>
        </div>
        <div className="grid grid-cols-2 gap-2">
        <FormField id="l-attempts" label="Default max attempts" errors={errs('default_max_attempts')}>
          <Input id="l-attempts" inputMode="numeric" placeholder="default" value={form.default_max_attempts} onChange={set('default_max_attempts')} />
        </FormField>
        <FormField id="l-timeout" label="Default timeout (ms)" errors={errs('default_timeout_ms')}>
          <Input id="l-timeout" inputMode="numeric" placeholder="none" value={form.default_timeout_ms} onChange={set('default_timeout_ms')} />
        </FormField>
        </div>
      </fieldset>
      {save.error instanceof ApiError && !save.error.errors && <ErrorNote error={save.error} />}
      {canEdit && (
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" size="sm" disabled={!dirty} onClick={() => { setForm(limitsFormOf(queue)); setLocal({}); }}>Reset</Button>
          <Button type="submit" size="sm" disabled={!dirty || save.isPending}>{save.isPending ? 'Saving…' : 'Save limits'}</Button>
        </div>
      )}
    </form>
  );
}
