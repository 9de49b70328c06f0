/**
 * A whole number typed in a form: null when the field is empty, else the number; a text that is not a whole number of
 * at least `min` adds a message for `field` to `errors` (and gives null).
 */
export function parseWhole(text: string, field: string, errors: Record<string, string[]>, min: number = Number.MIN_SAFE_INTEGER): number | null {
  const t = text.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isInteger(n) || n < min) {
    errors[field] = [min > Number.MIN_SAFE_INTEGER ? `must be a whole number of at least ${min}` : 'must be a whole number'];
    return null;
  }
  return n;
}
