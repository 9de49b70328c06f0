import { useMutation, useQueryClient } from '@tanstack/react-query';
import { KeyRound } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useOrganizationPingKey } from '@/api/queries';
import { CopyButton } from '@/components/CopyButton';
import { ErrorNote, Skeleton } from '@/components/PageHeader';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/dialog';
import { toast } from '@/lib/toast';
import { formatTime } from '@/lib/utils';
import { slugPingUrls } from './snippets';

/**
 * The organization's ping key, for slug ping URLs (`/ping/{key}/{slug}`: one key for every monitor, each named by its
 * slug), with the URL forms to copy; make the key, or a new one (the old one stops working).
 */
export function OrganizationPingKey() {
  const qc = useQueryClient();
  const key = useOrganizationPingKey(true);
  const regenerate = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/monitors/ping-key')),
    onSuccess: (k) => { qc.setQueryData(keys.organizationPingKey, k); toast.success('New organization ping key', 'Slug URLs with the old key no longer work.'); },
    onError: (e) => toast.error(e),
  });
  const k = key.data;
  const urls = k?.ping_url_prefix ? slugPingUrls(k.ping_url_prefix) : null;
  return (
    <section className="mt-6 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800" aria-labelledby="org-ping-key">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 id="org-ping-key" className="flex items-center gap-2 text-sm font-semibold"><KeyRound className="h-4 w-4 text-indigo-500" aria-hidden /> Slug ping URLs</h2>
        {k && (k.ping_key ? (
          <ConfirmDialog
            trigger={<Button variant="outline" size="sm" disabled={regenerate.isPending}>New key</Button>}
            title="Make a new organization ping key?"
            description="Every slug ping URL with the current key stops working at once; monitors' own ping URLs are not affected."
            confirmLabel="Make a new key"
            destructive
            onConfirm={() => regenerate.mutate()}
          />
        ) : <Button size="sm" onClick={() => regenerate.mutate()} disabled={regenerate.isPending}>Make a key</Button>)}
      </div>
      <p className="mb-3 text-xs text-zinc-500">One key for every monitor of the organization: ping a monitor by its slug, e.g. from a template shared by many jobs. Keep the key like a password.</p>
      {key.isPending && <Skeleton />}
      <ErrorNote error={key.error} />
      {k && !k.ping_key && <p className="text-sm text-zinc-500">No organization ping key yet.</p>}
      {k?.ping_key && urls && (
        <div className="space-y-2">
          <div className="flex items-center gap-2 text-xs">
            <span className="w-20 shrink-0 font-medium">Key</span>
            <code className="min-w-0 flex-1 truncate rounded bg-zinc-100 px-2 py-1.5 font-mono dark:bg-zinc-800" data-org-ping-key>{k.ping_key}</code>
            <CopyButton text={k.ping_key} label="Copy the organization ping key" />
          </div>
          {([['Success', urls.success], ['Start', urls.start], ['Fail', urls.fail], ['Exit code', urls.exitCode]] as const).map(([label, url]) => (
            <div key={label} className="flex items-center gap-2 text-xs">
              <span className="w-20 shrink-0 font-medium">{label}</span>
              <code className="min-w-0 flex-1 truncate rounded bg-zinc-100 px-2 py-1.5 font-mono dark:bg-zinc-800" title={url} data-slug-url={label}>{url}</code>
              <CopyButton text={url} label={`Copy the slug ${label.toLowerCase()} URL`} />
            </div>
          ))}
          <p className="text-xs text-zinc-500">Made {formatTime(k.created_at)}. Replace <code className="font-mono">{'{slug}'}</code> with a monitor's slug: <code className="font-mono">{slugPingUrls(k.ping_url_prefix!, 'nightly-backup').curl}</code></p>
        </div>
      )}
    </section>
  );
}
