import type { ReactElement } from 'react';
import { useNavigate } from 'react-router';
import { LogOut, Monitor, User } from 'lucide-react';
import { useLogout, useMe } from '@/api/queries';
import {
  DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuSeparator, DropdownMenuTrigger,
} from '@/components/ui/dropdown-menu';
import { applyTheme } from '@/lib/theme';

/**
 * The header's menu behind its button (`trigger`): who is signed in, in which organization, profile, system theme, sign
 * out. Its own chunk with the menu's code (AppShell shows the button until it is loaded).
 */
export function UserMenu({ trigger, defaultOpen }: { trigger: ReactElement; defaultOpen?: boolean }) {
  const me = useMe().data;
  const logout = useLogout();
  const navigate = useNavigate();
  const org = me?.current_organization?.name ?? 'Kairos';
  return (
    <DropdownMenu defaultOpen={defaultOpen}>
      <DropdownMenuTrigger asChild>{trigger}</DropdownMenuTrigger>
      <DropdownMenuContent align="end">
        <DropdownMenuLabel>
          <div className="font-medium text-zinc-900 dark:text-zinc-100">{me?.user?.name || me?.user?.email}</div>
          <div>{me?.user?.email}</div>
          <div className="mt-1">{org} · {me?.current_organization?.role}</div>
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={() => navigate('/settings#profile')}>
          <User className="h-4 w-4" /> Profile
        </DropdownMenuItem>
        <DropdownMenuItem onSelect={() => applyTheme('system')}>
          <Monitor className="h-4 w-4" /> Use system theme
        </DropdownMenuItem>
        <DropdownMenuItem onSelect={() => logout.mutate(undefined, { onSettled: () => navigate('/login', { replace: true }) })}>
          <LogOut className="h-4 w-4" /> Sign out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
