import { lazy, Suspense, useEffect, useState, type ComponentProps } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import {
  BellRing, CalendarClock, Clock, Cpu, Gauge, HeartPulse, Keyboard, KeyRound, Layers, ListChecks, Moon, ScrollText, Settings, Sun, User, Users, Webhook, Workflow,
} from 'lucide-react';
import { Toaster } from '@/components/Toaster';
import { createShortcutHandler } from '@/lib/shortcuts';
import { OrganizationSwitcher } from './OrganizationSwitcher';
import { useMe } from '@/api/queries';
import { useLiveEvents } from '@/live/events';
import { LiveIndicator } from '@/components/LiveIndicator';
import { Button } from '@/components/ui/button';
import { deferred } from '@/components/Deferred';
import { applyTheme, resolvedTheme, storedTheme, type Theme } from '@/lib/theme';
import { cn } from '@/lib/utils';

// Not seen on the first paint, so not in the entry's code: the user menu (Radix' menu) comes when the page is idle or
// its button is reached for, the shortcuts' dialog when asked for.
const UserMenu = deferred<ComponentProps<typeof import('./UserMenu').UserMenu>>(() => import('./UserMenu').then((m) => m.UserMenu));
const ShortcutsHelp = lazy(() => import('./ShortcutsHelp').then((m) => ({ default: m.ShortcutsHelp })));

const nav = [
  { to: '/', label: 'Dashboard', icon: Gauge, end: true },
  { to: '/jobs', label: 'Jobs', icon: ListChecks, end: false },
  { to: '/queues', label: 'Queues', icon: Layers, end: false },
  { to: '/workers', label: 'Workers', icon: Cpu, end: false },
  { to: '/schedules', label: 'Schedules', icon: CalendarClock, end: false },
  { to: '/workflows', label: 'Workflows', icon: Workflow, end: false },
  { to: '/monitors', label: 'Monitors', icon: HeartPulse, end: false },
  { to: '/alerts', label: 'Alerts', icon: BellRing, end: false },
];

const settingsNav = [
  { to: '/settings/api-keys', label: 'API keys', icon: KeyRound, end: false, permission: 'keys.manage' },
  { to: '/webhooks', label: 'Webhooks', icon: Webhook, end: false, permission: 'webhooks.manage' },
  { to: '/settings/members', label: 'Members', icon: Users, end: false, permission: null },
  { to: '/settings/audit', label: 'Audit log', icon: ScrollText, end: false, permission: 'audit.read' },
  { to: '/settings', label: 'Settings', icon: Settings, end: true, permission: null },
];

const linkClass = ({ isActive }: { isActive: boolean }) =>
  cn(
    'flex items-center gap-2 rounded-md px-3 py-2 text-sm whitespace-nowrap',
    isActive ? 'bg-indigo-50 font-medium text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300' : 'text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800',
  );

/** `/` focuses the page's search box (the jobs page's when the page has none), `g x` navigates, `?` lists them. */
function useShortcuts(showHelp: () => void) {
  const navigate = useNavigate();
  useEffect(() => {
    const handle = createShortcutHandler({
      navigate: (path) => navigate(path),
      focusSearch: () => {
        const box = document.querySelector<HTMLElement>('[data-search]');
        if (box) box.focus();
        else navigate('/jobs', { state: { focusSearch: true } });
      },
      showHelp,
    });
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('[role="dialog"]')) return;
      if (handle(e)) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate, showHelp]);
}

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  useEffect(() => {
    applyTheme(theme);
    if (theme !== 'system') return;
    const media = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => applyTheme('system');
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, [theme]);
  const next: Theme = resolvedTheme(theme) === 'dark' ? 'light' : 'dark';
  return (
    <Button variant="ghost" size="icon" aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`} onClick={() => setTheme(next)}>
      {next === 'light' ? <Sun className="h-4 w-4" /> : <Moon className="h-4 w-4" />}
    </Button>
  );
}

export function AppShell() {
  const me = useMe().data;
  const qc = useQueryClient();
  const live = useLiveEvents(qc, !!me);
  const [help, setHelp] = useState(false);
  useShortcuts(() => setHelp(true));
  const settings = settingsNav.filter((n) => !n.permission || me?.permissions.includes(n.permission));

  return (
    <div className="relative flex min-h-full flex-col md:flex-row">
      <aside className="flex shrink-0 flex-col border-b border-zinc-200 bg-white md:sticky md:top-0 md:h-screen md:w-56 md:overflow-y-auto md:border-r md:border-b-0 dark:border-zinc-800 dark:bg-zinc-900">
        <div className="flex items-center gap-2 px-4 py-4 font-semibold">
          <Clock className="h-5 w-5 text-indigo-600" aria-hidden />
          <span>Kairos</span>
        </div>
        <OrganizationSwitcher />
        <nav aria-label="Main" className="flex gap-1 overflow-x-auto px-2 pb-2 md:flex-1 md:flex-col">
          {nav.map(({ to, label, icon: Icon, end }) => (
            <NavLink key={to} to={to} end={end} className={linkClass}>
              <Icon className="h-4 w-4" aria-hidden />
              {label}
            </NavLink>
          ))}
          <div className="hidden px-3 pt-4 pb-1 text-xs font-medium tracking-wide text-zinc-400 uppercase md:block">Organization</div>
          {settings.map(({ to, label, icon: Icon, end }) => (
            <NavLink key={to} to={to} end={end} className={linkClass}>
              <Icon className="h-4 w-4" aria-hidden />
              {label}
            </NavLink>
          ))}
        </nav>
        <button
          type="button"
          onClick={() => setHelp(true)}
          className="m-2 hidden items-center gap-2 rounded-md px-3 py-2 text-xs text-zinc-500 hover:bg-zinc-100 md:flex dark:hover:bg-zinc-800"
        >
          <Keyboard className="h-4 w-4" aria-hidden /> Shortcuts <kbd className="ml-auto rounded border border-zinc-300 px-1 font-mono dark:border-zinc-700">?</kbd>
        </button>
      </aside>
      {help && (
        <Suspense fallback={null}>
          <ShortcutsHelp open onOpenChange={setHelp} />
        </Suspense>
      )}
      <Toaster />
      <div className="flex min-w-0 flex-1 flex-col">
        {/* On a phone the header sits in the logo row, top right; from md on it is the bar above the page. */}
        <header className="absolute top-0 right-0 flex h-14 items-center justify-end gap-3 px-4 md:static md:border-b md:border-zinc-200 md:bg-white md:dark:border-zinc-800 md:dark:bg-zinc-900">
          <LiveIndicator status={live} />
          <ThemeToggle />
          <UserMenu
            trigger={
              <Button variant="ghost" size="icon" aria-label="User menu">
                <User className="h-4 w-4" />
              </Button>
            }
          />
        </header>
        <main className="mx-auto w-full max-w-7xl flex-1 p-4 md:p-8">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
