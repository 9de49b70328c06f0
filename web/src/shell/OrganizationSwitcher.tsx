import { useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Building2, Check, ChevronsUpDown, Plus } from 'lucide-react';
import { api, setCsrfToken, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useMe } from '@/api/queries';
import {
  DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuSeparator, DropdownMenuTrigger,
} from '@/components/ui/dropdown-menu';
import { toast } from '@/lib/toast';

/** The organization the session works in, and the others the user belongs to (switching reloads every cache). */
export function OrganizationSwitcher() {
  const me = useMe().data;
  const qc = useQueryClient();
  const navigate = useNavigate();
  const current = me?.current_organization;
  const switchTo = useMutation({
    mutationFn: (organization_id: string) => unwrap(api.POST('/api/v1/auth/organization', { body: { organization_id } })),
    onSuccess: (next) => {
      setCsrfToken(next.csrf_token);
      qc.clear();
      qc.setQueryData(keys.me, next);
      navigate('/');
      toast.success('Switched organization', next.current_organization?.name);
    },
    onError: (e) => toast.error(e),
  });
  if (!me || me.kind !== 'user') {
    return <div className="px-4 pb-3 text-xs text-zinc-500" data-testid="organization-name">{current?.name ?? 'Kairos'}</div>;
  }
  return (
    <div className="px-2 pb-2">
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <button
            type="button"
            aria-label="Switch organization"
            className="flex w-full items-center gap-2 rounded-md border border-zinc-200 px-2 py-1.5 text-left text-sm hover:bg-zinc-100 dark:border-zinc-800 dark:hover:bg-zinc-800"
          >
            <Building2 className="h-4 w-4 shrink-0 text-zinc-400" aria-hidden />
            <span className="min-w-0 flex-1 truncate" data-testid="organization-name">{current?.name ?? '—'}</span>
            <ChevronsUpDown className="h-3.5 w-3.5 text-zinc-400" aria-hidden />
          </button>
        </DropdownMenuTrigger>
        <DropdownMenuContent align="start">
          <DropdownMenuLabel>Organizations</DropdownMenuLabel>
          {me.organizations.map((o) => (
            <DropdownMenuItem key={o.id} disabled={switchTo.isPending} onSelect={() => o.id !== current?.id && switchTo.mutate(o.id)}>
              <Check className={o.id === current?.id ? 'h-4 w-4' : 'h-4 w-4 opacity-0'} aria-hidden />
              <span className="flex-1 truncate">{o.name}</span>
              <span className="text-xs text-zinc-500">{o.role}</span>
            </DropdownMenuItem>
          ))}
          <DropdownMenuSeparator />
          <DropdownMenuItem onSelect={() => navigate('/settings#organizations')}>
            <Plus className="h-4 w-4" /> New organization
          </DropdownMenuItem>
        </DropdownMenuContent>
      </DropdownMenu>
    </div>
  );
}
