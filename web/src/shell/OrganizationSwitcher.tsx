import type { ComponentProps } from 'react';
import { Building2, ChevronsUpDown } from 'lucide-react';
import { useMe } from '@/api/queries';
import { deferred } from '@/components/Deferred';

// The menu's code (Radix' menu) comes when the page is idle or its button is reached for.
const OrganizationMenu = deferred<ComponentProps<typeof import('./OrganizationMenu').OrganizationMenu>>(() => import('./OrganizationMenu').then((m) => m.OrganizationMenu));

/** The organization the session works in, and the others the user belongs to (switching reloads every cache). */
export function OrganizationSwitcher() {
  const me = useMe().data;
  const current = me?.current_organization;
  if (!me || me.kind !== 'user') {
    return <div className="px-4 pb-3 text-xs text-zinc-500" data-testid="organization-name">{current?.name ?? 'Kairos'}</div>;
  }
  return (
    <div className="px-2 pb-2">
      <OrganizationMenu
        me={me}
        trigger={
          <button
            type="button"
            aria-label="Switch organization"
            className="flex w-full items-center gap-2 rounded-md border border-zinc-200 px-2 py-1.5 text-left text-sm hover:bg-zinc-100 dark:border-zinc-800 dark:hover:bg-zinc-800"
          >
            <Building2 className="h-4 w-4 shrink-0 text-zinc-400" aria-hidden />
            <span className="min-w-0 flex-1 truncate" data-testid="organization-name">{current?.name ?? '—'}</span>
            <ChevronsUpDown className="h-3.5 w-3.5 text-zinc-400" aria-hidden />
          </button>
        }
      />
    </div>
  );
}
