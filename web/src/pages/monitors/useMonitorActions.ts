import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { toast } from '@/lib/toast';

/** Pause (with a reason), resume, delete one monitor and give it a new ping key, each saying how it went. */
export function useMonitorActions() {
  const qc = useQueryClient();
  const refresh = () => void qc.invalidateQueries({ queryKey: keys.monitors });
  const pause = useMutation({
    mutationFn: ({ name, reason }: { name: string; reason: string | null }) =>
      unwrap(api.POST('/api/v1/monitors/{name}/pause', { params: { path: { name } }, body: { reason } })),
    onSuccess: (m) => { qc.setQueryData(keys.monitor(m.name), m); refresh(); toast.success('Monitor paused', m.name); },
    onError: (e) => toast.error(e),
  });
  const resume = useMutation({
    mutationFn: (name: string) => unwrap(api.POST('/api/v1/monitors/{name}/resume', { params: { path: { name } } })),
    onSuccess: (m) => { qc.setQueryData(keys.monitor(m.name), m); refresh(); toast.success('Monitor resumed', m.name); },
    onError: (e) => toast.error(e),
  });
  const regenerate = useMutation({
    mutationFn: (name: string) => unwrap(api.POST('/api/v1/monitors/{name}/ping-key', { params: { path: { name } } })),
    onSuccess: (m) => { qc.setQueryData(keys.monitor(m.name), m); refresh(); toast.success('New ping URL', 'The old one no longer works: update your pingers.'); },
    onError: (e) => toast.error(e),
  });
  const remove = useMutation({
    mutationFn: async (name: string) => {
      await unwrap(api.DELETE('/api/v1/monitors/{name}', { params: { path: { name } } }));
      return name;
    },
    onSuccess: (name) => { qc.removeQueries({ queryKey: keys.monitor(name) }); refresh(); toast.success('Monitor deleted', name); },
    onError: (e) => toast.error(e),
  });
  return { pause, resume, regenerate, remove, busy: pause.isPending || resume.isPending || regenerate.isPending || remove.isPending };
}
