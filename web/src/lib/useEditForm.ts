import { useEffect, useState } from 'react';
import { fieldErrors } from '@/components/ui/form';

/**
 * The state of a create-or-edit form: the form as typed (the empty one, or the existing object's once it has loaded
 * when editing), the fields the form itself found wrong (`setLocal` on submit), a setter per text field, and `errs`:
 * a field's messages from the form and from the server's answer to the save.
 */
export function useEditForm<F extends object, T>(empty: () => F, existing: T | undefined, toForm: (t: T) => F, editing: boolean, saveError: unknown) {
  const [form, setForm] = useState<F>(empty);
  const [local, setLocal] = useState<Record<string, string[]>>({});
  const [loaded, setLoaded] = useState(!editing);
  useEffect(() => {
    if (editing && existing && !loaded) {
      setForm(toForm(existing));
      setLoaded(true);
    }
  }, [editing, existing, loaded, toForm]);
  const set = <K extends keyof F>(k: K) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const errs = (...names: string[]) => [...names.flatMap((n) => local[n] ?? []), ...fieldErrors(saveError, ...names)];
  return { form, setForm, local, setLocal, set, errs };
}
