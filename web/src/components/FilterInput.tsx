import { Input, Label } from './ui/input';

/** A text filter kept in the address: applied on Enter or when the field is left. */
export function FilterInput({ id, label, value, placeholder, onApply }: { id: string; label: string; value: string | undefined; placeholder?: string; onApply: (value: string) => void }) {
  return (
    <div className="space-y-1">
      <Label htmlFor={id}>{label}</Label>
      <Input
        id={id}
        placeholder={placeholder}
        defaultValue={value ?? ''}
        key={value ?? ''}
        onKeyDown={(e) => e.key === 'Enter' && onApply(e.currentTarget.value.trim())}
        onBlur={(e) => e.currentTarget.value.trim() !== (value ?? '') && onApply(e.currentTarget.value.trim())}
      />
    </div>
  );
}
