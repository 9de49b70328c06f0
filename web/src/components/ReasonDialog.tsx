import { useState, type FormEvent, type ReactNode } from 'react';
import { Button } from './ui/button';
import { Input, Label } from './ui/input';
import { Modal } from './ui/dialog';

/** A confirm dialog that asks for an optional reason (pausing a queue or a schedule). */
export function ReasonDialog({ trigger, title, description, confirmLabel, onConfirm }: {
  trigger: ReactNode;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  onConfirm: (reason: string | null) => void;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onConfirm(reason.trim() || null);
    setOpen(false);
    setReason('');
  };
  return (
    <Modal trigger={trigger} open={open} onOpenChange={setOpen} title={title} description={description}>
        <form onSubmit={submit} className="space-y-4">
          <div className="space-y-1.5">
            <Label htmlFor="reason">Reason (optional)</Label>
            <Input id="reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. deploying the mail service" autoFocus />
          </div>
          <div className="flex justify-end gap-2">
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>Keep it</Button>
            <Button type="submit">{confirmLabel}</Button>
          </div>
        </form>
    </Modal>
  );
}
