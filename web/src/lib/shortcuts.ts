/** Keyboard shortcuts: `/` focuses the search, `g` then a letter goes to a page, `n` creates a job, `?` lists them. */
export const GO_TO: Readonly<Record<string, { path: string; label: string }>> = {
  d: { path: '/', label: 'Dashboard' },
  j: { path: '/jobs', label: 'Jobs' },
  q: { path: '/queues', label: 'Queues' },
  w: { path: '/workers', label: 'Workers' },
  s: { path: '/schedules', label: 'Schedules' },
  f: { path: '/workflows', label: 'Workflows' },
  h: { path: '/monitors', label: 'Monitors' },
  k: { path: '/settings/api-keys', label: 'API keys' },
  m: { path: '/settings/members', label: 'Members' },
  a: { path: '/settings/audit', label: 'Audit log' },
  o: { path: '/settings', label: 'Settings' },
};

export const SHORTCUTS: readonly { keys: string; label: string }[] = [
  { keys: '/', label: 'Search jobs' },
  { keys: 'n', label: 'New job' },
  ...Object.entries(GO_TO).map(([k, v]) => ({ keys: `g ${k}`, label: `Go to ${v.label}` })),
  { keys: '?', label: 'Show these shortcuts' },
];

/** How long after `g` the second key counts, in ms. */
const SEQUENCE_MS = 1500;

export interface KeyLike {
  key: string;
  timeStamp: number;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target?: EventTarget | null;
}

export interface ShortcutActions {
  navigate: (path: string) => void;
  focusSearch: () => void;
  showHelp: () => void;
}

/** Whether the key went to something one types into (then it is text, not a shortcut). */
export function isTyping(target: EventTarget | null | undefined): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

/** A key handler; answers whether it used the key (then the caller prevents its default). */
export function createShortcutHandler(actions: ShortcutActions): (e: KeyLike) => boolean {
  let pendingG = -Infinity;
  return (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return false;
    const afterG = e.timeStamp - pendingG <= SEQUENCE_MS;
    pendingG = -Infinity;
    if (afterG) {
      const to = GO_TO[e.key];
      if (to) {
        actions.navigate(to.path);
        return true;
      }
      return false;
    }
    switch (e.key) {
      case 'g':
        pendingG = e.timeStamp;
        return true;
      case '/':
        actions.focusSearch();
        return true;
      case 'n':
        actions.navigate('/jobs/new');
        return true;
      case '?':
        actions.showHelp();
        return true;
      default:
        return false;
    }
  };
}
