import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import { Badge } from '@/components/ui/badge';

/** The kinds a manifest declares (the API's names). */
export type ManifestKind = 'Queue' | 'Schedule' | 'Monitor' | 'AlertRule' | 'Workflow';

/** The objects manifests manage, as "Kind/name" (one list per organization: it is small). */
export function useManagedObjects() {
  return useQuery({
    queryKey: ['manifests', 'managed'],
    queryFn: async () => new Set((await unwrap(api.GET('/api/v1/manifests/managed'))).items.map((m) => `${m.kind}/${m.name}`)),
    staleTime: 10_000,
  });
}

/** True when a manifest manages the object: the API refuses hand edits and deletes (409), so the console offers none. */
export function useManaged(kind: ManifestKind, name: string): boolean {
  return useManagedObjects().data?.has(`${kind}/${name}`) ?? false;
}

export function managedHint(kind: ManifestKind, name: string) {
  return `Managed by a manifest: change it in the manifest and run kairos apply, or unmark it (kairos unmanage ${kind} ${name}).`;
}

/** "managed by manifest", with how to change the object, or nothing when it is managed by hand. */
export function ManagedBadge({ kind, name, managed }: { kind: ManifestKind; name: string; managed: boolean }) {
  if (!managed) return null;
  return (
    <Badge data-managed className="bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-300" title={managedHint(kind, name)}>
      managed by manifest
    </Badge>
  );
}
