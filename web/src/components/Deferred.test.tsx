import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { ReactElement } from 'react';
import { deferred } from './Deferred';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** A menu as the shell's are: its button (`trigger`) and, open, its items. */
function Menu({ trigger, defaultOpen, items }: { trigger: ReactElement; defaultOpen?: boolean; items: string[] }) {
  return (
    <div data-testid="menu">
      {trigger}
      {defaultOpen && <ul role="menu">{items.map((i) => <li key={i} role="menuitem">{i}</li>)}</ul>}
    </div>
  );
}

/** The browser never idle (nothing loads by itself), or idle at once. */
const idle = (never: boolean) => {
  vi.stubGlobal('requestIdleCallback', (run: () => void) => (never ? 1 : setTimeout(run, 0)));
  vi.stubGlobal('cancelIdleCallback', () => {});
};

describe('deferred', () => {
  it('shows only the button until the page is idle, then the menu behind it, closed', async () => {
    idle(false);
    const importer = vi.fn(() => Promise.resolve(Menu));
    const Lazy = deferred(importer);
    render(<Lazy trigger={<button type="button">Open</button>} items={['Sign out']} />);
    expect(screen.getByRole('button', { name: 'Open' })).toBeTruthy();
    expect(await screen.findByTestId('menu')).toBeTruthy();
    expect(importer).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('menu')).toBeNull();
  });

  it('loads the code when the pointer comes over the button, and opens the menu on a click before the page was idle', async () => {
    idle(true);
    const importer = vi.fn(() => Promise.resolve(Menu));
    const Lazy = deferred(importer);
    render(<Lazy trigger={<button type="button">Open</button>} items={['Profile', 'Sign out']} />);
    expect(importer).not.toHaveBeenCalled();
    fireEvent.pointerEnter(screen.getByRole('button', { name: 'Open' }));
    expect(importer).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId('menu')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    expect(await screen.findByRole('menuitem', { name: 'Sign out' })).toBeTruthy();
    expect(importer).toHaveBeenCalledTimes(1);
  });

  it('asks for the code again after a failed load', async () => {
    idle(true);
    const importer = vi.fn<() => Promise<typeof Menu>>().mockRejectedValueOnce(new Error('offline')).mockResolvedValue(Menu);
    const Lazy = deferred(importer);
    render(<Lazy trigger={<button type="button">Open</button>} items={['Sign out']} />);
    fireEvent.pointerEnter(screen.getByRole('button', { name: 'Open' }));
    await vi.waitFor(() => expect(importer).toHaveBeenCalledTimes(1));
    await Promise.resolve();
    fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    expect(await screen.findByRole('menuitem', { name: 'Sign out' })).toBeTruthy();
    expect(importer).toHaveBeenCalledTimes(2);
  });
});
