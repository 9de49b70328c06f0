import { describe, expect, it, vi } from 'vitest';
import { chunk } from './chunk';

describe('chunk', () => {
  it('imports once however often it is loaded, and keeps the module once loaded', async () => {
    const module = { Page: 'page' };
    const importer = vi.fn(() => Promise.resolve(module));
    const c = chunk(importer);
    expect(c.loaded()).toBeUndefined();
    const [a, b] = await Promise.all([c.load(), c.load()]);
    expect(a).toBe(module);
    expect(b).toBe(module);
    expect(c.loaded()).toBe(module);
    await c.load();
    expect(importer).toHaveBeenCalledTimes(1);
  });

  it('tries a failed import again at the next load', async () => {
    const importer = vi.fn().mockRejectedValueOnce(new Error('offline')).mockResolvedValueOnce({ Page: 'page' });
    const c = chunk(importer);
    await expect(c.load()).rejects.toThrow('offline');
    expect(c.loaded()).toBeUndefined();
    expect(await c.load()).toEqual({ Page: 'page' });
    expect(importer).toHaveBeenCalledTimes(2);
  });
});
