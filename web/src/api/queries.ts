import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken, unwrap, type Me } from './client';
import { keys, type JobFilters } from './keys';

/** Who is signed in; null when nobody is (401). Keeps the CSRF token for unsafe requests. */
export function useMe() {
  return useQuery({
    queryKey: keys.me,
    queryFn: async (): Promise<Me | null> => {
      try {
        const me = await unwrap(api.GET('/api/v1/auth/me'));
        setCsrfToken(me.csrf_token);
        return me;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          setCsrfToken(null);
          return null;
        }
        throw e;
      }
    },
    staleTime: 60_000,
  });
}

export function useSetupRequired() {
  return useQuery({ queryKey: keys.setup, queryFn: () => unwrap(api.GET('/api/v1/setup')), staleTime: Infinity });
}

/** Signs in (login or setup): the answer is the new /auth/me. */
export function useSignIn<T>(call: (input: T) => Promise<Me>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: (me) => {
      setCsrfToken(me.csrf_token);
      qc.clear();
      qc.setQueryData(keys.me, me);
      qc.setQueryData(keys.setup, { required: false });
    },
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/logout')),
    onSettled: () => {
      setCsrfToken(null);
      qc.clear();
      qc.setQueryData(keys.me, null);
    },
  });
}

export function useStats() {
  return useQuery({ queryKey: keys.stats, queryFn: () => unwrap(api.GET('/api/v1/stats')) });
}

export function useJobs(filters: JobFilters) {
  return useQuery({
    queryKey: keys.jobList(filters),
    queryFn: () => unwrap(api.GET('/api/v1/jobs', { params: { query: { ...filters, limit: '50' } } })),
    placeholderData: (previous) => previous,
  });
}

export function useJob(id: string) {
  return useQuery({ queryKey: keys.job(id), queryFn: () => unwrap(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } })) });
}

export function useQueues() {
  return useQuery({ queryKey: keys.queues, queryFn: () => unwrap(api.GET('/api/v1/queues', { params: { query: { limit: '500' } } })) });
}

export function useWorkers() {
  return useQuery({ queryKey: keys.workers, queryFn: () => unwrap(api.GET('/api/v1/workers', { params: { query: { limit: '500' } } })) });
}
