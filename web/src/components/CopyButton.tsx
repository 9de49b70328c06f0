import { useEffect, useRef, useState } from 'react';
import { Check, Copy } from 'lucide-react';
import { Button } from './ui/button';
import { toast } from '@/lib/toast';

/** Copies a text to the clipboard and says so. */
export function CopyButton({ text, label = 'Copy', withText = false }: { text: string; label?: string; withText?: boolean }) {
  const [copied, setCopied] = useState(false);
  // The "copied" tick goes back after a moment, unless the button is gone by then.
  const reset = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(reset.current), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      clearTimeout(reset.current);
      reset.current = setTimeout(() => setCopied(false), 1500);
    } catch {
      toast.error('The browser refused the clipboard: select the text and copy it by hand.', 'Not copied');
    }
  };
  return (
    <Button type="button" variant="outline" size={withText ? 'sm' : 'icon'} className={withText ? '' : 'h-7 w-7'} aria-label={label} title={label} onClick={copy}>
      {copied ? <Check className="h-3.5 w-3.5 text-emerald-600" /> : <Copy className="h-3.5 w-3.5" />}
      {withText && (copied ? 'Copied' : 'Copy')}
    </Button>
  );
}
