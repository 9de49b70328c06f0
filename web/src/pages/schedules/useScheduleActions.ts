import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { toast } from '@/lib/toast';

/** Trigger now, pause (with a reason), resume and delete one schedule, each saying how it went. */
export function useScheduleActions() {
  const qc = useQueryClient();
  const refresh = (name: string) => {
    void qc.invalidateQueries({ queryKey: keys.schedules });
    void qc.invalidateQueries({ queryKey: keys.scheduleRuns(name) });
    void qc.invalidateQueries({ queryKey: keys.jobs });
  };
  const trigger = useMutation({
    mutationFn: (name: string) => unwrap(api.POST('/api/v1/schedules/{name}/trigger', { params: { path: { name } } })),
    onSuccess: (r) => { refresh(r.schedule); toast.success('Run started', r.job ? `${r.schedule}: job ${r.job.id}` : `${r.schedule}: workflow ${r.workflow?.id ?? ''}`); },
    onError: (e) => toast.error(e),
  });
  const pause = useMutation({
    mutationFn: ({ name, reason }: { name: string; reason: string | null }) =>
      unwrap(api.POST('/api/v1/schedules/{name}/pause', { params: { path: { name } }, body: { reason } })),
    onSuccess: (s) => { refresh(s.name); toast.success('Schedule paused', s.name); },
    onError: (e) => toast.error(e),
  });
  const resume = useMutation({
    mutationFn: (name: string) => unwrap(api.POST('/api/v1/schedules/{name}/resume', { params: { path: { name } } })),
    onSuccess: (s) => { refresh(s.name); toast.success('Schedule resumed', s.name); },
    onError: (e) => toast.error(e),
  });
  const remove = useMutation({
    mutationFn: async (name: string) => {
      await unwrap(api.DELETE('/api/v1/schedules/{name}', { params: { path: { name } } }));
      return name;
    },
    onSuccess: (name) => { qc.removeQueries({ queryKey: keys.schedule(name) }); refresh(name); toast.success('Schedule deleted', name); },
    onError: (e) => toast.error(e),
  });
  return { trigger, pause, resume, remove, busy: trigger.isPending || pause.isPending || resume.isPending || remove.isPending };
}
