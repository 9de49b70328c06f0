import { useSyncExternalStore } from 'react';
import { CheckCircle2, Info, X, XCircle } from 'lucide-react';
import { current, dismiss, subscribe, type ToastKind } from '@/lib/toast';
import { cn } from '@/lib/utils';

const icons: Record<ToastKind, typeof Info> = { success: CheckCircle2, error: XCircle, info: Info };
const tones: Record<ToastKind, string> = {
  success: 'text-emerald-600 dark:text-emerald-400',
  error: 'text-red-600 dark:text-red-400',
  info: 'text-indigo-600 dark:text-indigo-400',
};

/** The toasts of the moment, bottom right (bottom, full width on a phone); announced politely to screen readers. */
export function Toaster() {
  const toasts = useSyncExternalStore(subscribe, current, current);
  return (
    <ol aria-live="polite" aria-label="Notifications" className="pointer-events-none fixed inset-x-0 bottom-0 z-[60] flex flex-col items-center gap-2 p-4 sm:items-end">
      {toasts.map((t) => {
        const Icon = icons[t.kind];
        return (
          <li
            key={t.id}
            role={t.kind === 'error' ? 'alert' : 'status'}
            data-toast={t.kind}
            className="pointer-events-auto flex w-full max-w-sm items-start gap-3 rounded-lg border border-zinc-200 bg-white p-3 text-sm shadow-lg dark:border-zinc-800 dark:bg-zinc-900"
          >
            <Icon className={cn('mt-0.5 h-4 w-4 shrink-0', tones[t.kind])} aria-hidden />
            <div className="min-w-0 flex-1">
              <div className="font-medium">{t.title}</div>
              {t.detail && <div className="mt-0.5 break-words text-zinc-500">{t.detail}</div>}
            </div>
            <button type="button" aria-label="Dismiss" className="text-zinc-400 hover:text-zinc-600" onClick={() => dismiss(t.id)}>
              <X className="h-4 w-4" />
            </button>
          </li>
        );
      })}
    </ol>
  );
}
