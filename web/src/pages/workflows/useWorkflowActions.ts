import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { toast } from '@/lib/toast';

/** Cancel a workflow (its unfinished steps) and retry it from its failed steps, each saying how it went. */
export function useWorkflowActions() {
  const qc = useQueryClient();
  const done = (w: { id: string }) => {
    qc.setQueryData(keys.workflow(w.id), w);
    void qc.invalidateQueries({ queryKey: keys.workflows });
    void qc.invalidateQueries({ queryKey: keys.jobs });
  };
  const cancel = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/workflows/{id}/cancel', { params: { path: { id } } })),
    onSuccess: (w) => { done(w); toast.success('Workflow cancelled', `${w.name}: its unfinished steps are cancelled.`); },
    onError: (e) => toast.error(e),
  });
  const retry = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/workflows/{id}/retry', { params: { path: { id } } })),
    onSuccess: (w) => { done(w); toast.success('Workflow retried', `${w.name}: its failed steps run again, the succeeded ones stay.`); },
    onError: (e) => toast.error(e),
  });
  return { cancel, retry, busy: cancel.isPending || retry.isPending };
}
