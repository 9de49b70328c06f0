import { useMemo } from 'react';
import { WandSparkles } from 'lucide-react';
import { checkJson } from '@/lib/json';
import { Button } from './ui/button';
import { Textarea } from './ui/textarea';
import { cn } from '@/lib/utils';

/** A JSON text field that checks what is typed (line and column of the first mistake) and can format it. */
export function JsonEditor({ id, value, onChange, rows = 8, serverErrors = [] }: { id: string; value: string; onChange: (text: string) => void; rows?: number; serverErrors?: string[] }) {
  const check = useMemo(() => checkJson(value), [value]);
  const problem = !check.ok ? `${check.line ? `Line ${check.line}, column ${check.column}: ` : ''}${check.message}` : null;
  return (
    <div className="space-y-1.5">
      <div className="relative">
        <Textarea
          id={id}
          value={value}
          rows={rows}
          spellCheck={false}
          aria-invalid={!check.ok}
          aria-describedby={`${id}-status`}
          onChange={(e) => onChange(e.target.value)}
          className={cn('font-mono text-xs', !check.ok && 'border-red-400 focus:border-red-500 focus:ring-red-500/30')}
        />
        <Button
          type="button"
          variant="outline"
          size="sm"
          className="absolute top-1.5 right-1.5 h-7"
          disabled={!check.ok}
          onClick={() => check.ok && onChange(JSON.stringify(check.value, null, 2))}
        >
          <WandSparkles className="h-3.5 w-3.5" /> Format
        </Button>
      </div>
      <p id={`${id}-status`} className={cn('text-xs', problem || serverErrors.length ? 'text-red-600 dark:text-red-400' : 'text-emerald-700 dark:text-emerald-400')} data-json-valid={check.ok}>
        {problem ?? (serverErrors.length ? serverErrors.join(' ') : 'Valid JSON')}
      </p>
    </div>
  );
}
