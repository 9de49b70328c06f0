import type { ReactElement } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Check, Plus } from 'lucide-react';
import { api, setCsrfToken, unwrap, type Me } from '@/api/client';
import { keys } from '@/api/keys';
import {
  DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuSeparator, DropdownMenuTrigger,
} from '@/components/ui/dropdown-menu';
import { toast } from '@/lib/toast';

/**
 * The organizations the user belongs to behind the switcher's button (`trigger`); switching reloads every cache. Its own
 * chunk with the menu's code (OrganizationSwitcher shows the button until it is loaded).
 */
export function OrganizationMenu({ me, trigger, defaultOpen }: { me: Me; trigger: ReactElement; defaultOpen?: boolean }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const current = me.current_organization;
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
  return (
    <DropdownMenu defaultOpen={defaultOpen}>
      <DropdownMenuTrigger asChild>{trigger}</DropdownMenuTrigger>
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
  );
}
