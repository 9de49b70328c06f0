/** JSON, pretty-printed in a scrollable block (payloads and results). */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  const text = value === undefined ? 'null' : JSON.stringify(value, null, 2);
  return (
    <pre aria-label={label} className="max-h-96 overflow-auto rounded-md bg-zinc-100 p-3 font-mono text-xs leading-relaxed dark:bg-zinc-950">
      {text}
    </pre>
  );
}
