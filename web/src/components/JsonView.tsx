import { useState } from 'react';
import { ChevronDown, ChevronRight } from 'lucide-react';
import { CopyButton } from './CopyButton';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isContainer = (v: unknown): v is Json[] | Record<string, Json> => typeof v === 'object' && v !== null;

function Scalar({ value }: { value: Json }) {
  if (value === null) return <span className="text-zinc-500">null</span>;
  if (typeof value === 'string') return <span className="break-all text-emerald-700 dark:text-emerald-400">{JSON.stringify(value)}</span>;
  if (typeof value === 'number') return <span className="text-sky-700 dark:text-sky-400">{value}</span>;
  return <span className="text-violet-700 dark:text-violet-400">{String(value)}</span>;
}

function Node({ name, value, depth, last, open: initiallyOpen }: { name?: string; value: Json; depth: number; last: boolean; open: number }) {
  const [open, setOpen] = useState(depth < initiallyOpen);
  const comma = last ? '' : ',';
  const label = name !== undefined && <span className="text-zinc-700 dark:text-zinc-300">{JSON.stringify(name)}: </span>;
  if (!isContainer(value)) {
    return (
      <div style={{ paddingLeft: `${depth + 1}rem` }}>
        {label}<Scalar value={value} />{comma}
      </div>
    );
  }
  const entries: [string | undefined, Json][] = Array.isArray(value) ? value.map((v) => [undefined, v]) : Object.entries(value);
  const [openBrace, closeBrace] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    return <div style={{ paddingLeft: `${depth + 1}rem` }}>{label}{openBrace}{closeBrace}{comma}</div>;
  }
  const count = Array.isArray(value) ? `${entries.length} item${entries.length === 1 ? '' : 's'}` : `${entries.length} key${entries.length === 1 ? '' : 's'}`;
  return (
    <div>
      <div className="relative" style={{ paddingLeft: `${depth + 1}rem` }}>
        <button
          type="button"
          aria-expanded={open}
          aria-label={`${open ? 'Collapse' : 'Expand'} ${name ?? (depth === 0 ? 'all' : 'item')}`}
          onClick={() => setOpen(!open)}
          className="absolute top-0.5 text-zinc-400 hover:text-zinc-700 dark:hover:text-zinc-200"
          style={{ left: `${depth}rem` }}
        >
          {open ? <ChevronDown className="h-3.5 w-3.5" /> : <ChevronRight className="h-3.5 w-3.5" />}
        </button>
        {label}{openBrace}
        {!open && <><span className="text-zinc-500"> … {count} </span>{closeBrace}{comma}</>}
      </div>
      {open && (
        <>
          {entries.map(([k, v], i) => (
            <Node key={k ?? i} name={k} value={v} depth={depth + 1} last={i === entries.length - 1} open={initiallyOpen} />
          ))}
          <div style={{ paddingLeft: `${depth + 1}rem` }}>{closeBrace}{comma}</div>
        </>
      )}
    </div>
  );
}

/** JSON as a tree whose objects and arrays fold (the first levels open), with a copy button for the whole value. */
export function JsonView({ value, label, open = 3 }: { value: unknown; label: string; open?: number }) {
  const json = (value === undefined ? null : value) as Json;
  return (
    <div className="relative">
      <div className="absolute top-1.5 right-1.5">
        <CopyButton text={JSON.stringify(json, null, 2)} label={`Copy ${label.toLowerCase()}`} />
      </div>
      <div aria-label={label} role="tree" className="max-h-96 overflow-auto rounded-md bg-zinc-100 py-3 pr-10 font-mono text-xs leading-relaxed dark:bg-zinc-950">
        <Node value={json} depth={0} last open={open} />
      </div>
    </div>
  );
}
