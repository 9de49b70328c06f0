/** A tiny toast store: pages call toast.success/error, the one <Toaster/> in the shell shows them. */
export type ToastKind = 'success' | 'error' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  detail?: string;
}

type Listener = (toasts: readonly Toast[]) => void;

let toasts: readonly Toast[] = [];
let next = 1;
const listeners = new Set<Listener>();
const timers = new Map<number, ReturnType<typeof setTimeout>>();

function emit() {
  for (const l of listeners) l(toasts);
}

export function dismiss(id: number): void {
  clearTimeout(timers.get(id));
  timers.delete(id);
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

function show(kind: ToastKind, title: string, detail?: string, ms = kind === 'error' ? 8000 : 4000): number {
  const id = next++;
  // At most five at once: the oldest goes first.
  toasts = [...toasts.slice(-4), { id, kind, title, detail }];
  timers.set(id, setTimeout(() => dismiss(id), ms));
  emit();
  return id;
}

export const toast = {
  success: (title: string, detail?: string) => show('success', title, detail),
  info: (title: string, detail?: string) => show('info', title, detail),
  /** An error (ApiError: its title and detail) or a message. */
  error: (error: unknown, title = 'That did not work') =>
    show('error', title, error instanceof Error ? error.message : typeof error === 'string' ? error : undefined),
};

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function current(): readonly Toast[] {
  return toasts;
}
