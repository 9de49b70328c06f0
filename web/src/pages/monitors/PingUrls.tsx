import { useState } from 'react';
import { CopyButton } from '@/components/CopyButton';
import { cn } from '@/lib/utils';
import type { Monitor } from './monitorForm';
import { pingUrls, snippets } from './snippets';

function UrlRow({ label, url, hint }: { label: string; url: string; hint: string }) {
  return (
    <div className="space-y-1">
      <div className="flex items-baseline justify-between gap-2 text-xs"><span className="font-medium">{label}</span><span className="text-zinc-500">{hint}</span></div>
      <div className="flex items-center gap-2">
        <code className="min-w-0 flex-1 truncate rounded bg-zinc-100 px-2 py-1.5 font-mono text-xs dark:bg-zinc-800" title={url} data-ping-url={label}>{url}</code>
        <CopyButton text={url} label={`Copy the ${label.toLowerCase()} URL`} />
      </div>
    </div>
  );
}

const TABS = [
  { id: 'curl', label: 'curl' },
  { id: 'crontab', label: 'crontab' },
  { id: 'cli', label: 'kairos CLI' },
] as const;

/** The monitor's ping URLs with copy buttons, and snippets for curl, a crontab line and the CLI's wrapper. */
export function PingUrls({ monitor }: { monitor: Monitor }) {
  const [tab, setTab] = useState<(typeof TABS)[number]['id']>('curl');
  if (!monitor.ping_url) {
    return <p className="text-sm text-zinc-500">The ping URL is shown to members who may change monitors.</p>;
  }
  const u = pingUrls(monitor.ping_url);
  const s = snippets(monitor)!;
  const text = tab === 'curl' ? s.curl : tab === 'crontab' ? s.crontab : s.cli;
  return (
    <div className="space-y-4">
      <div className="space-y-3">
        <UrlRow label="Success" url={u.success} hint="GET, HEAD or POST; a POST body is kept as the log" />
        <UrlRow label="Start" url={u.start} hint="a run began (for its duration)" />
        <UrlRow label="Fail" url={u.fail} hint="the run failed" />
        <UrlRow label="Exit code" url={u.exitCode} hint="0 a success, 1-255 a failure" />
      </div>
      <p className="text-xs text-zinc-500">Add <code className="font-mono">?rid=ID</code> to pair a start with its end when runs overlap. The URL is the only credential: keep it like a password.</p>
      <div>
        <div role="tablist" aria-label="Snippets" className="flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              aria-selected={tab === t.id}
              onClick={() => setTab(t.id)}
              className={cn('-mb-px border-b-2 px-3 py-1.5 text-xs font-medium', tab === t.id ? 'border-indigo-600 text-indigo-700 dark:text-indigo-300' : 'border-transparent text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200')}
            >
              {t.label}
            </button>
          ))}
        </div>
        <div className="relative mt-2" role="tabpanel">
          <pre className="rounded-md bg-zinc-950 p-3 pr-12 font-mono text-xs leading-relaxed break-all whitespace-pre-wrap text-zinc-100" data-snippet={tab}>{text}</pre>
          <div className="absolute top-2 right-2"><CopyButton text={text} label={`Copy the ${tab} snippet`} /></div>
        </div>
        {tab === 'crontab' && <p className="mt-1 text-xs text-zinc-500">Start, then the command's output as the log and its exit code as the outcome. Replace the command with yours{monitor.cron ? `; the crontab runs in the machine's time zone, the monitor expects ${monitor.timezone}` : ''}.</p>}
        {tab === 'cli' && <p className="mt-1 text-xs text-zinc-500">Sends start, runs the command, then success or failure with the exit code and the tail of the output.</p>}
      </div>
    </div>
  );
}
