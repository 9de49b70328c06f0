import type { ReactNode } from 'react';
import { ApiError } from '@/api/client';
import { Label } from './input';

/** The server's messages for one field of a 400 (problem details `errors`), if the error is one. */
export function fieldErrors(error: unknown, ...names: string[]): string[] {
  if (!(error instanceof ApiError) || !error.errors) return [];
  return names.flatMap((n) => error.errors?.[n] ?? []);
}

/** A labelled field with its hint and the errors the server or the form found for it. */
export function FormField({ id, label, hint, errors = [], children, className }: { id: string; label: ReactNode; hint?: ReactNode; errors?: string[]; children: ReactNode; className?: string }) {
  return (
    <div className={className ?? 'space-y-1.5'}>
      <Label htmlFor={id}>{label}</Label>
      {children}
      {errors.map((e) => (
        <p key={e} className="text-xs text-red-600 dark:text-red-400" data-field-error={id}>{e}</p>
      ))}
      {hint && errors.length === 0 && <p className="text-xs text-zinc-500">{hint}</p>}
    </div>
  );
}
