import { Modal } from '@/components/ui/dialog';
import { SHORTCUTS } from '@/lib/shortcuts';

export function ShortcutsHelp({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  return (
    <Modal open={open} onOpenChange={onOpenChange} title="Keyboard shortcuts">
      <dl className="grid grid-cols-[auto_1fr] gap-x-6 gap-y-2 text-sm">
        {SHORTCUTS.map((s) => (
          <div key={s.keys} className="contents">
            <dt>
              {s.keys.split(' ').map((k, i) => (
                <kbd key={i} className="mr-1 rounded border border-zinc-300 bg-zinc-50 px-1.5 py-0.5 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-800">{k}</kbd>
              ))}
            </dt>
            <dd className="text-zinc-600 dark:text-zinc-400">{s.label}</dd>
          </div>
        ))}
      </dl>
    </Modal>
  );
}
