import { describe, expect, it } from 'vitest';
import { formatCount } from './utils';

describe('formatCount', () => {
  it('groups thousands with commas, as toLocaleString does in English, without Intl', () => {
    for (const n of [0, 7, 999, 1000, 1500, 12345, 999999, 1000000, 1234567890, -1, -1500, -1234567]) {
      expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    }
  });

  it('leaves fractions to toLocaleString', () => {
    expect(formatCount(1234.5)).toBe((1234.5).toLocaleString());
  });
});
