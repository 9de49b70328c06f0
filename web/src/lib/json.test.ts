import { describe, expect, it } from 'vitest';
import { checkJson, errorPosition } from './json';

describe('checkJson', () => {
  it('gives the value of valid JSON', () => {
    expect(checkJson('{"to": "a@example.com", "n": [1, 2]}')).toEqual({ ok: true, value: { to: 'a@example.com', n: [1, 2] } });
    expect(checkJson('null')).toEqual({ ok: true, value: null });
  });

  it('says where invalid JSON goes wrong, by line and column', () => {
    const r = checkJson('{\n  "to": "a",\n  oops: 1\n}');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect([r.line, r.column]).toEqual([3, 3]);
    expect(r.message).not.toMatch(/position|line \d/);
  });

  it('refuses an empty text', () => {
    expect(checkJson('  ').ok).toBe(false);
  });
});

describe('errorPosition', () => {
  it('finds where the text first goes wrong', () => {
    expect(errorPosition('{"a": }')).toBe(6);
    expect(errorPosition('[1, 2,]')).toBe(6);
    expect(errorPosition('{"a": 1} x')).toBe(9);
    expect(errorPosition('{"a": "unterminated')).toBe(19);
    expect(errorPosition('{"a": tru}')).toBe(9);
    expect(errorPosition('{"a": [1, {"b": null}], "c": -1.5e3}')).toBeNull();
  });
});
